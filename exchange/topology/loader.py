"""Read ``agencies.toml`` and ``topics.toml`` into a :class:`~exchange.topology.model.Topology`.

``topics.toml`` holds three kinds of tables:

* ``[defaults]``: partitions, replication and min.insync.replicas shared by all topics;
* ``[[topic]]``: one concrete topic;
* ``[[inbox]]``: a template expanded once per addressed agency: ``{agency}`` in any string is
  replaced by the agency id; ``for = ["*"]`` means every agency of kind ``agency`` (systems are
  named explicitly); ``readers`` defaults to the addressed agency alone. ``"*"`` in
  ``writers`` or ``readers`` means every agency of kind ``agency``.

Every problem is reported as a :class:`TopologyFileError` naming the file and where in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchange.topology.exceptions import TopologyFileError
from exchange.topology.model import Agency, Topic, Topology, find_problems
from exchange.topology.toml_file import only_tables, read_toml, validation_error

AGENCIES_FILE = "agencies.toml"
TOPICS_FILE = "topics.toml"
ALL = "*"


def default_topology_dir() -> Path:
    """The packaged copy (``exchange/_data/topology`` in a wheel), else the repository's."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_data" / "topology"
    if (packaged / AGENCIES_FILE).is_file():
        return packaged
    return package.parent / "topology"


def load_topology(root: Path | None = None) -> Topology:
    """Load and check the topology in ``root`` (default: :func:`default_topology_dir`)."""
    root = default_topology_dir() if root is None else root
    agencies_file, topics_file = root / AGENCIES_FILE, root / TOPICS_FILE
    agencies = _load_agencies(agencies_file)
    topics = _load_topics(topics_file, agencies)
    problems = find_problems(agencies, [])
    if problems:
        raise TopologyFileError(agencies_file, *problems[0])
    problems = find_problems(agencies, topics)
    if problems:
        raise TopologyFileError(topics_file, *problems[0])
    return Topology(agencies=tuple(agencies), topics=tuple(topics))



def _load_agencies(file: Path) -> list[Agency]:
    data = read_toml(file)
    only_tables(file, data, ("agency",))
    agencies = []
    for i, raw in enumerate(data.get("agency", [])):
        where = f"agency[{raw.get('id', i)}]"
        try:
            agencies.append(Agency.model_validate(raw))
        except ValidationError as error:
            raise validation_error(file, where, error) from None
    if not agencies:
        raise TopologyFileError(file, "agency", "no [[agency]] tables")
    return agencies


class _Defaults(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(3, ge=1)
    min_insync_replicas: int = Field(2, ge=1)


def _load_topics(file: Path, agencies: list[Agency]) -> list[Topic]:
    data = read_toml(file)
    only_tables(file, data, ("defaults", "topic", "inbox"))
    try:
        defaults = _Defaults.model_validate(data.get("defaults", {}))
    except ValidationError as error:
        raise validation_error(file, "defaults", error) from None
    members = [a.id for a in agencies if a.kind == "agency"]
    raws: list[tuple[str, dict[str, Any]]] = []
    for i, raw in enumerate(data.get("topic", [])):
        raws.append((f"topic[{raw.get('name', i)}]", raw))
    for i, template in enumerate(data.get("inbox", [])):
        raws.extend(_expand_inbox(file, f"inbox[{template.get('name', i)}]", template, members))
    topics = []
    for where, given in raws:
        raw = {**defaults.model_dump(), **given}
        raw["writers"] = _expand_all(raw.get("writers", []), members)
        raw["readers"] = _expand_all(raw.get("readers", []), members)
        try:
            topics.append(Topic.model_validate(raw))
        except ValidationError as error:
            raise validation_error(file, where, error) from None
    return topics


def _expand_inbox(
    file: Path, where: str, template: dict[str, Any], members: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    template = dict(template)
    targets = template.pop("for", None)
    if not isinstance(targets, list) or not targets:
        raise TopologyFileError(file, f"{where}.for", 'needs a list of agency ids or ["*"]')
    if "{agency}" not in str(template.get("name", "")):
        raise TopologyFileError(file, f"{where}.name", "an inbox name must contain {agency}")
    template.setdefault("readers", ["{agency}"])
    expanded = []
    for agency_id in _expand_all(targets, members):
        raw = _substitute(template, agency_id)
        raw["addressed_to"] = agency_id
        expanded.append((f"{where}[{agency_id}]", raw))
    return expanded


def _substitute(value: Any, agency_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{agency}", agency_id)
    if isinstance(value, list):
        return [_substitute(item, agency_id) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, agency_id) for key, item in value.items()}
    return value


def _expand_all(ids: list[str], members: list[str]) -> list[str]:
    out: list[str] = []
    for agency_id in ids:
        for one in members if agency_id == ALL else [agency_id]:
            if one not in out:
                out.append(one)
    return out
