"""One fictional, valid example of every event type (``exchange example EVENT``), used by the
docs, the tests and the demo. :mod:`.core` holds the five core events and the look-ups,
:mod:`.intake` the intake and follow-up events.
"""

from exchange.examples.core import EXAMPLES, example, example_json

__all__ = ["EXAMPLES", "example", "example_json"]
