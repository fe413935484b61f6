"""Reading a sanctions list in the OpenSanctions / FollowTheMoney entity format.

The file holds one JSON entity per line (OpenSanctions' ``entities.ftm.json``):

    {"id": "…", "schema": "Person", "properties": {"name": ["…"], "alias": ["…"],
     "birthDate": ["1970-01-01"], "country": ["ru"]}}

Only the schemata that name a party are kept (Person, Organization, Company,
LegalEntity, PublicBody); sanctions programmes, addresses and the rest are skipped, as
are entities with no name. Everything is bounded: the file's size, the entities, the
names per entity and their lengths. A line that is not an entity is an error naming
its line number, not a silent skip: a half-read list would screen against less than
the operator thinks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ...domain.risk.names import NAME_CHARS_MAX, SCHEMATA, NameKind

FILE_BYTES_MAX = 512 * 1024 * 1024
ENTITIES_MAX = 2_000_000
NAMES_PER_ENTITY_MAX = 64
ID_CHARS_MAX = 128
NAME_PROPERTIES = ("name", "alias", "previousName")
PARTY_SCHEMATA = SCHEMATA[NameKind.ANY]


class SanctionsListError(ValueError):
    """The file is not a list this reader accepts; the message names the line."""


@dataclass(frozen=True)
class ListedEntity:
    id: str
    schema: str
    names: tuple[str, ...]  # the name first, then aliases and previous names
    birth_dates: tuple[str, ...]
    countries: tuple[str, ...]


def _strings(props: dict[str, object], key: str, line: int) -> list[str]:
    values = props.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SanctionsListError(f"line {line}: property {key!r} is not a list of strings")
    return [v.strip() for v in values if v.strip()]


def parse_entity(text: str, line: int) -> ListedEntity | None:
    """One line as an entity; None for a schema that names no party, or no name."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SanctionsListError(f"line {line}: not JSON ({exc.msg})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) \
            or not isinstance(raw.get("schema"), str) \
            or not isinstance(raw.get("properties", {}), dict):
        raise SanctionsListError(f"line {line}: not an entity (id, schema, properties)")
    if raw["schema"] not in PARTY_SCHEMATA:
        return None
    entity_id = raw["id"]
    if not 0 < len(entity_id) <= ID_CHARS_MAX or not entity_id.isprintable():
        raise SanctionsListError(f"line {line}: entity id of {len(entity_id)} characters")
    props = raw.get("properties", {})
    names: list[str] = []
    for key in NAME_PROPERTIES:
        names.extend(n[:NAME_CHARS_MAX] for n in _strings(props, key, line))
    names = list(dict.fromkeys(names))[:NAMES_PER_ENTITY_MAX]
    if not names:
        return None
    return ListedEntity(entity_id, raw["schema"], tuple(names),
                        tuple(_strings(props, "birthDate", line)[:8]),
                        tuple(c.lower() for c in _strings(props, "country", line)[:8]))


def read_entities(path: Path) -> list[ListedEntity]:
    """Every party entity in the file, in file order; an id seen twice is an error."""
    size = path.stat().st_size
    if size > FILE_BYTES_MAX:
        raise SanctionsListError(f"{path.name}: {size} bytes, over {FILE_BYTES_MAX}")
    found: list[ListedEntity] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            entity = parse_entity(text, number)
            if entity is None:
                continue
            if entity.id in seen:
                raise SanctionsListError(f"line {number}: entity {entity.id!r} repeated")
            if len(found) >= ENTITIES_MAX:
                raise SanctionsListError(f"more than {ENTITIES_MAX} entities")
            seen.add(entity.id)
            found.append(entity)
    return found
