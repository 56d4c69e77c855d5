"""One page per agency: what it publishes and receives and why, its units, its grants."""

from __future__ import annotations

from exchange.asyncapi.channels import message_ids
from exchange.asyncapi.key_messages import KEY_CERTIFICATE, KEY_REQUEST
from exchange.asyncapi.messages import ANCHOR, AUDIT, DEADLETTER, QUARANTINED
from exchange.docsite.data import SiteData, event_page
from exchange.docsite.html import Markup, code, esc, join, link, page, section, table, tags
from exchange.topology.model import Topic

_RECORDS = {
    DEADLETTER: link("../dead-letters.html#dead-letter", "dead-lettered records"),
    QUARANTINED: link("../dead-letters.html#quarantine", "quarantined records"),
    AUDIT: Markup("<span class='muted'>audit records (JSON)</span>"),
    ANCHOR: Markup("<span class='muted'>notary anchors (JSON)</span>"),
    KEY_REQUEST: Markup("<span class='muted'>key requests (signed JSON)</span>"),
    KEY_CERTIFICATE: Markup("<span class='muted'>key certificates (root-signed JSON)</span>"),
}


def _carried(topic: Topic) -> Markup:
    if topic.event_types:
        return join(link(f"../{event_page(e)}", e.rpartition(".")[2]) for e in topic.event_types)
    return join(_RECORDS[mid] for mid in message_ids(topic))


def _topic_rows(topics: list[Topic]) -> list[tuple[object, ...]]:
    return [(link(f"../topics.html#{t.name}", t.name), _carried(t), t.purpose) for t in topics]


def agency(data: SiteData, agency_id: str) -> str:
    a = data.topology.agency(agency_id)
    ent = data.entitlements
    sends, receives = data.sends(agency_id), data.receives(agency_id)
    units = table(
        ["unit", "name", "English", "kind", "region (GB/T 2260)"],
        [(code(u.id), u.name_zh, u.name_en, u.kind or "", u.region or "") for u in a.units],
    ) if a.units else Markup("<p class='muted'>No units declared.</p>")
    categories = sorted(ent.categories_of(agency_id))
    grant = (
        Markup(f"<p>{tags(categories)}</p><p>{esc(ent.reasons.get(agency_id, ''))}</p>")
        if categories
        else Markup("<p class='muted'>None: sealed fields stay placeholders for this agency.</p>")
    )
    head = Markup(
        f"<p class='lead'>{esc(a.name_zh)} · {esc(a.name_en)}</p>"
        f"<p>Principal {code(a.principal)} (SASL/SCRAM-SHA-512 over TLS). Consumer groups and "
        f"transactional ids start with {code(a.prefix)}. "
        f"{link(f'../asyncapi/{a.id}.json', 'AsyncAPI 3.0 document of this agency')}.</p>"
        + (f"<p class='muted'>{esc(a.note)}</p>" if a.note else "")
    )
    body = (
        head
        + section("Publishes", table(["topic", "events", "why"], _topic_rows(sends))
                  if sends else Markup("<p class='muted'>Nothing.</p>"), "publishes")
        + section("Receives", table(["topic", "events", "why"], _topic_rows(receives))
                  if receives else Markup("<p class='muted'>Nothing.</p>"), "receives")
        + section("Sensitive categories it may open", grant, "sensitivity")
        + section("Units", units, "units")
    )
    return page(f"{a.name_en} ({a.id})", body, depth=1)
