"""The event pages: the list, and one page per event with its fields, tags and example."""

from __future__ import annotations

from exchange.asyncapi.avro_datum import avro_datum
from exchange.docsite.data import SiteData, agency_page, event_page
from exchange.docsite.html import (
    Markup,
    code,
    esc,
    join,
    json_block,
    link,
    page,
    section,
    table,
)
from exchange.docsite.schema_fields import field_rows
from exchange.examples import example_json
from exchange.models.registry import spec_for


def events(data: SiteData) -> str:
    rows = []
    for event in data.event_types():
        version = data.catalogue.latest(event)
        rows.append((
            link(event_page(event), event.rpartition(".")[2]), code(spec_for(event).name),
            version.schema.get("doc", ""),
            join(link(agency_page(a), a) for a in data.publishers(event)),
        ))
    return page("Events", table(["event", "CLI name", "what it is", "published by"], rows))


def event(data: SiteData, event_type: str) -> str:
    version = data.catalogue.latest(event_type)
    spec = spec_for(event_type)
    readers = data.receivers(event_type)
    rows = []
    for row in field_rows(version.schema):
        openers = (
            join(link(f"../{agency_page(a)}", a)
                 for a in data.entitlements.recipients(readers, row.tags))
            or Markup("<span class='muted'>no reader</span>")
            if row.tags else ""
        )
        doc = esc(row.doc) + (
            f"<br><span class='muted'>one of: {esc(', '.join(row.symbols))}</span>"
            if row.symbols else ""
        )
        rows.append((code(row.path), row.type, "yes" if row.required else "",
                     Markup(doc), Markup(" ".join(
                         f"<span class='tag'>{esc(t)}</span>" for t in sorted(row.tags))),
                     openers))
    topics = table(
        ["topic", "written by", "read by"],
        [(link(f"../topics.html#{t.name}", t.name),
          join(link(f"../{agency_page(w)}", w) for w in t.writers),
          join(link(f"../{agency_page(r)}", r) for r in t.readers))
         for t in data.topics_of(event_type)],
    )
    key = f"{spec.key_field}" + (f", else {spec.fallback_key_field}"
                                 if spec.fallback_key_field else "")
    versions = ", ".join(f"v{v.version}" for v in data.catalogue.versions(event_type))
    example = example_json(spec.name)
    head = Markup(
        f"<p class='lead'>{esc(version.schema.get('doc', ''))}</p>"
        f"<p>Avro full name {code(event_type)} (the <code>ce_type</code> header); "
        f"CLI {code(f'exchange example {spec.name}')}; record key and <code>ce_subject</code>: "
        f"{code(key)}. Published versions: {esc(versions)} (each backward compatible with all "
        f"earlier ones; <code>ce_dataschema</code> names the writer's).</p>"
    )
    body = (
        head
        + section("Topics", topics, "topics")
        + section("Fields", Markup(
            "<p>Tags mark sensitive personal data; a field is sealed for everyone but the "
            "readers entitled to <em>all</em> of its tags (last column). A tag on a record "
            "covers every field inside it.</p>")
            + table(["field", "Avro type", "required", "doc", "tags", "who may open it"], rows,
                    "fields"), "fields")
        + section("Example (JSON, as `exchange publish` and the HTTP gateway take it)",
                  json_block(example), "example")
        + section("The same example as its Avro datum (times in epoch milliseconds)",
                  json_block(avro_datum(version.schema, example)), "avro-datum")
    )
    return page(event_type.rpartition(".")[2], body, depth=1)
