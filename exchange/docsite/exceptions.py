"""Errors of the documentation site.

::

    ExchangeError                           (exchange.errors)
    └── DocsiteError                        the site cannot be built truthfully; says why
"""

from __future__ import annotations

from exchange.errors import ExchangeError


class DocsiteError(ExchangeError):
    """The site cannot be built from the data as it is (e.g. a validation probe drifted)."""
