"""Reference pages: validation rules and their errors, the HTTP gateway's API (from its
OpenAPI document), dead-letter and quarantine reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exchange.docsite.data import event_page
from exchange.docsite.exceptions import DocsiteError
from exchange.docsite.html import Markup, code, esc, link, page, section, table
from exchange.docsite.probes import PROBES, run_probe
from exchange.docsite.reasons import DEAD_LETTER_REASONS, ERROR_HEADERS, QUARANTINE_REASONS
from exchange.inputs import INPUT_LIMITS
from exchange.models.limits import EVENT_LIMITS
from exchange.models.registry import EVENTS

_LIMIT_HEADERS = ["limit", "applies to", "bound", "value", "error rule"]


def _limit_rows(limits: Sequence[Mapping[str, Any]]) -> list[tuple[object, ...]]:
    return [(code(lim["name"]), lim["appliesTo"], lim["bound"], code(lim["value"]),
             code(lim["rule"])) for lim in limits]


def validation() -> str:
    rows = []
    for probe in PROBES:
        result = run_probe(probe)
        shown = [e for e in result.errors if e.rule == probe.rule]
        rows.append((code(probe.rule), probe.standard,
                     Markup(f"{link(event_page(EVENTS[probe.event].fullname), probe.event)}: "
                            f"{esc(probe.change)}"),
                     Markup("<br>".join(code(str(e)) for e in shown))))
    intro = Markup(
        "<p>Every entry point (CLI, HTTP gateway, connectors, consumers) validates events by the "
        "same rules and answers bad input with every broken rule, each naming the field (dotted "
        "path) and the rule. The errors below are produced by the validator itself, from the "
        "example events broken as shown. Over HTTP they come as <code>422</code> with "
        "<code>errors: [{field, rule, message}]</code>; on the bus the record is dead-lettered "
        "with reason <code>invalid-event</code>.</p>"
    )
    limits = Markup(
        "<p>Every event, at every entry point; the same list is in each schema's "
        "<code>doc</code>, the gateway's OpenAPI document and the AsyncAPI document "
        "(<code>info.x-limits</code>). A field beyond a limit is refused with the rule shown; "
        "the JSON-only limits apply where events arrive as JSON.</p>"
    ) + table(_LIMIT_HEADERS, _limit_rows(
        [lim.as_json() | {"appliesTo": lim.applies_to + (" (JSON input)" if lim.json_only else "")}
         for lim in (*EVENT_LIMITS, *INPUT_LIMITS)]
    ))
    return page("Validation rules and their errors",
                intro + table(["rule", "checks", "broken example", "error produced"], rows)
                + section("Limits", limits, "limits"))


def _schema_link(schema: dict[str, Any]) -> Markup:
    ref = schema.get("$ref", "")
    name = ref.rpartition("/")[2]
    spec = next((s for s in EVENTS.values() if s.model.__name__ == name), None)
    return link(event_page(spec.fullname), name) if spec else code(name or "object")


def gateway(document: Mapping[str, Any]) -> str:
    rows = []
    responses: dict[str, str] = {}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            request = Markup(f"<code>{esc(method.upper())} {esc(path)}</code>")
            if "requestBody" not in op:  # GET /healthz: no body, answers of its own
                rows.append((request, op["summary"], "(none)"))
                continue
            body = op["requestBody"]["content"]["application/json"]["schema"]
            for status, answer in op["responses"].items():
                responses.setdefault(status, answer["description"])
            own = {status: answer["description"] for status, answer in op["responses"].items()}
            if own != responses:
                raise DocsiteError(f"{path}: its responses differ from the other operations'")
            rows.append((request, op["summary"], _schema_link(body)))
    error = document["components"]["schemas"]["Error"]
    intro = Markup(
        f"<p>{esc(document['info']['description'])} The gateway serves this document at "
        "<code>/openapi.json</code> (a copy: "
        f"{link('gateway/openapi.json', 'openapi.json')}); each deployment accepts the event "
        "types of its <code>event_types</code> setting. Authentication: "
        "<code>Authorization: Bearer &lt;token&gt;</code> (or a client certificate with mutual "
        "TLS); the token names the calling agency. Retry with the same "
        "<code>Idempotency-Key</code> header: the first answer is returned, nothing is "
        "published twice. A 503 does not mean &quot;not sent&quot;: it names the "
        "<code>eventId</code> and the <code>Idempotency-Key</code> to retry with; the retry "
        "keeps that <code>eventId</code>, so receivers drop a second copy.</p>"
    )
    errors = table(["property", "meaning"], [
        (code(k), v.get("description", "")) for k, v in error["properties"].items()
    ])
    answers = table(["status", "meaning"], [(code(k), v) for k, v in responses.items()])
    return page("HTTP gateway API", intro
                + section("Operations", table(["request", "summary", "body (JSON)"], rows))
                + section("Responses (every operation)", answers)
                + section("Error body (4xx, 503)", errors)
                + section("Limits", table(_LIMIT_HEADERS,
                                          _limit_rows(document["info"]["x-limits"])), "limits"))


def dead_letters() -> str:
    def rows(reasons: Any) -> list[tuple[object, ...]]:
        return [(code(r.code), r.where, r.meaning, r.action) for r in reasons]

    intro = Markup(
        "<p>Nothing is lost and nothing poisonous is acted on. A record a consumer cannot "
        "process is copied unchanged to <code>exchange.deadletter.&lt;agency&gt;</code>; a "
        "record that fails verification (signature, sealed fields) to "
        "<code>exchange.quarantine.&lt;agency&gt;</code>; both with the reason in headers, "
        "counted in <code>exchange_events_dead_lettered_total</code> / "
        "<code>exchange_events_quarantined_total</code>. Operators read both topics.</p>"
    )
    headers = ["reason", "where", "meaning", "what to do"]
    return page(
        "Dead letters and quarantine",
        intro
        + section("Dead-letter reasons", table(headers, rows(DEAD_LETTER_REASONS)), "dead-letter")
        + section("Quarantine reasons", table(headers, rows(QUARANTINE_REASONS)), "quarantine")
        + section("Headers added", table(["header", "meaning"],
                                         [(code(h), m) for h, m in ERROR_HEADERS]), "headers"),
    )
