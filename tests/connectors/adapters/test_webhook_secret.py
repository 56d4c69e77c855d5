"""Webhook secrets in the Standard Webhooks format: made by the CLI, refused in any other
format, and a signature the standard's reference library verifies."""

from __future__ import annotations

import base64
import stat
import time
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from connectors.adapters.webhook import new_secret, secret_key, sign
from exchange.cli.main import main


def test_the_cli_makes_a_private_secret_that_the_reference_library_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "hook.secret"
    assert main(["connect", "new-secret", str(file)]) == 0
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    secret = file.read_text().strip()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == 32
    body = b'{"id": "1"}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "",
    }
    headers["webhook-signature"] = sign(
        secret_key(secret), "msg_1", int(headers["webhook-timestamp"]), body
    )
    assert Webhook(secret).verify(body, headers) == {"id": "1"}
    assert main(["connect", "new-secret", str(file)]) == 2  # never overwritten
    assert "file_exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("shared-secret-of-the-relief-station", "whsec_<base64>"),
        ("whsec_not*base64", "not base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "5 bytes"),
    ],
)
def test_a_secret_in_another_format_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        secret_key(text)
    assert problem in str(caught.value)


def test_new_secrets_differ() -> None:
    assert new_secret() != new_secret()
