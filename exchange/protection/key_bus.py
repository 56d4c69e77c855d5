"""Keys on the bus: requests, certificates, revocations and the reader that follows them.

The I/O around the pure formats of :mod:`.key_requests` and :mod:`.certificates`:

- an agency publishes requests for its local public keys on its own request topic
  (:func:`request_certification`);
- the joint-meeting office checks them and publishes root-signed certificates on the compacted
  ``exchange.keys`` (:func:`certify_requests`), and revokes a key there (:func:`revoke_key`);
- every reader keeps a :class:`~exchange.protection.keyring.Keyring` up to date with a
  :class:`KeyFollower`: it reads ``exchange.keys`` from its beginning to its end before
  :meth:`KeyFollower.start` returns, then follows it in the background.

A key certified after a reader started is known to it as soon as the follower has read the
certificate (well under a second on a healthy bus); an event signed with it and read before
that is quarantined as ``uncertified-key`` and can be replayed by the operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from exchange.protection.certificates import RootKey, certify
from exchange.protection.exceptions import KeyRequestError, KeyStoreError
from exchange.protection.key_requests import check_requests, make_request, request_topic
from exchange.protection.keyring import Keyring
from exchange.protection.keys import FileKeyStore, KeyInfo
from exchange.settings import KafkaSettings

__all__ = [
    "KEYS_TOPIC",
    "CertifyReport",
    "KeyFollower",
    "KeyFollowerThread",
    "certify_requests",
    "read_keyring",
    "request_certification",
    "revoke_key",
]

log = logging.getLogger(__name__)

KEYS_TOPIC = "exchange.keys"
Records = list[tuple[bytes | None, bytes | None]]


async def send(settings: KafkaSettings, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
    """Write ``records`` (key, value) to ``topic`` and wait until the broker has them all."""
    producer = AIOKafkaProducer(
        **settings.aiokafka_kwargs(), acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for future in [await producer.send(topic, value, key=key) for key, value in records]:
            await future
    finally:
        await producer.stop()


async def read_all(
    settings: KafkaSettings, topic: str, *, partitions: int = 1, timeout_s: float = 30.0
) -> Records:
    """Every record of ``topic`` up to its end as it is now (no consumer group, no commits)."""
    consumer = AIOKafkaConsumer(
        **settings.aiokafka_kwargs(), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return await _to_end(consumer, topic, partitions, timeout_s, None)
    finally:
        await consumer.stop()


async def _to_end(
    consumer: AIOKafkaConsumer, topic: str, partitions: int, timeout_s: float,
    keyring: Keyring | None,
) -> Records:
    assigned = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(assigned)
    await consumer.seek_to_beginning(*assigned)
    ends = await consumer.end_offsets(assigned)
    left = {tp for tp in assigned if ends[tp] > 0}
    found: Records = []
    deadline = time.monotonic() + timeout_s
    while left:
        if time.monotonic() > deadline:
            raise KeyStoreError(
                f"could not read {topic} to its end within {timeout_s:.0f} s: is the broker "
                "reachable and may this principal read the topic (topology readers)?"
            )
        batch = await consumer.getmany(*left, timeout_ms=200)
        for records in batch.values():
            for record in records:
                found.append((record.key, record.value))
                if keyring is not None:
                    keyring.learn(record.key, record.value)
        for tp in list(left):
            if await consumer.position(tp) >= ends[tp]:
                left.discard(tp)
    return found


async def read_keyring(
    settings: KafkaSettings, pinned_root: str | None, private: FileKeyStore | None = None,
    *, timeout_s: float = 30.0,
) -> Keyring:
    """A keyring with every certificate on ``exchange.keys`` now (a snapshot, not followed)."""
    keyring = Keyring(pinned_root, private)
    for key, value in await read_all(settings, KEYS_TOPIC, timeout_s=timeout_s):
        keyring.learn(key, value)
    return keyring


class KeyFollower:
    """Keeps ``keyring`` up to date from ``exchange.keys`` (see the module docs)."""

    def __init__(
        self, settings: KafkaSettings, keyring: Keyring, *, topic: str = KEYS_TOPIC,
        partitions: int = 1,
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.topic = topic
        self.partitions = partitions
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout_s: float = 30.0) -> None:
        """Read the topic to its end into the keyring, then follow it in the background."""
        consumer = AIOKafkaConsumer(
            **self.settings.aiokafka_kwargs(), group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        self._consumer = consumer
        try:
            await _to_end(consumer, self.topic, self.partitions, timeout_s, self.keyring)
        except BaseException:
            await self.stop()
            raise
        self._task = asyncio.create_task(self._follow(consumer), name=f"follow {self.topic}")

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker hiccup must not stop learning keys: log, retry
                log.exception("reading %s failed; retrying", self.topic)
                await asyncio.sleep(1.0)
                continue
            for records in batch.values():
                for record in records:
                    self.keyring.learn(record.key, record.value)

    async def wait_for(
        self, key_id: str, timeout_s: float = 10.0, *, revoked: bool = False
    ) -> bool:
        """Wait (without blocking the loop) until the keyring knows ``key_id`` (revoked)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                status = self.keyring.info(key_id).status
            except KeyStoreError:
                status = None
            if status is not None and (not revoked or status == "revoked"):
                return True
            await asyncio.sleep(0.05)
        return False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def __aenter__(self) -> KeyFollower:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class KeyFollowerThread:
    """A :class:`KeyFollower` on its own event loop in a daemon thread, for code that is not
    async or runs on a loop it does not own (the CLI's commands, a faust worker): :meth:`start`
    returns once the keyring holds everything on ``exchange.keys``; the thread then follows."""

    def __init__(self, settings: KafkaSettings, keyring: Keyring) -> None:
        self.follower = KeyFollower(settings, keyring)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="exchange.keys follower", daemon=True
        )

    @property
    def keyring(self) -> Keyring:
        return self.follower.keyring

    def start(self, timeout_s: float = 30.0) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.follower.start(timeout_s), self._loop)
        try:
            future.result(timeout_s + 5)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.follower.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


async def request_certification(
    settings: KafkaSettings, store: FileKeyStore, agency: str, key_ids: Sequence[str] = ()
) -> list[KeyInfo]:
    """Publish requests for ``agency``'s local keys (all that are not revoked, or ``key_ids``)
    on its request topic, each signed as :mod:`.key_requests` says; return the keys asked for."""
    keys = [k for k in store.keys_of(agency) if k.status != "revoked"]
    if key_ids:
        keys = [store.info(key_id) for key_id in key_ids]
    if not keys:
        raise KeyStoreError(f"{agency} has no keys in {store.root}: run `exchange keys init` first")
    signer = store.active(agency, "sig").key_id
    records = [
        (k.key_id.encode(), make_request(store, k, k.key_id if k.kind == "sig" else signer))
        for k in keys
    ]
    await send(settings, request_topic(agency), records)
    return keys


@dataclass
class CertifyReport:
    certified: list[KeyInfo] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: list[KeyRequestError] = field(default_factory=list)


async def certify_requests(
    settings: KafkaSettings, root: RootKey, agencies: Sequence[str], *,
    only: Sequence[str] = (), now: datetime | None = None, publish: bool = True,
) -> CertifyReport:
    """As the joint-meeting office: check every request of ``agencies`` and certify the keys
    not certified yet (only those of ``only``, when given) on ``exchange.keys`` (unless not
    ``publish``: a dry run)."""
    keyring = await read_keyring(settings, root.fingerprint)
    report = CertifyReport()
    issued = now or datetime.now(UTC)
    out: list[tuple[bytes, bytes]] = []
    for agency in agencies:
        certified_sig = {
            c.key_id: c.public for c in keyring.certificates()
            if c.agency == agency and c.kind == "sig" and c.status != "revoked"
        }  # fmt: skip
        checked = check_requests(
            agency, await read_all(settings, request_topic(agency)), certified_sig
        )
        report.refused.extend(checked.refused)
        for info in checked.accepted:
            if only and info.key_id not in only:
                continue
            known = {c.key_id: c.public for c in keyring.certificates()}
            if known.get(info.key_id) == info.public:
                report.already.append(info.key_id)
                continue
            if info.key_id in known:
                report.refused.append(
                    KeyRequestError(info.key_id, "certified before with another public key")
                )
                continue
            if _stale(keyring, info):
                report.refused.append(KeyRequestError(info.key_id, "a newer version is certified"))
                continue
            out.append((info.key_id.encode(), certify(info, root, issued=issued)))
            report.certified.append(info)
    if out and publish:
        await send(settings, KEYS_TOPIC, out)
    return report


def _stale(keyring: Keyring, info: KeyInfo) -> bool:
    return any(
        c.agency == info.agency and c.kind == info.kind and c.version > info.version
        for c in keyring.certificates()
    )


async def revoke_key(
    settings: KafkaSettings, root: RootKey, key_id: str, reason: str, *,
    now: datetime | None = None,
) -> KeyInfo:
    """As the joint-meeting office: publish the revocation of ``key_id`` on ``exchange.keys``."""
    if not reason.strip():
        raise KeyStoreError("a revocation needs a reason (e.g. 'private key stolen on 12-05')")
    keyring = await read_keyring(settings, root.fingerprint)
    info = keyring.info(key_id)
    value = certify(
        info, root, issued=now or datetime.now(UTC), status="revoked", reason=reason.strip()
    )
    await send(settings, KEYS_TOPIC, [(key_id.encode(), value)])
    return info
