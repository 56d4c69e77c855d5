"""The overview pages: home, agencies, topics, sensitive data."""

from __future__ import annotations

from exchange.docsite.data import SiteData, agency_page, event_page
from exchange.docsite.html import (
    Markup,
    code,
    esc,
    join,
    link,
    page,
    section,
    table,
    tags,
)


def _retention(ms: int) -> str:
    if ms < 0:
        return "forever"
    days, rest = divmod(ms, 86_400_000)
    return f"{days} d" if rest == 0 else f"{ms} ms"


def index(data: SiteData) -> str:
    topology = data.topology
    agencies = "".join(
        f"<li>{link(agency_page(a.id), f'{a.name_en}')}<br><span class='muted'>"
        f"{esc(a.name_zh)}</span></li>"
        for a in topology.agencies
    )
    body = Markup(
        "<p class='lead'>The event exchange of Xi'an's anti-trafficking joint meeting "
        "(反拐联席会议): police, transport, civil affairs, market regulation, health, justice, "
        "human resources, education, the women's federation, cyberspace and the bus's own "
        "systems publish standardized Avro events to Apache Kafka; each agency reads only what "
        "is addressed to it.</p>"
        "<h2>Start here</h2><ul>"
        "<li>Your agency: what it publishes, what it receives and why "
        f"({link('agencies.html', 'agencies')}).</li>"
        "<li>Each event's fields, sensitivity and an example "
        f"({link('events.html', 'events')}).</li>"
        f"<li>The machine-readable contract: the AsyncAPI 3.0 document of the "
        f"{link('asyncapi/bus.json', 'whole bus')} or of one agency (on its page).</li>"
        f"<li>Publishing over HTTP instead of Kafka: the {link('gateway.html', 'HTTP gateway')}; "
        f"adapters for your systems: {link('connectors.html', 'connectors')}.</li>"
        "<li>Why a record was set aside: "
        f"{link('dead-letters.html', 'dead letters and quarantine')}.</li>"
        "</ul><h2>Connecting</h2>"
        f"<p>Bootstrap servers: {code(data.bootstrap)}, TLS with SASL/SCRAM-SHA-512, one principal "
        "per agency. Record value: Avro single-object encoding (<code>C3 01</code> + 8-byte "
        "CRC-64-AVRO fingerprint + body); headers: CloudEvents Kafka binding, binary mode "
        "(<code>ce_id</code>, <code>ce_source</code>, <code>ce_type</code>, <code>ce_time</code>, "
        "<code>ce_subject</code>, <code>content-type</code>, <code>ce_dataschema</code>), plus "
        "the agency's signature <code>exchange.sig</code> and the sealed sensitive fields "
        "<code>exchange.sealed</code>; key: the case key. Clients on librdkafka older than 2.6 "
        "cannot log in with SCRAM to Kafka 4.x.</p>"
        f"<h2>Agencies</h2><ul class='cards'>{agencies}</ul>"
    )
    return page("The exchange bus for integrators", body)


def agencies(data: SiteData) -> str:
    rows = [
        (link(agency_page(a.id), a.id), a.name_zh, a.name_en, code(a.principal), a.kind,
         len(data.sends(a.id)), len(data.receives(a.id)))
        for a in data.topology.agencies
    ]
    body = table(["id", "name", "English", "principal", "kind", "sends to", "reads"], rows)
    return page("Agencies", body)


def topics(data: SiteData) -> str:
    rows = []
    for t in data.topology.topics:
        events = join(link(event_page(e), e.rpartition(".")[2]) for e in t.event_types)
        rows.append((
            Markup(f"<span id='{esc(t.name)}'>{code(t.name)}</span>"), t.purpose,
            join(link(agency_page(w), w) for w in t.writers),
            join(link(agency_page(r), r) for r in t.readers),
            events or Markup("<span class='muted'>any record, set aside</span>"),
            t.partitions, f"{_retention(t.retention_ms)}, {t.cleanup_policy}",
        ))
    body = table(["topic", "purpose", "written by", "read by", "events", "partitions",
                  "retention"], rows)
    return page("Topics", body)


def sensitivity(data: SiteData) -> str:
    ent = data.entitlements
    rows = [
        (link(agency_page(a.id), a.id), tags(sorted(ent.categories_of(a.id))) or "none",
         ent.reasons.get(a.id, "no sensitive category"))
        for a in data.topology.agencies
    ]
    intro = Markup(
        "<p>Fields tagged with a sensitivity category in the schemas are sealed by the publisher "
        "(AES-256-GCM) and their keys wrapped only for the topic's readers that hold "
        "<em>every</em> category of the field's tags (PIPL Art. 6, 28, 51). Everyone else sees "
        "a placeholder. The grants are in <code>topology/entitlements.toml</code>.</p>"
    )
    return page("Sensitive data: who may open which tag",
                intro + section("Grants", table(["agency", "may open", "why"], rows)))
