"""A case's disclosure bundle: a ZIP that anyone can check offline, without the bus.

Files (``manifest.json`` lists every other file with its SHA-256)::

    manifest.json     format, case, when, and {file: sha256}
    records.json      {chain: [record, ...]}: each chain that recorded the case, from its first
                      record about the case up to the nearest time-stamped checkpoint. Records
                      of other exchanges in that window are whole too (see below).
    checkpoints.json  the checkpoint that signs each chain's last record
    anchors.json      per checkpoint: the notary's anchor root, tree size, the checkpoint's index
                      and audit path, and the file of the anchor's time-stamp token
    tokens/<n>.der    RFC 3161 TimeStampTokens (DER) over the anchors' roots
    events.json       the case's events as the broker holds them (key, value, headers: the
                      ``exchange.sig`` signature and batch proof), those the exporter may read
    keys/<agency>.json  the writers' public keys (same form as ``<state>/keys/public``)
    tsa/ca.pem, tsa/tsa.pem  the TSA's CA and certificate
    HOW-TO-VERIFY.txt the commands below, for a reader without this project

:func:`verify_bundle` checks, in order: the manifest's hashes; every chain's links and record
hashes up to its checkpoint; each checkpoint's Ed25519 signature by the chain's agency; each
checkpoint's audit path to its anchor's root; each token over that root (``openssl ts -verify``);
each event's signature (and batch proof) and that it is the event the audit record names.
Keys and the TSA CA come from the bundle unless the verifier gives its own (it should: compare
the printed key fingerprints with those the agencies publish).

**Why other exchanges' records are whole.** A record's hash covers its whole content and its
``prev``; a record cut down to its hash could not be checked, so a forger could rewrite a case
record and fix the next (unchecked) record's ``prev`` to match. The excerpt is kept as short as
the checkpoints allow, and an audit record holds no personal data by design (ids, actions,
categories, case keys). Redacting them would need a record hash that commits to its content
separately (``H(prev || H(content))``): a future version of the audit format.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exchange.evidence.anchors import proof, proven_root, token_bytes
from exchange.evidence.checkpoints import checkpoint_problem
from exchange.evidence.exceptions import BundleError, EvidenceError
from exchange.evidence.tsa import token_time, verify_token
from exchange.protection.audit import GENESIS, record_hash
from exchange.protection.exceptions import ProtectionError
from exchange.protection.keys import FileKeyStore
from exchange.protection.signing import Verifier

FORMAT = "exchange.disclosure.v1"
HOW_TO = """\
Disclosure bundle of case {case} (format {format}).

1. Check each file against manifest.json:  sha256sum <file>
2. With the project:  exchange audit verify-bundle {name} [--keys DIR] [--tsa-ca FILE]
3. Without it, each time-stamp token over its anchor root (anchors.json "root", hex):
     openssl ts -verify -digest <root> -token_in -in tokens/<n>.der \\
         -CAfile tsa/ca.pem -untrusted tsa/tsa.pem
   (use the TSA's CA certificate from the TSA itself, not only the copy in this bundle)
   and fold each checkpoint's audit path to that root (RFC 6962 / RFC 9162 section 2.1.3.2,
   leaf = SHA-256(0x00 || canonical JSON of the checkpoint)).
"""


@dataclass
class Disclosure:
    """What goes into a bundle, gathered by :mod:`.bundle_kafka` (or by hand)."""

    case: str
    chains: dict[str, list[dict[str, Any]]]
    checkpoints: list[dict[str, Any]]
    anchors: list[dict[str, Any]]
    """Whole notary anchors, each holding one of ``checkpoints``."""
    events: list[dict[str, Any]] = field(default_factory=list)
    public_keys: dict[str, bytes] = field(default_factory=dict)
    """``<agency>.json`` files of the writers' public keys."""
    tsa_ca: bytes = b""
    tsa_cert: bytes = b""


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"


def write_bundle(disclosure: Disclosure, out: Path) -> dict[str, Any]:
    """Write the ZIP to ``out``; return its manifest."""
    files: dict[str, bytes] = {}
    case = disclosure.case
    files["records.json"] = _dump({
        chain: list(records) for chain, records in disclosure.chains.items()
    })
    files["checkpoints.json"] = _dump(disclosure.checkpoints)
    anchors: list[dict[str, Any]] = []
    for checkpoint in disclosure.checkpoints:
        for anchor in disclosure.anchors:
            signatures = [c["signature"] for c in anchor["checkpoints"]]
            if checkpoint["signature"] in signatures:
                index = signatures.index(checkpoint["signature"])
                name = f"tokens/{len(anchors)}.der"
                files[name] = token_bytes(anchor)
                anchors.append({
                    "chain": checkpoint["chain"], "seq": checkpoint["seq"], "index": index,
                    "size": anchor["size"], "root": anchor["root"], "path": proof(anchor, index),
                    "token": name, "tsa_url": anchor["tsa_url"], "anchored_at": anchor["at"],
                })
                break
    files["anchors.json"] = _dump(anchors)
    files["events.json"] = _dump(disclosure.events)
    for agency, content in disclosure.public_keys.items():
        files[f"keys/{agency}.json"] = content
    files["tsa/ca.pem"] = disclosure.tsa_ca
    files["tsa/tsa.pem"] = disclosure.tsa_cert
    files["HOW-TO-VERIFY.txt"] = HOW_TO.format(case=case, format=FORMAT, name=out.name).encode()
    manifest = {
        "format": FORMAT,
        "case": case,
        "created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _dump(manifest))
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return manifest


@dataclass
class BundleReport:
    case: str
    lines: list[str] = field(default_factory=list)
    problems: list[BundleError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(raw: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleError("(the bundle)", f"not a ZIP archive: {error}") from None


def _json(files: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(files[name])
    except (KeyError, ValueError) as error:
        raise BundleError(name, f"missing or not JSON: {error}") from None


def _check_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    manifest = _json(files, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError("manifest.json", f"format is not {FORMAT}")
    listed = manifest.get("files", {})
    for name in sorted(set(files) - {"manifest.json"} | set(listed)):
        if name not in files or name not in listed:
            raise BundleError(name, "listed in the manifest but absent, or present but unlisted")
        if hashlib.sha256(files[name]).hexdigest() != listed[name]:
            raise BundleError(name, "its SHA-256 is not the one in the manifest: it was changed")
    return manifest


def _check_chain(chain: str, records: list[dict[str, Any]], case: str) -> tuple[int, str]:
    """Links and hashes of one chain's excerpt; returns its last (seq, hash)."""
    prev: str | None = None
    seq = -1
    for record in records:
        if seq >= 0 and record.get("seq") != seq + 1:
            raise BundleError("records.json", f"{chain}: seq {seq + 1} missing")
        seq = int(record.get("seq", -1))
        if prev is not None and record.get("prev") != prev:
            raise BundleError("records.json", f"{chain} seq {seq}: prev is not the last hash")
        if record.get("hash") != record_hash(record):
            raise BundleError("records.json", f"{chain} seq {seq}: hash does not match")
        if record.get("chain") != chain:
            raise BundleError("records.json", f"{chain} seq {seq}: a record of another chain")
        prev = str(record.get("hash"))
    if not any(r.get("case") == case for r in records):
        raise BundleError("records.json", f"{chain}: no record of case {case}")
    return seq, prev or GENESIS


def verify_bundle(
    raw: bytes, *, keys_dir: Path | None = None, tsa_ca: Path | None = None,
    check_token: Callable[..., None] = verify_token,
) -> BundleReport:
    """Check a bundle (see the module docs); every problem found is in the report."""
    files = _read(raw)
    try:
        manifest = _check_manifest(files)
    except BundleError as error:
        return BundleReport(str(error), problems=[error])
    report = BundleReport(str(manifest.get("case")))
    with tempfile.TemporaryDirectory(prefix="exchange-bundle-") as folder:
        root = Path(folder)
        (root / "keys" / "public").mkdir(parents=True)
        for name, data in files.items():
            if name.startswith("keys/"):
                (root / "keys" / "public" / Path(name).name).write_bytes(data)
        (root / "ca.pem").write_bytes(files.get("tsa/ca.pem", b""))
        (root / "tsa.pem").write_bytes(files.get("tsa/tsa.pem", b""))
        keys = FileKeyStore(keys_dir if keys_dir is not None else root / "keys")
        for step in (_verify_chains, _verify_anchors, _verify_events):
            try:
                step(files, report, keys, tsa_ca or root / "ca.pem", root, check_token)
            except (BundleError, EvidenceError, ProtectionError, ValueError, KeyError) as error:
                problem = error if isinstance(error, BundleError) else BundleError(
                    step.__name__.removeprefix("_verify_") + ".json", str(error))
                report.problems.append(problem)
    return report


def _verify_chains(files: dict[str, bytes], report: BundleReport, keys: FileKeyStore,
                   *_: Any) -> None:
    chains = _json(files, "records.json")
    checkpoints = {c["chain"]: c for c in _json(files, "checkpoints.json")}
    used: set[str] = set()
    for chain, records in chains.items():
        seq, head = _check_chain(chain, records, report.case)
        checkpoint = checkpoints.get(chain)
        if checkpoint is None or checkpoint.get("seq") != seq or checkpoint.get("head") != head:
            raise BundleError("checkpoints.json", f"{chain}: no checkpoint signs seq {seq}")
        problem = checkpoint_problem(keys, checkpoint)
        if problem is not None:
            raise BundleError("checkpoints.json", f"{chain}: {problem}")
        about = sum(1 for r in records if r.get("case") == report.case)
        report.lines.append(
            f"chain {chain}: {about} record(s) of the case, linked to seq {seq}, "
            f"signed by {checkpoint['key_id']} at {checkpoint['at']}"
        )
        used.add(str(checkpoint["key_id"]))
    for key_id in sorted(used):
        public = keys.info(key_id).public
        report.lines.append(
            f"key {key_id}: sha256 {hashlib.sha256(public).hexdigest()[:32]} "
            "(compare with the agency's published key)"
        )


def _verify_anchors(files: dict[str, bytes], report: BundleReport, _keys: FileKeyStore,
                    ca: Path, root: Path, check_token: Callable[..., None]) -> None:
    checkpoints = {c["chain"]: c for c in _json(files, "checkpoints.json")}
    anchors = {a["chain"]: a for a in _json(files, "anchors.json")}
    for chain, checkpoint in checkpoints.items():
        anchor = anchors.get(chain)
        if anchor is None:
            raise BundleError("anchors.json", f"{chain}: the checkpoint was not time-stamped")
        folded = proven_root(checkpoint, int(anchor["index"]), int(anchor["size"]), anchor["path"])
        if folded.hex() != anchor["root"]:
            raise BundleError("anchors.json", f"{chain}: the audit path does not reach the root")
        token = files.get(str(anchor["token"]))
        if token is None:
            raise BundleError(str(anchor["token"]), "the token file is missing")
        try:
            check_token(token, folded, ca, untrusted=root / "tsa.pem")
        except EvidenceError as error:
            raise BundleError(str(anchor["token"]), str(error)) from None
        report.lines.append(
            f"chain {chain}: checkpoint time-stamped {token_time(token)} by {anchor['tsa_url']}"
        )


def _verify_events(files: dict[str, bytes], report: BundleReport, keys: FileKeyStore,
                   *_: Any) -> None:
    named = {
        (r.get("source"), r.get("event_id"))
        for records in _json(files, "records.json").values() for r in records
    }
    verifier = Verifier(keys)
    for n, event in enumerate(_json(files, "events.json")):
        headers = [(k, base64.b64decode(v)) for k, v in event["headers"]]
        key = base64.b64decode(event["key"]) if event.get("key") is not None else None
        position = (event["topic"], int(event["partition"]), int(event["offset"]))
        signer = verifier.verify(key, base64.b64decode(event["value"]), headers, position)
        found = dict(headers)
        ident = (found.get("ce_source", b"").decode(), found.get("ce_id", b"").decode())
        if ident not in named:
            raise BundleError("events.json", f"event {n} is not named by any audit record")
        report.lines.append(
            f"event {ident[1]} at {position[0]}[{position[1]}]@{position[2]}: signed by {signer}"
        )
