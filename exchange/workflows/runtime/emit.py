"""The one way a workflow's record leaves the worker: :func:`send` (and :func:`confirm`, to wait
for the acknowledgement of several sent at once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import faust

log = logging.getLogger(__name__)


async def send(
    app: faust.App, topic: Any, *, key: bytes | None, value: bytes | None,
    headers: Sequence[tuple[str, bytes]] | None = None, confirmed: bool = False,
) -> asyncio.Future[Any]:
    """Send a record now; with ``confirmed``, return once the broker acknowledged it.

    Not a faust attachment (``force=True``): faust flushes its producer before every offset
    commit, so an event's offset is committed only after what was sent while handling it is
    acknowledged. A record the producer gives up on (after its retries) crashes the worker, which
    resumes from the last committed offset; the replay re-sends with the same ids.

    ``confirmed`` is for an output a table write records next (the table's changelog record is
    sent by the same producer, possibly to a broker that acknowledges it first): unconfirmed, a
    crash could keep the write and lose the output, and the replay, finding the write, would not
    send it again. A confirmation that fails cancels the handling (the worker is stopping): the
    table is not written, and the input is not committed.

    Returns the delivery (a future): a handler sending several such outputs sends them all, then
    waits for them together with :func:`confirm`, one round trip rather than one each."""
    delivery: asyncio.Future[Any] = await topic.send(
        key=key, value=value, headers=list(headers or ()), force=True
    )
    delivery.add_done_callback(partial(_on_delivery, app))
    if confirmed:
        await confirm([delivery])
    return delivery


async def confirm(deliveries: Sequence[asyncio.Future[Any]]) -> None:
    """Return once every one of ``deliveries`` (from :func:`send`) is acknowledged by the broker;
    if one fails, cancel the handling (the worker is stopping, see :func:`send`)."""
    if not deliveries:
        return
    await asyncio.wait(deliveries)
    for delivery in deliveries:
        if delivery.cancelled() or delivery.exception() is not None:
            raise asyncio.CancelledError("not delivered: the worker stops")


def _on_delivery(app: faust.App, delivery: asyncio.Future[Any]) -> None:
    error = delivery.exception() if not delivery.cancelled() else asyncio.CancelledError()
    if error is not None:
        log.critical("a record was not delivered (%s): stopping the worker so that its events "
                     "are handled again after a restart", type(error).__name__)
        app.loop.create_task(app.crash(error))
