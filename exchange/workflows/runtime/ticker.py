"""One timer loop for every workflow deadline: scan → tick topic → tick agent.

faust lets an agent change a table only while it handles an event of the table's partition, so
a timer cannot act on a deadline by itself. A :class:`Ticker` runs the workflow's ``scan``
every ``every`` seconds; the scan calls :meth:`Ticker.tick` for what is due, which sends a
record (key: the case key, so it lands on the partition of the table entry; value: the entry's
id) to the internal topic ``<app id>-<name>-ticks``, co-partitioned with ``source``; the tick
agent then calls the workflow's ``on_tick`` under a :class:`~.guard.Guard` (failures are
dead-lettered). A tick for an entry that is no longer due must do nothing, so repeated ticks
are harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import faust

from exchange.workflows.runtime.emit import send
from exchange.workflows.runtime.guard import Guard
from exchange.workflows.runtime.records import Incoming

if TYPE_CHECKING:
    from exchange.workflows.runtime.streams import Streams


class Ticker:
    def __init__(
        self, streams: Streams, name: str, *, source: str,
        scan: Callable[[], Awaitable[None]], on_tick: Callable[[Incoming], Awaitable[None]],
        every: float = 1.0,
    ) -> None:
        app = self.app = streams.app
        partitions = streams.context.topology.topic(source).partitions
        self.topic = streams.raw_topic(
            f"{app.conf.id}-{name}-ticks", internal=True, partitions=partitions
        )
        guard = Guard(app, streams.context)

        async def ticks(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await guard.raw(event, on_tick)

        async def run_scan(*_: object) -> None:  # faust passes the app to such a timer
            await scan()

        app.agent(self.topic, name=f"{name}-ticks")(ticks)
        app.timer(interval=every, name=f"{name}-scan")(run_scan)

    async def tick(self, key: str, entry: str) -> None:
        """Ask the tick agent to look at ``entry`` (on the partition of ``key``)."""
        await send(self.app, self.topic, key=key.encode(), value=entry.encode())
