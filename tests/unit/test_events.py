import uuid

import pytest
from marshmallow import ValidationError

from shared.contract_doc import render
from shared.events import CONTRACTS, load_event, make_event

ROSTER = {"sequence": 1, "groups": {"added": [{"key": "G1", "name": "Groep 1"}]}}


def test_envelope_round_trip():
    event = make_event("roster.updated", "99ZZ00", ROSTER)
    assert set(event) == {"event_id", "event_type", "schema_version", "occurred_at", "school", "payload"}
    uuid.UUID(event["event_id"])
    assert event["occurred_at"].endswith("+00:00")
    loaded = load_event(event)
    assert loaded["payload"]["groups"]["added"][0] == {"key": "G1", "name": "Groep 1", "jaargroep": None,
                                                      "composite": False}
    assert loaded["payload"]["pupils"] == {"added": [], "changed": [], "removed": []}


@pytest.mark.parametrize("event_type, payload, field", [
    ("roster.updated", {"groups": {}}, "sequence"),
    ("license.coupled", {"coupling_id": "c", "licence_id": "l", "contract_number": "1", "target_kind": "class",
                         "target_key": "G", "by": "x"}, "target_kind"),
    ("license.decoupled", {"coupling_id": "c", "licence_id": "l", "contract_number": "1", "target_kind": "group",
                           "target_key": "G", "by": "x", "reason": "bored"}, "reason"),
])
def test_payload_breaking_the_contract_is_refused(event_type, payload, field):
    with pytest.raises(ValidationError) as err:
        make_event(event_type, "99ZZ00", payload)
    assert field in err.value.messages


def test_unknown_type_bad_school_and_version_are_refused():
    with pytest.raises(ValidationError):
        make_event("roster.exploded", "99ZZ00", {})
    with pytest.raises(ValidationError) as err:
        make_event("roster.updated", "99zz", ROSTER)
    assert "school" in err.value.messages
    event = make_event("roster.updated", "99ZZ00", ROSTER)
    with pytest.raises(ValidationError):
        load_event({**event, "schema_version": 2})


def test_contract_document_names_every_event():
    doc = render()
    for event_type in CONTRACTS:
        assert f"`{event_type}`" in doc


def test_docs_events_md_is_up_to_date():
    from shared.config import PROJECT_ROOT

    assert (PROJECT_ROOT / "docs/events.md").read_text() == render(), "run: koppel events doc > docs/events.md"
