"""Consent and LVS couplings over real RPC (RabbitMQ) on the real results database."""
import pytest
from sqlalchemy import select

from shared import secrets
from shared.errors import Conflict, InvalidInput, NotFound
from tests.integration.results.support import (
    COORDINATOR,
    OTHER_SCHOOL,
    SCHOOL,
    couple,
    practice,
    rm,
)


@pytest.fixture
def results(start_services, results_env):
    return start_services("results")


def test_consent_is_off_until_given_and_records_who_and_when(results, rpc, sessions):
    assert rpc.consent(SCHOOL) == {"given": False, "by": None, "at": None}
    given = rpc.set_consent(SCHOOL, True, COORDINATOR)
    assert given["given"] is True and given["by"] == COORDINATOR and given["at"].endswith("+00:00")
    assert rpc.consent(SCHOOL) == given
    assert rpc.consent(OTHER_SCHOOL)["given"] is False
    withdrawn = rpc.set_consent(SCHOOL, False, "directie@school.example")
    assert withdrawn["given"] is False and withdrawn["by"] == "directie@school.example"
    with sessions["results"]() as s:
        history = s.execute(select(rm.ConsentChange.given, rm.ConsentChange.changed_by)
                            .order_by(rm.ConsentChange.id)).all()
    assert history == [(True, COORDINATOR), (False, "directie@school.example")]


@pytest.mark.parametrize("args, field", [
    (("99zz00", True, COORDINATOR), "school_id"),
    ((SCHOOL, "yes", COORDINATOR), "given"),
    ((SCHOOL, True, ""), "by"),
])
def test_bad_consent_input_is_refused_and_changes_nothing(results, rpc, args, field):
    with pytest.raises(InvalidInput) as err:
        rpc.set_consent(*args)
    assert field in err.value.fields
    assert rpc.consent(SCHOOL)["given"] is False


def test_lvs_options_name_the_known_systems_and_other(results, rpc, monkeypatch):
    monkeypatch.setenv("RESULTS_LVS_ENDPOINT_MOMENTO", "https://momento.example/uwlr")
    options = {o["lvs"]: o for o in rpc.lvs_options()}
    assert [o["lvs_name"] for o in options.values()] == ["Momento", "ParnasSys", "ESIS", "Ander leerlingvolgsysteem"]
    assert options["momento"]["endpoint_url_required"] is False
    assert options["esis"]["endpoint_url_required"] is True
    assert options["other"]["endpoint_url_required"] is True


def test_add_coupling_keeps_the_key_secret(results, rpc, sessions, monkeypatch):
    monkeypatch.setenv("RESULTS_LVS_ENDPOINT_MOMENTO", "https://momento.example/uwlr")
    coupling = rpc.add_lvs_coupling(SCHOOL, {"lvs": "momento", "authorisation_key": "88MMO-secret-7731"},
                                    COORDINATOR)
    assert coupling["lvs"] == "momento" and coupling["lvs_name"] == "Momento"
    assert coupling["endpoint_url"] == "https://momento.example/uwlr"
    assert coupling["key_hint"] == "••••••••7731"
    assert coupling["status"] == "no_consent"  # nothing leaves before consent
    assert coupling["last_export_at"] is None and coupling["last_export_count"] is None
    assert set(coupling) == {"id", "lvs", "lvs_name", "endpoint_url", "key_hint", "status", "last_export_at",
                             "last_export_count", "last_error"}
    assert "88MMO-secret-7731" not in repr(rpc.lvs_couplings(SCHOOL))
    with sessions["results"]() as s:
        stored = s.get(rm.LvsCoupling, coupling["id"])
        assert "88MMO" not in stored.key_encrypted
        assert secrets.decrypt(stored.key_encrypted) == "88MMO-secret-7731"
        assert stored.created_by == COORDINATOR
    rpc.set_consent(SCHOOL, True, COORDINATOR)
    assert rpc.lvs_couplings(SCHOOL)[0]["status"] == "active"


@pytest.mark.parametrize("data, field", [
    ({"lvs": "magister", "authorisation_key": "k"}, "lvs"),
    ({"lvs": "other", "authorisation_key": "k"}, "endpoint_url"),
    ({"lvs": "esis", "authorisation_key": "k"}, "endpoint_url"),  # no endpoint configured for ESIS
    ({"lvs": "other", "endpoint_url": "ftp://lvs.example/", "authorisation_key": "k"}, "endpoint_url"),
    ({"lvs": "other", "endpoint_url": "https://user:pw@lvs.example/", "authorisation_key": "k"}, "endpoint_url"),
    ({"lvs": "other", "endpoint_url": "https://lvs.example/", "authorisation_key": ""}, "authorisation_key"),
    ({"lvs": "other", "endpoint_url": "https://lvs.example/", "authorisation_key": "k" * 65}, "authorisation_key"),
    ({"lvs": "other", "endpoint_url": "https://lvs.example/"}, "authorisation_key"),
])
def test_bad_coupling_input_names_the_field_and_stores_nothing(results, rpc, data, field):
    with pytest.raises(InvalidInput) as err:
        rpc.add_lvs_coupling(SCHOOL, data, COORDINATOR)
    assert field in err.value.fields
    assert rpc.lvs_couplings(SCHOOL) == []


def test_plain_http_endpoints_are_refused_unless_allowed(results, rpc, monkeypatch):
    monkeypatch.setenv("RESULTS_LVS_ALLOW_HTTP", "0")
    with pytest.raises(InvalidInput) as err:
        rpc.add_lvs_coupling(SCHOOL, {"lvs": "other", "endpoint_url": "http://lvs.example/",
                                      "authorisation_key": "k"}, COORDINATOR)
    assert err.value.fields == {"endpoint_url": ["must be an https:// URL"]}


def test_a_second_coupling_to_the_same_lvs_is_a_conflict(results, rpc):
    data = {"lvs": "other", "endpoint_url": "https://lvs.example/uwlr", "authorisation_key": "k1"}
    rpc.add_lvs_coupling(SCHOOL, data, COORDINATOR)
    with pytest.raises(Conflict):
        rpc.add_lvs_coupling(SCHOOL, {**data, "authorisation_key": "k2"}, COORDINATOR)
    rpc.add_lvs_coupling(SCHOOL, {**data, "endpoint_url": "https://other-lvs.example/uwlr"}, COORDINATOR)
    rpc.add_lvs_coupling(OTHER_SCHOOL, data, COORDINATOR)
    assert len(rpc.lvs_couplings(SCHOOL)) == 2


def test_update_key_and_remove_are_scoped_to_the_school(results, rpc, sessions):
    data = {"lvs": "other", "endpoint_url": "https://lvs.example/uwlr", "authorisation_key": "first-key-1111"}
    mine = rpc.add_lvs_coupling(SCHOOL, data, COORDINATOR)
    theirs = rpc.add_lvs_coupling(OTHER_SCHOOL, data, COORDINATOR)
    for call in (lambda: rpc.update_lvs_key(SCHOOL, theirs["id"], "stolen-key", COORDINATOR),
                 lambda: rpc.remove_lvs_coupling(SCHOOL, theirs["id"], COORDINATOR),
                 lambda: rpc.update_lvs_key(SCHOOL, "not-a-uuid", "k", COORDINATOR),
                 lambda: rpc.remove_lvs_coupling(SCHOOL, "2b1f6a9e-0000-4000-8000-000000000000", COORDINATOR)):
        with pytest.raises(NotFound):
            call()
    assert rpc.lvs_couplings(OTHER_SCHOOL)[0]["key_hint"] == "••••••••1111"

    updated = rpc.update_lvs_key(SCHOOL, mine["id"], "second-key-2222", "ander@school.example")
    assert updated["key_hint"] == "••••••••2222"
    with sessions["results"]() as s:
        stored = s.get(rm.LvsCoupling, mine["id"])
        assert (stored.key_version, stored.key_changed_by) == (2, "ander@school.example")
        assert secrets.decrypt(stored.key_encrypted) == "second-key-2222"

    rpc.remove_lvs_coupling(SCHOOL, mine["id"], COORDINATOR)
    assert rpc.lvs_couplings(SCHOOL) == []
    with pytest.raises(NotFound):
        rpc.update_lvs_key(SCHOOL, mine["id"], "k", COORDINATOR)
    assert rpc.add_lvs_coupling(SCHOOL, data, COORDINATOR)["id"] != mine["id"]  # can couple again


def test_record_result_reports_why_a_result_is_not_kept(results, rpc, lvs, sessions):
    assert rpc.record_result({"school_id": SCHOOL, **practice(1)})["reason"] == "no_consent"
    rpc.set_consent(SCHOOL, True, COORDINATOR)
    assert rpc.record_result({"school_id": SCHOOL, **practice(2)})["reason"] == "no_lvs_coupling"
    couple(rpc, lvs)
    assert rpc.record_result({"school_id": SCHOOL, **practice(3, kind="test")}) == \
        {"result_key": "res-3", "stored": False, "reason": "test_result"}
    assert rpc.record_result({"school_id": SCHOOL, **practice(4)}) == \
        {"result_key": "res-4", "stored": True, "reason": None}
    assert rpc.record_result({"school_id": SCHOOL, **practice(4)})["reason"] == "duplicate"
    with sessions["results"]() as s:
        assert s.scalars(select(rm.PracticeResult.result_key)).all() == ["res-4"]


@pytest.mark.parametrize("change, field", [
    ({"score": -1}, "score"), ({"score": "7"}, "score"), ({"kind": "exam"}, "kind"),
    ({"taken_on": "20-11-2026"}, "taken_on"), ({"exercise_name": "x" * 129}, "exercise_name"),
    ({"result_key": ""}, "result_key"), ({"school_id": "nope"}, "school_id"),
])
def test_bad_result_input_is_refused_with_the_field(results, rpc, change, field):
    with pytest.raises(InvalidInput) as err:
        rpc.record_result({"school_id": SCHOOL, **practice(1), **change})
    assert field in err.value.fields
