"""One timer loop for every workflow deadline: scan → tick topic → tick agent.

faust lets an agent change a table only while it handles an event of the table's partition, so
a timer cannot act on a deadline by itself. A :class:`Ticker` runs the workflow's ``scan``
every ``every`` seconds; the scan calls :meth:`Ticker.tick` for what is due, which sends a
record (key: the case key, so it lands on the partition of the table entry; value: the entry's
id) to the internal topic ``<app id>-<name>-ticks``, co-partitioned with ``source``; the tick
agent then hands them to the workflow under a :class:`~.guard.Guard` (failures are
dead-lettered). A tick for an entry that is no longer due must do nothing, so repeated ticks
are harmless.

The tick agent reads its topic in batches (``take_events``, as a batched source topic, under
:func:`~.faust_patches.handling`), so a backlog of ticks drains a batch at a time. A workflow
gives either ``on_tick`` (one record at a time) or ``on_ticks`` (the batch at once, see
:func:`~.batches.handle_raw_batch`): the latter lets a workflow whose ticks send confirmed
outputs send a batch's outputs, then wait for their acknowledgements together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

import faust

from exchange.workflows.runtime.batches import RawBatchFunction, handle_raw_batch, one_by_one
from exchange.workflows.runtime.emit import send
from exchange.workflows.runtime.faust_patches import handling
from exchange.workflows.runtime.guard import Guard
from exchange.workflows.runtime.records import Incoming

if TYPE_CHECKING:
    from exchange.workflows.runtime.streams import Streams


class Ticker:
    def __init__(
        self, streams: Streams, name: str, *, source: str,
        scan: Callable[[], Awaitable[None]],
        on_tick: Callable[[Incoming], Awaitable[None]] | None = None,
        on_ticks: RawBatchFunction | None = None, every: float = 1.0,
    ) -> None:
        if on_ticks is None and on_tick is not None:
            on_ticks = one_by_one(on_tick)
        elif on_ticks is None or on_tick is not None:
            raise TypeError("a ticker takes on_tick or on_ticks, one of them")
        handle = on_ticks
        app = self.app = streams.app
        context = streams.context
        partitions = context.topology.topic(source).partitions
        self.topic = streams.raw_topic(
            f"{app.conf.id}-{name}-ticks", internal=True, partitions=partitions
        )
        guard = Guard(app, context)

        async def ticks(stream: faust.StreamT[bytes]) -> None:
            async for events in cast("faust.Stream[bytes]", stream).take_events(
                context.batch_max, context.batch_within
            ):
                with handling(app, events):  # cancelled mid-batch: not committable
                    await handle_raw_batch(guard, events, handle)

        async def run_scan(*_: object) -> None:  # faust passes the app to such a timer
            await scan()

        app.agent(self.topic, name=f"{name}-ticks")(ticks)
        app.timer(interval=every, name=f"{name}-scan")(run_scan)

    async def tick(self, key: str, entry: str) -> None:
        """Ask the tick agent to look at ``entry`` (on the partition of ``key``)."""
        await send(self.app, self.topic, key=key.encode(), value=entry.encode())
