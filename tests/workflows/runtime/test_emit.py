"""emit.send: unconfirmed returns at once; confirmed waits for the broker's acknowledgement, and
a delivery that fails cancels the handling (no table write after it), crashing the worker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from exchange.workflows.runtime.emit import send


class Topic:
    """A topic double: ``send`` hands out the future the test resolves."""

    def __init__(self) -> None:
        self.delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def send(self, **_: Any) -> asyncio.Future[Any]:
        return self.delivery


class App:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.crashed: list[BaseException] = []

    async def crash(self, error: BaseException) -> None:
        self.crashed.append(error)


async def test_unconfirmed_returns_before_the_acknowledgement() -> None:
    topic = Topic()
    await send(App(), topic, key=b"k", value=b"v")  # type: ignore[arg-type]
    assert not topic.delivery.done()


async def test_confirmed_returns_after_the_acknowledgement() -> None:
    topic, app = Topic(), App()
    sending = asyncio.ensure_future(
        send(app, topic, key=b"k", value=b"v", confirmed=True)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.01)
    assert not sending.done()  # waits for the broker
    topic.delivery.set_result("metadata")
    await asyncio.wait_for(sending, 1)
    assert app.crashed == []


async def test_a_confirmed_record_undelivered_cancels_the_handling_and_crashes_the_worker() -> None:
    topic, app = Topic(), App()
    sending = asyncio.ensure_future(
        send(app, topic, key=b"k", value=b"v", confirmed=True)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.01)
    topic.delivery.set_exception(TimeoutError("no broker"))
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(sending, 1)
    await asyncio.sleep(0)  # the crash task runs
    assert [type(error) for error in app.crashed] == [TimeoutError]
