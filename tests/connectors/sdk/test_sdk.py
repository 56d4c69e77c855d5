"""The SDK's pieces on their own: configs, the registry, retries, the progress store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connectors.adapters.file_drop import FileDropSource
from connectors.registry import connector_class, load_config
from connectors.sdk.config import RetryPolicy
from connectors.sdk.exceptions import (
    ConnectorConfigError,
    DeliveryError,
    PermanentDeliveryError,
    RetriesExhaustedError,
)
from connectors.sdk.metrics import ConnectorMetrics
from connectors.sdk.progress import ProgressStore
from connectors.sdk.retry import Interrupted, with_retries
from exchange.errors import ExchangeError
from exchange.protection.unprotected import Unprotected


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_config_file_is_loaded_into_its_adapters_typed_model(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'kind = "file-drop"\nname = "ca-export"\nagency = "civil-affairs"\n'
        'inbox = "drop"\nevent_type = "referral"\n[retry]\nmax_attempts = 3\n',
    )
    cls, config = load_config(path)
    assert cls is FileDropSource
    assert config.retry.max_attempts == 3
    assert config.ce_source == "/agencies/civil-affairs/connect/ca-export"
    assert config.deadletter == "exchange.deadletter.civil-affairs"


def test_config_errors_name_every_field_and_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'kind = "file-drop"\nname = "Bad Name"\nagency = "civil-affairs"\nbatch_rows = 0\n'
        "typo = 1\n",
    )
    with pytest.raises(ConnectorConfigError) as caught:
        load_config(path)
    found = {(e.field, e.rule) for e in caught.value.errors}
    assert found >= {
        ("name", "string_pattern_mismatch"),
        ("batch_rows", "greater_than_equal"),
        ("typo", "extra_forbidden"),
        ("inbox", "missing"),
    }
    assert isinstance(caught.value, ExchangeError)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('kind = "nope"\n', "unknown_kind"),
        ('kind = "no.such.module:Thing"\n', "not_importable"),
        ('kind = "pathlib:Path"\n', "not_a_connector"),
        ("name = 1\n", "missing"),
        ("kind = [", "syntax"),
    ],
)
def test_unknown_or_broken_kinds_are_refused(tmp_path: Path, text: str, rule: str) -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.errors[0].rule == rule


def test_a_connector_of_ones_own_is_named_by_import_path() -> None:
    assert connector_class("connectors.adapters.file_drop:FileDropSource") is FileDropSource


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=6, initial_backoff_s=1, max_backoff_s=5, jitter=0)
    assert list(policy.delays()) == [1, 2, 4, 5, 5]


async def test_with_retries_retries_then_gives_up_with_the_last_error() -> None:
    metrics = ConnectorMetrics.on(CollectorRegistry())
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise DeliveryError("target", f"down {calls}")

    policy = RetryPolicy(max_attempts=3, initial_backoff_s=0.01)
    with pytest.raises(RetriesExhaustedError) as caught:
        await with_retries(failing, policy, what="x", connector="c", metrics=metrics)
    assert (calls, caught.value.attempts, str(caught.value.last)) == (3, 3, "target: down 3")


async def test_with_retries_stops_at_once_on_a_permanent_error() -> None:
    metrics = ConnectorMetrics.on(CollectorRegistry())
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise PermanentDeliveryError("target", "400")

    with pytest.raises(PermanentDeliveryError):
        await with_retries(refused, RetryPolicy(), what="x", connector="c", metrics=metrics)
    assert calls == 1


async def test_with_retries_is_interrupted_by_stop() -> None:
    metrics = ConnectorMetrics.on(CollectorRegistry())
    stop = asyncio.Event()

    async def failing() -> None:
        stop.set()
        raise DeliveryError("target", "down")

    policy = RetryPolicy(initial_backoff_s=30)
    with pytest.raises(Interrupted):
        await asyncio.wait_for(
            with_retries(failing, policy, what="x", connector="c", metrics=metrics, stop=stop), 5
        )


def test_progress_survives_reopening(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.sqlite")
    store.set("file:a", "10")
    store.set("file:a", "20")
    store.remember("idempotency", "k", "v")
    store.close()
    again = ProgressStore(tmp_path / "p.sqlite")
    assert again.get("file:a") == "20"
    assert again.recall("idempotency", "k") == "v"
    assert again.get("nothing") is None
    assert again.forget_older_than("idempotency", -1) == 1
    assert again.recall("idempotency", "k") is None
    again.close()


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('event_types = ["nope"]\n[[callers]]\nagency = "transport"\ncertificate_cn = "x"\n',
         "unknown"),
        ('[[callers]]\nagency = "transport"\n', "give token_sha256 or certificate_cn"),
        ('[[callers]]\nagency = "transport"\ncertificate_cn = "app"\n', "tls.client_cafile"),
        ('[[callers]]\nagency = "transport"\ncertificate_cn = "x"\nsource = "/staff-app"\n',
         "must start with /agencies/transport/"),
        ('source = "/agencies/police/gw"\n[[callers]]\nagency = "transport"\n'
         'certificate_cn = "x"\n', "names agency 'police'|must start with /agencies/transport/"),
    ],
)  # fmt: skip
def test_gateway_config_refuses_callers_it_could_not_authenticate(
    tmp_path: Path, extra: str, problem: str
) -> None:
    path = write(tmp_path, 'kind = "http-gateway"\nname = "gw"\nagency = "transport"\n' + extra)
    with pytest.raises(ConnectorConfigError, match=problem):
        load_config(path)


async def test_a_connector_is_ready_only_while_it_moves_records(tmp_path: Path) -> None:
    """``not_ready`` is the connector's /readyz: not before setup, None while running, not
    after it stopped (also when run failed)."""
    from connectors.sdk.base import Connector, ConnectorContext  # noqa: PLC0415
    from connectors.sdk.config import ConnectorConfig  # noqa: PLC0415

    seen: list[str | None] = []

    class Probe(Connector[ConnectorConfig]):
        async def run(self, stop: asyncio.Event) -> None:
            seen.append(self.not_ready())
            raise RuntimeError("the target went away")

    context = ConnectorContext(kafka_for=lambda _a: None,  # type: ignore[arg-type,return-value]
                               topology=None, codec=None,  # type: ignore[arg-type]
                               registry=CollectorRegistry(),
                               protection_for=lambda _a: Unprotected("a unit test of readiness"))
    probe = Probe(ConnectorConfig(kind="probe", name="probe", agency="police",
                                  state_dir=tmp_path), context)
    assert probe.not_ready() == "not running (starting, or stopping)"
    with pytest.raises(RuntimeError, match="went away"):
        await probe.serve(asyncio.Event())
    assert seen == [None]
    assert probe.not_ready() is not None
