"""The gateway's rules without broker or server: accounts, links, rate limits, sessions (in-memory
SQLite stands in for "a database", as for the outbox unit tests), caches, Dutch messages, pages."""
import datetime as dt

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from services.gateway import accounts, dutch, websessions
from services.gateway.cache import TtlCache
from services.gateway.errors import TooManyRequests, Unauthorized, status_for
from services.gateway.models import Base, LoginLink
from services.gateway.queries import page_list
from services.gateway.ui import datum, tijdstip
from shared.errors import Conflict, InvalidInput, NotFound

MEMBER_A = {"school_id": "99ZZ00", "school_name": "A", "staff_key": "LK1", "roles": ["ICT"], "is_ict_coordinator": True}
MEMBER_B = {"school_id": "99YY00", "school_name": "B", "staff_key": "Z1", "roles": ["LRK"], "is_ict_coordinator": False}


@pytest.fixture
def db():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine, expire_on_commit=False)() as session:
        yield session


def account(db, email="juf@school.example", password="goed-wachtwoord"):
    acc = accounts.get_or_create_account(db, email)
    accounts.set_password(db, acc, password)
    db.commit()
    return acc


def test_passwords_are_argon2_hashes_and_verify(db):
    acc = account(db)
    assert acc.password_hash.startswith("$argon2id$") and "goed-wachtwoord" not in acc.password_hash
    assert accounts.authenticate(db, " JUF@school.example ", "goed-wachtwoord", "c1") is acc
    assert accounts.authenticate(db, "juf@school.example", "fout-wachtwoord", "c1") is None
    assert accounts.authenticate(db, "niemand@school.example", "goed-wachtwoord", "c1") is None


def test_an_invited_account_without_password_cannot_log_in(db):
    accounts.get_or_create_account(db, "nieuw@school.example")
    assert accounts.authenticate(db, "nieuw@school.example", "", "c1") is None


def test_password_rules(db):
    with pytest.raises(InvalidInput) as short:
        accounts.check_password_rules("123456789")
    assert short.value.fields == {"password": ["Het wachtwoord moet minstens 10 tekens hebben."]}
    with pytest.raises(InvalidInput):
        accounts.check_password_rules("x" * 201)
    accounts.check_password_rules("1234567890")


def test_login_failures_are_limited_per_email_and_per_client(db, monkeypatch):
    account(db)
    for _ in range(5):
        assert accounts.authenticate(db, "juf@school.example", "fout", "c1") is None
    with pytest.raises(TooManyRequests):
        accounts.authenticate(db, "juf@school.example", "goed-wachtwoord", "c2")
    monkeypatch.setenv("STAFF_LOGIN_MAX_FAILURES_PER_CLIENT", "3")
    for i in range(3):
        accounts.authenticate(db, f"iemand{i}@school.example", "fout", "c9")
    with pytest.raises(TooManyRequests):
        accounts.authenticate(db, "nog-iemand@school.example", "fout", "c9")


def test_a_success_clears_the_failures_of_that_email(db):
    account(db)
    for _ in range(4):
        accounts.authenticate(db, "juf@school.example", "fout", "c1")
    assert accounts.authenticate(db, "juf@school.example", "goed-wachtwoord", "c1") is not None
    for _ in range(4):
        assert accounts.authenticate(db, "juf@school.example", "fout", "c1") is None  # counting starts again


def test_links_are_single_use_expire_and_replace_older_ones(db):
    acc = account(db)
    old = accounts.issue_link(db, acc, "reset")
    new = accounts.issue_link(db, acc, "reset")
    with pytest.raises(NotFound):
        accounts.valid_link(db, old)  # a newer reset link replaces it
    row = db.get(LoginLink, accounts.digest(new))
    assert row is not None and new not in str(vars(row))  # only the digest is stored
    accounts.use_link(db, new, "nieuw-wachtwoord")
    with pytest.raises(NotFound):
        accounts.use_link(db, new, "nog-een-wachtwoord")
    late = accounts.issue_link(db, acc, "invitation")
    db.get(LoginLink, accounts.digest(late)).expires_at = accounts.utcnow() - dt.timedelta(seconds=1)
    with pytest.raises(NotFound):
        accounts.valid_link(db, late)


def test_purge_deletes_only_what_is_spent(db):
    acc = account(db)
    live = accounts.issue_link(db, acc, "invitation")
    used = accounts.issue_link(db, acc, "reset")
    accounts.use_link(db, used, "nieuw-wachtwoord")
    accounts.authenticate(db, acc.email, "fout", "c1")
    _, old_session = websessions.open_session(db, acc, [MEMBER_A])
    old_session.expires_at = accounts.utcnow() - dt.timedelta(seconds=1)
    fresh_token, _ = websessions.open_session(db, acc, [MEMBER_A])
    db.flush()
    assert accounts.purge_spent(db) == {"links": 1, "attempts": 0}
    assert websessions.purge_expired(db) == 1
    accounts.valid_link(db, live)
    assert websessions.find(db, fresh_token) is not None


def test_sessions_choose_a_school_and_expire(db, monkeypatch):
    acc = account(db)
    token, ws = websessions.open_session(db, acc, [MEMBER_A, MEMBER_B])
    assert ws.school_id is None and ws.token_hash != token
    assert websessions.find(db, token) is ws
    assert websessions.choose_school(ws, "99YY00") == MEMBER_B
    with pytest.raises(NotFound):
        websessions.choose_school(ws, "12AB34")
    assert ws.school_id == "99YY00"
    websessions.refresh_memberships(ws, [MEMBER_A])  # the roster no longer lists B
    assert ws.school_id is None
    ws.last_seen_at = accounts.utcnow() - dt.timedelta(hours=2)
    assert websessions.find(db, token) is None  # idle too long
    _, single = websessions.open_session(db, acc, [MEMBER_A])
    assert single.school_id == "99ZZ00"  # one school: chosen at once


def test_ttl_cache(monkeypatch):
    cache = TtlCache("TEST_CACHE_SECONDS", 60)
    cache.put(("99ZZ00", "group"), [1])
    cache.put(("99YY00", "group"), [2])
    assert cache.get(("99ZZ00", "group")) == [1]
    cache.evict(lambda key: key[0] == "99ZZ00")
    assert cache.get(("99ZZ00", "group")) is None and cache.get(("99YY00", "group")) == [2]
    monkeypatch.setenv("TEST_CACHE_SECONDS", "0")
    cache.put("x", 1)
    assert cache.get("x") is None  # 0 switches caching off
    monkeypatch.setenv("TEST_CACHE_SECONDS", "-1")
    calls = []
    assert cache.get_or_load("y", lambda: calls.append(1) or "v") == "v"
    assert cache.get_or_load("y", lambda: calls.append(1) or "v") == "v" and len(calls) == 2


def test_ttl_cache_loads_once_for_callers_that_miss_together():
    import eventlet

    cache, calls, release = TtlCache("TEST_CACHE_SECONDS", 60), [], eventlet.event.Event()

    def slow_load():
        calls.append(1)
        release.wait()
        return ["licences"]

    callers = [eventlet.spawn(cache.get_or_load, "99ZZ00", slow_load) for _ in range(20)]
    eventlet.sleep(0)  # every caller has missed and is waiting now
    release.send()
    assert [c.wait() for c in callers] == [["licences"]] * 20
    assert len(calls) == 1

    def failing_load():
        raise RuntimeError("licensing down")

    with pytest.raises(RuntimeError):
        cache.get_or_load("99YY00", failing_load)
    assert cache.get_or_load("99YY00", lambda: ["later"]) == ["later"]  # a failure is not cached


def test_ttl_cache_does_not_store_a_load_that_an_eviction_overtook():
    import eventlet

    cache, release = TtlCache("TEST_CACHE_SECONDS", 60), eventlet.event.Event()

    def load_before_coupling():
        release.wait()
        return ["seats: 3"]

    early = eventlet.spawn(cache.get_or_load, "99ZZ00", load_before_coupling)
    eventlet.sleep(0)
    cache.evict(lambda key: key == "99ZZ00")  # a coupling changed the list while the load was out
    release.send()
    assert early.wait() == ["seats: 3"]  # that caller gets its answer...
    assert cache.get("99ZZ00") is None  # ...but it is not kept for the next one
    assert cache.get_or_load("99ZZ00", lambda: ["seats: 2"]) == ["seats: 2"]


def test_dutch_messages_for_errors():
    assert dutch.message(Conflict("no seats available", {"licence_id": ["no seats available"]}), 409) == \
        "Er zijn geen licenties meer beschikbaar. Ontkoppel eerst een leerling."
    assert dutch.message(InvalidInput("x", {"endpoint_url": ["must be an https:// URL"]}), 400) == \
        "De invoer is niet juist. (endpoint_url: must be an https:// URL)"
    assert dutch.message(NotFound("licence not found"), 404) == "Deze licentie bestaat niet (meer)."
    assert dutch.message(Conflict("this licence has ended", {"licence_id": ["ended on 2020-07-31"]}), 409) == \
        "Deze licentie is verlopen en kan niet meer worden gekoppeld."
    assert dutch.message(Conflict("the school is already coupled to Momento",
                                  {"lvs": ["already coupled to Momento"]}), 409).startswith("De school is al")
    assert dutch.message(Unauthorized("no"), status_for(Unauthorized("no"))).startswith("Je bent niet")
    assert dutch.message(RuntimeError("boom"), 500) == "Er ging iets mis. Probeer het later opnieuw."


def test_page_list_and_dates():
    page = page_list(list(range(7)), 2, 3)
    assert page == {"items": [3, 4, 5], "page": {"page": 2, "per_page": 3, "total": 7, "pages": 3}}
    assert page_list([], 1, 50)["page"]["pages"] == 1
    with pytest.raises(InvalidInput):
        page_list(list(range(7)), 4, 3)
    assert datum("2017-05-15") == "15-05-2017"
    assert tijdstip("2017-08-28T09:33:00+00:00") == "28 augustus 2017, 11:33"  # Dutch summer time
    assert tijdstip(None) == "nog niet"


def test_demo_licences_have_unique_contract_numbers_in_both_schools():
    from tests.gateway_fixtures import demo_licences

    numbers = [x["contract_number"] for school in ("99ZZ00", "99YY00") for x in demo_licences(school)]
    assert len(numbers) == len(set(numbers)) == 16
