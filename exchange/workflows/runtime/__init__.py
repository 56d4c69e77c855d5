"""The generic faust-streaming runtime every workflow stands on (DESIGN.md section 5).

- :mod:`.context`        :class:`WorkflowContext` (codec, topology, clock, encoder, protection)
- :mod:`.app`            :func:`create_app`, the app factory
- :mod:`.streams`        :class:`Streams`: one agent per source topic, ``emit``, tables, tickers
- :mod:`.guard`          :class:`Guard`: dedupe, decode, handle, dead-letter; never drop
- :mod:`.batches`        batched topics (``Streams.on_batch``): ``take_events``, one Guard pass
- :mod:`.ticker`         one timer → tick topic → tick agent loop for every deadline
- :mod:`.emit`           :func:`send`, the one way a record leaves the worker
- :mod:`.records`        :class:`Incoming` and the dedupe key
- :mod:`.metrics`        :class:`WorkflowMetrics`, every workflow's metrics
- :mod:`.protection`     the protected mode: verify and open inputs, seal outputs and state
- :mod:`.faust_patches`  every use of faust's and aiokafka's private internals, version-checked

Messages a workflow sends while handling an event go out at once (:func:`send`), not as faust
*attachments* (held until the source offset's commit, which cost every dispatch up to a commit
interval). At-least-once holds because faust flushes the producer before it commits offsets, and
a record the broker refuses for good crashes the worker. CloudEvents ids are derived from the
source event's, so a replay after a crash produces the same ids and receivers drop the copy.
"""

from exchange.workflows.runtime.app import create_app
from exchange.workflows.runtime.context import (
    AGENCY,
    Handler,
    Outcome,
    Protection,
    Workflow,
    WorkflowContext,
)
from exchange.workflows.runtime.guard import Guard
from exchange.workflows.runtime.metrics import WorkflowMetrics
from exchange.workflows.runtime.records import Incoming
from exchange.workflows.runtime.streams import Streams
from exchange.workflows.runtime.ticker import Ticker

__all__ = [
    "AGENCY",
    "Guard",
    "Handler",
    "Incoming",
    "Outcome",
    "Protection",
    "Streams",
    "Ticker",
    "Workflow",
    "WorkflowContext",
    "WorkflowMetrics",
    "create_app",
]
