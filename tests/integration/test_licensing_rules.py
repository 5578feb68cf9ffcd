"""Licensing's rules on the real PostgreSQL (no broker needed: events are checked in the outbox)."""
import json

import pytest
from sqlalchemy import select

from services.licensing import entitlements, licences, roster_copy
from services.licensing import models as m
from shared.errors import Conflict, InvalidInput, NotFound
from tests.integration.licensing_helpers import (
    SCHOOL,
    a_school,
    apply_roster,
    register,
    roster_event,
    tomorrow,
    yesterday,
)


@pytest.fixture
def db(sessions):
    factory = sessions["licensing"]
    a_school(factory)
    return factory


def outbox(db) -> list[dict]:
    with db() as s:
        rows = s.execute(select(m.messaging.outbox.c.event_type, m.messaging.outbox.c.body)
                         .order_by(m.messaging.outbox.c.id)).all()
    return [{"type": t, **json.loads(b)["payload"]} for t, b in rows]


def call(db, fn, *args):
    with db() as s, s.begin():
        return fn(s, *args)


def test_register_is_idempotent_on_contract_number_and_updates(db):
    first = register(db, contract_number="0040208023000010", title="Oud")
    again = register(db, contract_number="0040208023000010", title="Nieuw")
    assert again["id"] == first["id"] and again["title"] == "Nieuw"
    with db() as s:
        assert s.scalars(select(m.Licence.title)).all() == ["Nieuw"]


def test_register_refuses_another_schools_contract_and_fewer_seats_than_used(db):
    lic = register(db, contract_number="0040208023000011", kind="pupil", seats=2)
    call(db, licences.couple_pupil, SCHOOL, lic["id"], "P1", "ict@school")
    call(db, licences.couple_pupil, SCHOOL, lic["id"], "P2", "ict@school")
    with pytest.raises(Conflict) as exc:
        register(db, contract_number="0040208023000011", kind="pupil", seats=1)
    assert exc.value.fields == {"seats": ["2 seats in use"]}
    with pytest.raises(Conflict) as exc:
        register(db, contract_number="0040208023000011", kind="group", seats=None)
    assert "kind" in exc.value.fields
    with pytest.raises(Conflict):
        register(db, contract_number="0040208023000011", school_id="11AA00", kind="pupil", seats=5)


def test_bad_licence_input_names_the_fields(db):
    with pytest.raises(InvalidInput) as exc:
        register(db, isbn="9789402018142", contract_number="123", product_type="Spel", end_date="2000-01-01")
    assert set(exc.value.fields) == {"isbn", "contract_number", "product_type"}
    with db() as s:
        assert s.scalars(select(m.Licence)).all() == []


def test_listing_splits_per_groep_and_per_kind_with_active_filter_and_counts(db):
    active = register(db, title="Taal Actief 4 digibordsoftware", method="Taal Actief 4")
    register(db, title="Verlopen proef", end_date=yesterday())
    register(db, title="Volgend jaar", start_date=tomorrow())
    seats = register(db, kind="pupil", seats=3, title="De wereld in getallen oefensoftware groep 7 (per kind)",
                     product_type="Oefensoftware", method="De wereld in getallen")
    call(db, licences.couple_group, SCHOOL, active["id"], "5A", "ict")
    call(db, licences.couple_group, SCHOOL, active["id"], "sg1", "ict")
    call(db, licences.couple_pupil, SCHOOL, seats["id"], "P1", "ict")
    with db() as s:
        per_groep = licences.list_licences(s, SCHOOL, "group")
        only_active = licences.list_licences(s, SCHOOL, "group", active_only=True)
        per_kind = licences.list_licences(s, SCHOOL, "pupil", active_only=True)
        with pytest.raises(InvalidInput):
            licences.list_licences(s, SCHOOL, "teacher")
    # per method, then product type in the seed's order, then title
    assert [x["title"] for x in per_groep] == ["Verlopen proef", "Volgend jaar", "Taal Actief 4 digibordsoftware"]
    assert [(x["title"], x["active"]) for x in only_active] == [("Taal Actief 4 digibordsoftware", True)]
    assert only_active[0]["coupled_groups"] == [{"key": "5A", "name": "Groep 5A"}, {"key": "sg1", "name": "Plusklas"}]
    assert [(x["seats"], x["seats_used"], x["seats_available"]) for x in per_kind] == [(3, 1, 2)]
    assert {x["title"]: x["active"] for x in per_groep}["Verlopen proef"] is False


def test_licence_detail_lists_its_couplings_with_group_names(db):
    lic = register(db)
    call(db, licences.couple_group, SCHOOL, lic["id"], "5B", "ict")
    with db() as s:
        [coupling] = licences.couplings(s, SCHOOL, lic["id"])
    assert (coupling["target_kind"], coupling["target_key"], coupling["group_name"]) == ("group", "5B", "Groep 5B")


def test_group_coupling_twice_is_a_no_op_and_emits_once(db):
    lic = register(db)
    one = call(db, licences.couple_group, SCHOOL, lic["id"], "5A", "ict@school")
    two = call(db, licences.couple_group, SCHOOL, lic["id"], "5A", "ict@school")
    assert one["id"] == two["id"]
    events = outbox(db)
    assert [(e["type"], e["target_kind"], e["target_key"], e["by"], e["reason"]) for e in events] == \
        [("license.coupled", "group", "5A", "ict@school", "by_user")]
    assert events[0]["contract_number"] == lic["contract_number"]


def test_only_groups_and_pupils_the_roster_knows_can_be_coupled(db):
    group_lic, seat_lic = register(db), register(db, kind="pupil", seats=2)
    with pytest.raises(NotFound) as exc:
        call(db, licences.couple_group, SCHOOL, group_lic["id"], "9Z", "ict")
    assert exc.value.fields == {"group_key": ["unknown group"]}
    with pytest.raises(NotFound):
        call(db, licences.couple_pupil, SCHOOL, seat_lic["id"], "P99", "ict")
    with pytest.raises(InvalidInput):
        call(db, licences.couple_pupil, SCHOOL, group_lic["id"], "P1", "ict")
    with pytest.raises(InvalidInput):
        call(db, licences.couple_group, SCHOOL, seat_lic["id"], "5A", "ict")
    with pytest.raises(NotFound):  # another school's licence looks like no licence at all
        call(db, licences.couple_group, "11AA00", group_lic["id"], "5A", "ict")
    ended = register(db, end_date=yesterday())
    with pytest.raises(Conflict):
        call(db, licences.couple_group, SCHOOL, ended["id"], "5A", "ict")
    assert outbox(db) == []


def test_seats_run_out_with_a_clear_error_and_decoupling_frees_one(db):
    lic = register(db, kind="pupil", seats=2)
    first = call(db, licences.couple_pupil, SCHOOL, lic["id"], "P1", "ict")
    call(db, licences.couple_pupil, SCHOOL, lic["id"], "P2", "ict")
    assert call(db, licences.couple_pupil, SCHOOL, lic["id"], "P1", "ict")["id"] == first["id"]  # no-op
    with pytest.raises(Conflict) as exc:
        call(db, licences.couple_pupil, SCHOOL, lic["id"], "P3", "ict")
    assert str(exc.value) == "no seats available"
    call(db, licences.decouple, SCHOOL, lic["id"], first["id"], "ict")
    call(db, licences.decouple, SCHOOL, lic["id"], first["id"], "ict")  # twice: still one seat freed
    call(db, licences.couple_pupil, SCHOOL, lic["id"], "P3", "ict")
    with db() as s:
        assert s.get(m.Licence, lic["id"]).seats_used == 2
        active = s.scalars(select(m.Coupling.target_key).where(m.Coupling.ended_at.is_(None))).all()
    assert sorted(active) == ["P2", "P3"]
    assert [(e["type"], e["target_key"], e["reason"]) for e in outbox(db)] == [
        ("license.coupled", "P1", "by_user"), ("license.coupled", "P2", "by_user"),
        ("license.decoupled", "P1", "by_user"), ("license.coupled", "P3", "by_user")]
    with pytest.raises(NotFound):
        call(db, licences.decouple, SCHOOL, lic["id"], "not-a-uuid", "ict")


def test_removed_group_and_departed_pupil_end_their_couplings(db):
    from services.licensing import reactions

    group_lic, seat_lic = register(db), register(db, kind="pupil", seats=3)
    call(db, licences.couple_group, SCHOOL, group_lic["id"], "5B", "ict")
    call(db, licences.couple_group, SCHOOL, group_lic["id"], "5A", "ict")
    call(db, licences.couple_pupil, SCHOOL, seat_lic["id"], "P3", "ict")
    event = roster_event(2, removed_groups=["5B"], removed_pupils=["P3"])
    with db() as s, s.begin():
        removed = roster_copy.apply_roster_updated(s, event)
        assert reactions.react_to_removals(s, SCHOOL, removed) == {"group_removed": 1, "pupil_left": 1}
    with db() as s, s.begin():  # the same state again (older sequence): nothing more happens
        removed = roster_copy.apply_roster_updated(s, roster_event(2, removed_groups=["5B"], removed_pupils=["P3"]))
        assert reactions.react_to_removals(s, SCHOOL, removed) == {"group_removed": 0, "pupil_left": 0}
    decoupled = [(e["target_key"], e["reason"], e["by"]) for e in outbox(db) if e["type"] == "license.decoupled"]
    assert decoupled == [("5B", "group_removed", "roster"), ("P3", "pupil_left", "roster")]
    with db() as s:
        assert s.get(m.Licence, seat_lic["id"]).seats_used == 0


def test_entitlements_of_a_pupil_come_from_group_composite_group_and_own_seat(db):
    taal = register(db, title="Taal Actief 4 oefensoftware", method="Taal Actief 4", product_type="Oefensoftware")
    plus = register(db, title="Plusklas digibord", method="Argus Clou")
    other = register(db, title="Groep 5B only", method="Staal")
    ended = register(db, title="Verlopen", end_date=yesterday())
    seat = register(db, kind="pupil", seats=1, title="Rekenen per kind", method="De wereld in getallen")
    for lic, group in ((taal, "5A"), (plus, "sg1"), (other, "5B"), (taal, "sg1")):
        call(db, licences.couple_group, SCHOOL, lic["id"], group, "ict")
    call(db, licences.couple_pupil, SCHOOL, seat["id"], "P1", "ict")
    with db() as s:
        s.execute(m.Licence.__table__.update().where(m.Licence.id == ended["id"]).values(end_date="2039-01-01"))
        s.commit()
    call(db, licences.couple_group, SCHOOL, ended["id"], "5A", "ict")
    with db() as s:
        s.execute(m.Licence.__table__.update().where(m.Licence.id == ended["id"]).values(end_date=yesterday()))
        s.commit()
        p1 = entitlements.entitlements(s, SCHOOL, "pupil", "P1")
        p3 = entitlements.entitlements(s, SCHOOL, "pupil", "P3")
        teacher = entitlements.entitlements(s, SCHOOL, "staff", "T5B")
        with pytest.raises(NotFound):
            entitlements.entitlements(s, SCHOOL, "pupil", "nobody")
        with pytest.raises(InvalidInput):
            entitlements.entitlements(s, SCHOOL, "parent", "P1")
    assert [(e["title"], e["via"]) for e in p1] == [
        ("Plusklas digibord", [{"kind": "group", "key": "sg1"}]),
        ("Rekenen per kind", [{"kind": "seat"}]),
        ("Taal Actief 4 oefensoftware", [{"kind": "group", "key": "5A"}, {"kind": "group", "key": "sg1"}])]
    assert [e["title"] for e in p3] == ["Taal Actief 4 oefensoftware"]
    assert [e["title"] for e in teacher] == ["Plusklas digibord", "Groep 5B only", "Taal Actief 4 oefensoftware"]


def test_teacher_start_page_groups_per_method_by_product_type_in_the_seeds_order(db):
    for title, ptype in (("Software handleidingen", "Software handleidingen"), ("Toetsen spelling", "Toetssoftware"),
                         ("Spelling oefenen", "Oefensoftware"), ("Digibord taal", "Digibordsoftware"),
                         ("Resultaten", "Resultatenmonitor"), ("Verwerken", "Verwerkingssoftware")):
        lic = register(db, title=title, product_type=ptype, method="Taal Actief 4")
        call(db, licences.couple_group, SCHOOL, lic["id"], "5A", "ict")
    staal = register(db, title="Staal digibord", method="Staal")
    call(db, licences.couple_group, SCHOOL, staal["id"], "5B", "ict")
    with db() as s:
        page = entitlements.teacher_start_page(s, SCHOOL, "T5A")
        assert [m_["method"] for m_ in entitlements.teacher_start_page(s, SCHOOL, "T5B")] == ["Staal"]
    assert [x["method"] for x in page] == ["Taal Actief 4"]
    assert [t["product_type"] for t in page[0]["product_types"]] == [
        "Digibordsoftware", "Oefensoftware", "Verwerkingssoftware", "Toetssoftware", "Resultatenmonitor",
        "Software handleidingen"]
    assert page[0]["product_types"][0]["licences"][0]["groups"] == [{"key": "5A", "name": "Groep 5A"}]


def test_known_pupils_of_a_group_and_of_a_composite_group(db):
    with db() as s:
        assert roster_copy.known_pupils(s, SCHOOL, "5B") == [{"key": k, "group": "5B"} for k in ("P2", "P4", "P6")]
        assert roster_copy.known_pupils(s, SCHOOL, "sg1") == [{"key": "P1", "group": "5A"}]
        with pytest.raises(NotFound):
            roster_copy.known_pupils(s, SCHOOL, "nope")


def test_moved_pupil_keeps_seat_and_group_access_follows(db):
    seat = register(db, kind="pupil", seats=1, title="Per kind")
    group5b = register(db, title="Alleen 5B")
    call(db, licences.couple_pupil, SCHOOL, seat["id"], "P1", "ict")
    call(db, licences.couple_group, SCHOOL, group5b["id"], "5B", "ict")
    apply_roster(db, roster_event(2, changed_pupils=[("P1", "5B", [])]))
    with db() as s:
        assert [e["title"] for e in entitlements.entitlements(s, SCHOOL, "pupil", "P1")] == ["Alleen 5B", "Per kind"]

