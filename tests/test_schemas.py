"""schemas/ is the published contract: it must equal what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from events.api.openapi import contract_files
from events.app import endpoints

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_checked_in_schemas_match_the_code() -> None:
    expected = contract_files(endpoints())
    present = {p.name: p.read_bytes() for p in SCHEMAS.glob("*.json")}
    stale = sorted(set(present) - set(expected))
    missing = sorted(set(expected) - set(present))
    changed = sorted(n for n in set(expected) & set(present) if expected[n] != present[n])
    assert not (stale or missing or changed), (
        f"schemas/ drifted from the code (run scripts/schemas): missing {missing}, "
        f"stale {stale}, changed {changed}"
    )


def test_resource_schemas_describe_the_core_resources() -> None:
    names = {p.stem for p in SCHEMAS.glob("*.json")}
    assert {
        "openapi",
        "EventIn",
        "EventOut",
        "RegistrationIn",
        "RegistrationOut",
        "Problem",
    } <= names
    event_in = json.loads((SCHEMAS / "EventIn.json").read_text())
    body = event_in["$defs"]["EventIn"]
    assert body["additionalProperties"] is False
    assert {"title", "timezone", "starts_at", "ends_at", "capacity"} <= set(body["required"])
