"""Pupil logins (issue 7, seed §4) through the real roster service on RabbitMQ and PostgreSQL."""
import base64
import datetime as dt
import email
import io
import logging
import re

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from pypdf import PdfReader
from sqlalchemy import func, select, text

from services.roster import home_logins, logins, store
from services.roster.login_models import GroupLoginMethod, HomeLogin, PupilLogin
from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo
from shared.config import PROJECT_ROOT
from shared.errors import Conflict, InvalidInput, NotFound
from shared.secrets import decrypt

ICT = "ict@regenboog.nl"
EXAMPLE = PROJECT_ROOT / "shared/standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml"


def snapshot(brin="12AB", pupils=None, groups=None, name="De Regenboog") -> RosterSnapshot:
    groups = groups or [Group("g7", "Groep 7", "7"), Group("g12", "Groep 1/2", "1"),
                        Group("sg", "Leesclub", None, composite=True)]
    if pupils is None:
        pupils = [Pupil("p1", "Yılmaz", "Ayşe", None, "7", "g7", ("sg",)),
                  Pupil("p2", "Bos", "Esmee", "van den", "7", "g7"),
                  Pupil("p3", "Jansen", "Daan", None, "1", "g12", ("sg",))]
    return RosterSnapshot(SchoolInfo(brin, "00", name, "2026-2027"),
                          groups={g.key: g for g in groups}, pupils={p.key: p for p in pupils})


def sync(sessions, snap) -> dict:
    with sessions["roster"]() as session, session.begin():
        return store.sync_school(session, snap, guard=False)


def count(sessions, model, **where) -> int:
    with sessions["roster"]() as s:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return s.scalar(query)


def stored_login(sessions, school_id, pupil_key) -> PupilLogin | None:
    with sessions["roster"]() as s:
        return s.get(PupilLogin, (school_id, pupil_key))


@pytest.fixture
def roster(start_services, service_config):
    start_services("roster")
    with ServiceRpcProxy("roster", service_config) as proxy:
        yield proxy


@pytest.fixture
def mailbox(tmp_path, monkeypatch):
    monkeypatch.setenv("KOPPEL_MAIL_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_HOST", raising=False)

    def mails():
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(tmp_path.glob("*.eml"),
                                                                          key=lambda p: p.stat().st_mtime_ns)]
    return mails


def by_key(listing: dict) -> dict:
    return {p["key"]: p for p in listing["pupils"]}


def test_a_new_pupil_gets_a_login_at_import_keeps_it_and_loses_it_on_leaving(sessions, roster, mailbox):
    sync(sessions, snapshot())
    assert count(sessions, PupilLogin, school_id="12AB00") == 3  # at once, before anyone listed them
    first = by_key(roster.group_logins("12AB00", "g7"))
    assert re.fullmatch(r"[0-9]{4}", first["p1"]["pincode"]) and len(first["p1"]["pictures"]) == 3
    roster.add_home_email("12AB00", "p1", "ouder@example.nl")

    # next night: Esmee's name changes, Ayşe has left the school, Mila is new
    pupils = [Pupil("p2", "Bos", "Esmée", "van den", "7", "g7"), Pupil("p3", "Jansen", "Daan", None, "1", "g12"),
              Pupil("p4", "Visser", "Mila", None, "7", "g7")]
    report = sync(sessions, snapshot(pupils=pupils))
    assert report["pupils"] == {"added": 1, "changed": 2, "removed": 1}
    assert stored_login(sessions, "12AB00", "p1") is None
    assert count(sessions, HomeLogin, pupil_key="p1") == 0
    assert stored_login(sessions, "12AB00", "p4") is not None
    after = by_key(roster.group_logins("12AB00", "g7"))
    assert sorted(after) == ["p2", "p4"]
    assert after["p2"]["pincode"] == first["p2"]["pincode"]  # a roster change does not change a login
    assert after["p2"]["display_name"] == "Esmée van den Bos"


def test_an_uploaded_edexml_file_gives_its_pupils_logins(roster):
    content = base64.b64encode(EXAMPLE.read_bytes()).decode()
    assert roster.import_edexml(content, name="Demoschool")["pupils"]["added"] == 3
    grp4b = roster.group_logins("99ZZ00", "GRP4B")
    assert [(p["key"], p["display_name"], p["login_method"]) for p in grp4b["pupils"]] == \
        [("00001", "Wimpie imp ie", "pincode")]
    assert re.fullmatch(r"[0-9]{4}", grp4b["pupils"][0]["pincode"])
    sg1 = roster.group_logins("99ZZ00", "sg1")  # a composite group lists its members with their logins
    assert sg1["composite"] is True and sg1["pupils"] == grp4b["pupils"]


def test_logins_are_encrypted_at_rest(sessions, roster):
    sync(sessions, snapshot())
    roster.set_pincode("12AB00", "p2", "8317", ICT)
    roster.set_pictures("12AB00", "p2", ["hart", "vis", "boot"], ICT)
    with sessions["roster"]() as s:
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM pupil_logins")) for v in row)
    assert "8317" not in dump and "hart" not in dump
    row = stored_login(sessions, "12AB00", "p2")
    assert decrypt(row.pincode_secret) == "8317" and decrypt(row.pictures_secret) == "hart,vis,boot"
    assert row.changed_by == ICT


def test_pupils_imported_before_logins_existed_get_one_when_first_listed(sessions, roster):
    sync(sessions, snapshot())
    with sessions["roster"]() as s, s.begin():
        s.execute(text("DELETE FROM pupil_logins"))
    listing = by_key(roster.group_logins("12AB00", "g7"))
    assert all(re.fullmatch(r"[0-9]{4}", p["pincode"]) for p in listing.values())
    assert count(sessions, PupilLogin) == 2  # only the listed group's pupils
    assert by_key(roster.group_logins("12AB00", "g7")) == listing  # and they keep it


def test_group_logins_answers_the_table_of_seed_section_4(sessions, roster):
    sync(sessions, snapshot())
    listing = roster.group_logins("12AB00", "g7")
    assert {k: listing[k] for k in ("group_key", "group_name", "composite", "login_method")} == \
        {"group_key": "g7", "group_name": "Groep 7", "composite": False, "login_method": "pincode"}
    assert [(p["key"], p["display_name"]) for p in listing["pupils"]] == \
        [("p2", "Esmee van den Bos"), ("p1", "Ayşe Yılmaz")]  # name order
    assert set(listing["pupils"][0]) == {"key", "display_name", "login_method", "pincode", "pictures",
                                         "home_emails"}


def test_another_schools_group_or_pupil_is_not_found(sessions, roster):
    sync(sessions, snapshot("12AB"))
    other = [Pupil("p9", "Smit", "Noor", None, "8", "g8")]
    sync(sessions, snapshot("34CD", pupils=other, groups=[Group("g8", "Groep 8", "8")], name="Het Anker"))
    before = stored_login(sessions, "34CD00", "p9").pincode_secret
    calls = [lambda: roster.group_logins("12AB00", "g8"),
             lambda: roster.login_sheet_pdf("12AB00", "g8"),
             lambda: roster.set_group_login_method("12AB00", "g8", "pictures", ICT),
             lambda: roster.set_pincode("12AB00", "p9", "1234", ICT),
             lambda: roster.set_pictures("12AB00", "p9", ["zon", "maan", "ster"], ICT),
             lambda: roster.add_home_email("12AB00", "p9", "ouder@example.nl"),
             lambda: roster.remove_home_email("12AB00", "p9", "ouder@example.nl"),
             lambda: roster.group_logins("34CD00", "g7")]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    # the learning app's check answers only valid/invalid, also for another school's pupil or a guess
    assert roster.verify_pupil_login("12AB00", "p9", pincode="1234") == {"valid": False}
    assert roster.verify_pupil_login("12AB00", "geraden", pincode="1234") == {"valid": False}
    assert stored_login(sessions, "34CD00", "p9").pincode_secret == before
    assert stored_login(sessions, "34CD00", "p9").failed_attempts == 0
    assert count(sessions, GroupLoginMethod) == 0 and count(sessions, HomeLogin) == 0


def test_login_method_per_group(sessions, roster):
    sync(sessions, snapshot())
    changed = roster.set_group_login_method("12AB00", "g12", "pictures", ICT)
    assert changed["login_method"] == "pictures"
    assert [p["login_method"] for p in changed["pupils"]] == ["pictures"]
    assert roster.group_logins("12AB00", "g7")["login_method"] == "pincode"  # other groups keep theirs

    composite = roster.group_logins("12AB00", "sg")
    assert composite["composite"] is True and composite["login_method"] is None
    assert {p["key"]: p["login_method"] for p in composite["pupils"]} == {"p1": "pincode", "p3": "pictures"}
    with pytest.raises(InvalidInput) as err:
        roster.set_group_login_method("12AB00", "sg", "pictures", ICT)
    assert list(err.value.fields) == ["group_key"]

    with pytest.raises(InvalidInput) as err:
        roster.set_group_login_method("12AB00", "g12", "wachtwoord", "")
    assert set(err.value.fields) == {"method", "by"}
    assert roster.group_logins("12AB00", "g12")["login_method"] == "pictures"  # nothing changed

    assert roster.set_group_login_method("12AB00", "g12", "pincode", ICT)["login_method"] == "pincode"


def test_set_pincode_wachtwoord_wijzigen(sessions, roster):
    sync(sessions, snapshot())
    before = stored_login(sessions, "12AB00", "p2").pincode_secret
    for bad in ("123", "12345", "12a4", "", 1234):
        with pytest.raises(InvalidInput) as err:
            roster.set_pincode("12AB00", "p2", bad, ICT)
        assert list(err.value.fields) == ["pincode"]
    assert stored_login(sessions, "12AB00", "p2").pincode_secret == before  # changes nothing

    entry = roster.set_pincode("12AB00", "p2", "0427", ICT)
    assert entry["key"] == "p2" and entry["pincode"] == "0427"
    assert by_key(roster.group_logins("12AB00", "g7"))["p2"]["pincode"] == "0427"


def test_set_pictures_leerlingplaatje_wijzigen(sessions, roster):
    sync(sessions, snapshot())
    with pytest.raises(InvalidInput) as err:
        roster.set_pictures("12AB00", "p3", ["zon", "draak", "vis"], ICT)
    assert err.value.fields == {"pictures": ["item 2: not a picture of the picture set"]}
    entry = roster.set_pictures("12AB00", "p3", ["vis", "vis", "zon"], ICT)
    assert entry["pictures"] == ["vis", "vis", "zon"]
    assert by_key(roster.group_logins("12AB00", "g12"))["p3"]["pictures"] == ["vis", "vis", "zon"]
    assert [p["name"] for p in roster.picture_set()["pictures"]][:3] == ["zon", "maan", "ster"]


def test_printversie_pdf_read_back(sessions, roster):
    pupils = [Pupil(f"k{i:02d}", f"Achternaam{i:02d}", f"Kind{i:02d}", None, "7", "g7") for i in range(12)]
    pupils += [Pupil("t1", "Wójcik", "Łucja", None, "1", "g12")]
    sync(sessions, snapshot(pupils=pupils))
    roster.set_group_login_method("12AB00", "g12", "pictures", ICT)
    roster.set_pictures("12AB00", "t1", ["appel", "huis", "bloem"], ICT)

    listing = roster.group_logins("12AB00", "g7")
    reader = PdfReader(io.BytesIO(base64.b64decode(roster.login_sheet_pdf("12AB00", "g7"))))
    assert len(reader.pages) == 2  # 12 cards, 10 per page
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert "Inloggegevens Groep 7" in content and "De Regenboog" in content
    for pupil in listing["pupils"]:
        card = content.split(pupil["display_name"], 1)[1][:80]
        assert pupil["pincode"] in card, pupil["key"]

    reader = PdfReader(io.BytesIO(base64.b64decode(roster.login_sheet_pdf("12AB00", "g12"))))
    content = reader.pages[0].extract_text()
    assert len(reader.pages) == 1 and "Łucja Wójcik" in content
    assert "1. Appel" in content and "2. Huis" in content and "3. Bloem" in content
    assert "Pincode" not in content


def test_thuislogin_mail_activation_and_limits(sessions, roster, mailbox):
    sync(sessions, snapshot())
    entry = roster.add_home_email("12AB00", "p2", "  Ouder1@Example.nl ")
    assert entry["home_emails"] == ["Ouder1@Example.nl"]
    [mail] = mailbox()
    assert mail["To"] == "Ouder1@Example.nl" and mail["Subject"] == "Activeer de thuislogin"
    body = mail.get_payload(decode=True).decode()
    assert "De Regenboog" in body and "Esmee" not in body
    token = re.search(r"/thuislogin/activeren\?token=([A-Za-z0-9_-]+)", body).group(1)
    with sessions["roster"]() as s:
        stored = " ".join(str(v) for row in s.execute(text("SELECT * FROM home_logins")) for v in row)
    assert token not in stored and "Ouder1" not in stored  # token hashed, address encrypted

    assert roster.activate_home_email(token) == {"activated": True, "email": "Ouder1@Example.nl"}
    with pytest.raises(InvalidInput) as err:
        roster.activate_home_email(token)  # single use
    assert list(err.value.fields) == ["token"]

    with pytest.raises(Conflict) as err:
        roster.add_home_email("12AB00", "p2", "ouder1@example.NL")
    assert list(err.value.fields) == ["email"]
    for bad in ("ouder2", "ouder2@", "", None):
        with pytest.raises(InvalidInput) as err:
            roster.add_home_email("12AB00", "p2", bad)
        assert list(err.value.fields) == ["email"]
    assert len(mailbox()) == 1  # refused input sends nothing

    assert roster.add_home_email("12AB00", "p2", "ouder2@example.nl")["home_emails"] == \
        ["Ouder1@Example.nl", "ouder2@example.nl"]
    with pytest.raises(Conflict):
        roster.add_home_email("12AB00", "p2", "oma@example.nl")  # "maximaal twee e-mailadressen"
    assert len(mailbox()) == 2 and count(sessions, HomeLogin) == 2

    assert roster.remove_home_email("12AB00", "p2", "OUDER1@example.nl")["home_emails"] == ["ouder2@example.nl"]
    with pytest.raises(NotFound) as err:
        roster.remove_home_email("12AB00", "p2", "ouder1@example.nl")
    assert list(err.value.fields) == ["email"]
    assert by_key(roster.group_logins("12AB00", "g7"))["p2"]["home_emails"] == ["ouder2@example.nl"]


def test_activation_link_expires(sessions, mailbox):
    sync(sessions, snapshot())
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    with sessions["roster"]() as s, s.begin():
        home_logins.add_home_email(s, "12AB00", "p1", "ouder@example.nl", now=now)
    token = re.search(r"token=([A-Za-z0-9_-]+)", mailbox()[0].get_payload(decode=True).decode()).group(1)
    with sessions["roster"]() as s, s.begin(), pytest.raises(InvalidInput):
        home_logins.activate_home_email(s, token, now=now + dt.timedelta(hours=72, seconds=1))
    with sessions["roster"]() as s, s.begin():
        assert home_logins.activate_home_email(s, token, now=now + dt.timedelta(hours=71))["activated"]


def test_verify_pupil_login_answers_valid_only_and_locks_after_five_failures(sessions, roster):
    sync(sessions, snapshot())
    roster.set_pincode("12AB00", "p2", "2468", ICT)
    assert roster.verify_pupil_login("12AB00", "p2", pincode="2468") == {"valid": True}
    for _ in range(5):
        assert roster.verify_pupil_login("12AB00", "p2", pincode="1357") == {"valid": False}
    assert roster.verify_pupil_login("12AB00", "p2", pincode="2468") == {"valid": False}  # locked
    assert stored_login(sessions, "12AB00", "p2").failed_attempts == 5
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=logins.lock_seconds() + 1)
    with sessions["roster"]() as s, s.begin():
        assert logins.verify_pupil_login(s, "12AB00", "p2", pincode="2468", now=later) is True
    assert stored_login(sessions, "12AB00", "p2").failed_attempts == 0
    with pytest.raises(InvalidInput) as err:
        roster.verify_pupil_login("12AB00", "p2")
    assert list(err.value.fields) == ["login"]


def test_verify_asks_what_the_group_logs_in_with(sessions, roster):
    sync(sessions, snapshot())
    roster.set_group_login_method("12AB00", "g12", "pictures", ICT)
    entry = roster.set_pictures("12AB00", "p3", ["maan", "ster", "zon"], ICT)
    assert roster.verify_pupil_login("12AB00", "p3", pictures=["maan", "ster", "zon"]) == {"valid": True}
    assert roster.verify_pupil_login("12AB00", "p3", pictures=["zon", "ster", "maan"]) == {"valid": False}
    assert roster.verify_pupil_login("12AB00", "p3", pincode=entry["pincode"]) == {"valid": False}


def test_rate_limit_holds_across_two_roster_processes(sessions, start_services, service_config):
    # few workers each: PostgreSQL's 100 connections are shared by every test run on the machine
    start_services("roster", "roster", config={**service_config, "max_workers": 5})
    sync(sessions, snapshot())
    with ServiceRpcProxy("roster", service_config) as roster:
        roster.set_pincode("12AB00", "p1", "9753", ICT)

    def attempt(_):
        with ServiceRpcProxy("roster", service_config) as proxy:
            return proxy.verify_pupil_login("12AB00", "p1", pincode="0000")["valid"]

    results = list(eventlet.GreenPool(10).imap(attempt, range(16)))
    assert results == [False] * 16
    assert stored_login(sessions, "12AB00", "p1").failed_attempts == 5  # not one more: the row lock counts
    with ServiceRpcProxy("roster", service_config) as roster:
        assert roster.verify_pupil_login("12AB00", "p1", pincode="9753") == {"valid": False}


def test_a_verification_waits_for_the_pupils_row_lock(sessions, roster):
    """The interleaving that loses a count without the lock: another process holds the row, then counts."""
    sync(sessions, snapshot())
    holder = sessions["roster"]()
    holder.begin()
    row = holder.get(PupilLogin, ("12AB00", "p1"), with_for_update=True)
    pending = eventlet.spawn(roster.verify_pupil_login, "12AB00", "p1", pincode="0000")
    eventlet.sleep(0.5)
    assert not pending.dead  # waits for the row
    row.failed_attempts, row.last_failed_at = 4, dt.datetime.now(dt.UTC)
    holder.commit()
    holder.close()
    assert pending.wait() == {"valid": False}
    assert stored_login(sessions, "12AB00", "p1").failed_attempts == 5  # counted on top of the other's 4


def test_secrets_never_reach_the_logs(sessions, roster, mailbox, caplog):
    sync(sessions, snapshot())
    caplog.set_level(logging.DEBUG)
    roster.set_pincode("12AB00", "p2", "8317", ICT)
    with pytest.raises(InvalidInput):
        roster.set_pincode("12AB00", "p2", "83a7", ICT)
    roster.set_pictures("12AB00", "p2", ["hart", "appel", "bloem"], ICT)
    roster.add_home_email("12AB00", "p2", "geheim.adres@example.nl")
    roster.verify_pupil_login("12AB00", "p2", pincode="8317")
    roster.verify_pupil_login("12AB00", "p2", pincode="8318")
    roster.verify_pupil_login("12AB00", "p2", pictures=["hart", "appel", "bloem"])
    roster.login_sheet_pdf("12AB00", "g7")
    assert len(caplog.records) > 10  # the capture works: nameko and kombu log at DEBUG
    logged = caplog.text + " ".join(repr(r.args) for r in caplog.records)
    # ids, addresses and durations are hex or decimal noise in which 4 digits can turn up by chance
    logged = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0x[0-9a-f]+|\d+\.\d+", "", logged)
    for secret in ("8317", "83a7", "8318", "geheim.adres", "hart", "bloem"):
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", logged), secret
