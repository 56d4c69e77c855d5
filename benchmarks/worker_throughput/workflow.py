"""Everything the worker benchmark takes from :mod:`exchange.workflows`, in one place, so that a
move of the workflows' modules is fixed here alone (:mod:`benchmarks.faust_floor`, a faust app
of its own, imports the runtime directly).

- the agency the worker acts as (``workflows``), whose quarantine a protected worker fills;
- the worker's consumer group: the default ``app_id`` of
  :func:`exchange.workflows.runtime.create_app` (``workflows.main``);
- the sighting workflow's source topic, inbox naming and its pure dispatch planner
  (:mod:`exchange.workflows.sightings`).
"""

from __future__ import annotations

import inspect

from exchange.workflows.runtime import AGENCY, create_app
from exchange.workflows.sightings import SOURCE_TOPIC, inbox_of, plan_dispatches

__all__ = ["AGENCY", "INBOX", "SOURCE_TOPIC", "WORKER_GROUP", "plan_dispatches"]

INBOX = inbox_of("police")
WORKER_GROUP: str = inspect.signature(create_app).parameters["app_id"].default
