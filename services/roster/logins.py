"""Pupil logins (seed §4): per group a login method, per pupil a pincode and a picture login.

Every pupil has both a 4-digit pincode and a picture login from the moment koppel knows them;
the login method of the pupil's own group ("stamgroep") says which of the two the learning app
asks for. A composite group has no method of its own. Secrets are Fernet tokens at rest and
are never logged: no function here logs at all.

Functions work inside the caller's transaction and never commit.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets as random_source
from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.roster import login_schemas as ls
from services.roster import models as m
from services.roster.login_models import GroupLoginMethod, HomeLogin, PupilLogin
from services.roster.pictures import NAMES, PICTURE_LOGIN_LENGTH
from shared import config
from shared.db import bulk_insert, insert_or_ignore, insert_rows_or_ignore
from shared.errors import InvalidInput, NotFound
from shared.messaging import utcnow
from shared.secrets import decrypt, encrypt

DEFAULT_METHOD = "pincode"
# Generated pincodes avoid the codes a child (or a classmate) guesses first; a coordinator may still choose one.
GUESSABLE_PINCODES = frozenset({d * 4 for d in "0123456789"} | {"0123", "1234", "2345", "3456", "4567", "5678",
                                                                 "6789", "9876", "8765", "7654", "6543", "5432",
                                                                 "4321", "3210", "1212", "2020", "1122"})
_CHUNK = 1000


def max_failures() -> int:
    return int(config.setting("LOGIN_MAX_FAILURES", "5"))


def lock_seconds() -> float:
    return config.float_setting("LOGIN_LOCK_SECONDS", 900)


def new_pincode() -> str:
    while True:
        code = f"{random_source.randbelow(10_000):04d}"
        if code not in GUESSABLE_PINCODES:
            return code


def new_pictures() -> list[str]:
    pool = list(NAMES)
    return [pool.pop(random_source.randbelow(len(pool))) for _ in range(PICTURE_LOGIN_LENGTH)]


def _new_login_row(school_id: str, pupil_key: str, now: dt.datetime) -> dict:
    return {"school_id": school_id, "pupil_key": pupil_key, "pincode_secret": encrypt(new_pincode()),
            "pictures_secret": encrypt(",".join(new_pictures())), "created_at": now, "failed_attempts": 0}


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(keys), _CHUNK):
        yield keys[i:i + _CHUNK]


# --- roster hook --------------------------------------------------------------------------

def on_roster_applied(session: Session, school_id: str, added_keys: Iterable[str], removed_keys: Iterable[str],
                      now: dt.datetime | None = None) -> None:
    """Called by store._apply after the pupils diff is applied, in the same transaction:
    a pupil new to koppel gets a login at once, a pupil who left loses theirs and its home logins
    (the foreign keys cascade too; deleting here keeps that true if pupils ever get soft-deleted)."""
    for chunk in _chunks(list(removed_keys)):
        session.execute(delete(HomeLogin).where(HomeLogin.school_id == school_id, HomeLogin.pupil_key.in_(chunk)))
        session.execute(delete(PupilLogin).where(PupilLogin.school_id == school_id,
                                                 PupilLogin.pupil_key.in_(chunk)))
    now = now or utcnow()
    # pupils added in this very transaction (their school row is locked): nobody else can have made
    # their logins, so no ON CONFLICT is needed, and COPY can be used outside eventlet
    bulk_insert(session, PupilLogin.__table__, [_new_login_row(school_id, key, now) for key in added_keys])


def ensure_logins(session: Session, school_id: str, pupil_keys: list[str],
                  lock: bool = False) -> dict[str, PupilLogin]:
    """The login rows of these pupils, creating one for a pupil imported before logins existed.
    Two processes doing this at once both end with the same row (INSERT ... ON CONFLICT DO NOTHING)."""
    def fetch(keys):
        found = {}
        for chunk in _chunks(keys):
            query = select(PupilLogin).where(PupilLogin.school_id == school_id, PupilLogin.pupil_key.in_(chunk))
            if lock:
                query = query.with_for_update()
            found.update({row.pupil_key: row for row in session.scalars(query)})
        return found

    logins = fetch(pupil_keys)
    missing = [k for k in pupil_keys if k not in logins]
    if missing:
        now = utcnow()
        insert_rows_or_ignore(session, PupilLogin.__table__, [_new_login_row(school_id, k, now) for k in missing])
        logins.update(fetch(missing))
    return logins


# --- lookups, scoped to the school --------------------------------------------------------

def find_group(session: Session, school_id: str, group_key: str) -> m.Group:
    group = session.get(m.Group, (school_id, group_key))
    if group is None:
        raise NotFound(f"group {group_key} not found", {"group_key": ["unknown group"]})
    return group


def find_pupil(session: Session, school_id: str, pupil_key: str) -> m.Pupil:
    pupil = session.get(m.Pupil, (school_id, pupil_key))
    if pupil is None:
        raise NotFound(f"pupil {pupil_key} not found", {"pupil_key": ["unknown pupil"]})
    return pupil


def locked_login(session: Session, pupil: m.Pupil) -> PupilLogin:
    """The pupil's login row, locked until the transaction ends: serialises every change and
    every verification of one pupil across all roster processes."""
    return ensure_logins(session, pupil.school_id, [pupil.key], lock=True)[pupil.key]


def group_members(session: Session, group: m.Group) -> list[m.Pupil]:
    query = select(m.Pupil).where(m.Pupil.school_id == group.school_id)
    if not group.composite:
        query = query.where(m.Pupil.group_key == group.key)
    members = session.scalars(query.order_by(m.Pupil.last_name, m.Pupil.first_name, m.Pupil.key)).all()
    return [p for p in members if not group.composite or group.key in (p.composite_groups or [])]


def methods_of_groups(session: Session, school_id: str, group_keys: set[str]) -> dict[str, str]:
    keys = [k for k in group_keys if k]
    rows = session.execute(select(GroupLoginMethod.group_key, GroupLoginMethod.method).where(
        GroupLoginMethod.school_id == school_id, GroupLoginMethod.group_key.in_(keys))).all() if keys else []
    return dict(rows)


def method_of(session: Session, pupil: m.Pupil) -> str:
    return methods_of_groups(session, pupil.school_id, {pupil.group_key}).get(pupil.group_key, DEFAULT_METHOD)


def home_emails(session: Session, school_id: str, pupil_keys: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in pupil_keys}
    for chunk in _chunks(pupil_keys):
        rows = session.scalars(select(HomeLogin).where(HomeLogin.school_id == school_id,
                                                       HomeLogin.pupil_key.in_(chunk))
                               .order_by(HomeLogin.created_at, HomeLogin.id))
        for row in rows:
            out[row.pupil_key].append(decrypt(row.email_secret))
    return out


def display_name(pupil: m.Pupil) -> str:
    return " ".join(x for x in (pupil.first_name, pupil.prefix, pupil.last_name) if x)


def _entry(pupil: m.Pupil, login: PupilLogin, method: str, emails: list[str]) -> dict:
    return {"key": pupil.key, "display_name": display_name(pupil), "login_method": method,
            "pincode": decrypt(login.pincode_secret), "pictures": decrypt(login.pictures_secret).split(","),
            "home_emails": emails}


# --- what the coordinator sees and changes -------------------------------------------------

def group_logins(session: Session, school_id: str, group_key: str) -> dict:
    """The group's pupils with their logins, in name order (creates missing logins)."""
    group = find_group(session, school_id, group_key)
    pupils = group_members(session, group)
    keys = [p.key for p in pupils]
    logins = ensure_logins(session, school_id, keys)
    methods = methods_of_groups(session, school_id, {group.key} | {p.group_key for p in pupils})
    emails = home_emails(session, school_id, keys)
    return ls.GroupLoginsSchema().dump({
        "group_key": group.key, "group_name": group.name, "composite": group.composite,
        "login_method": None if group.composite else methods.get(group.key, DEFAULT_METHOD),
        "pupils": [_entry(p, logins[p.key], methods.get(p.group_key, DEFAULT_METHOD), emails[p.key])
                   for p in pupils]})


def pupil_login(session: Session, pupil: m.Pupil, login: PupilLogin | None = None) -> dict:
    login = login or ensure_logins(session, pupil.school_id, [pupil.key])[pupil.key]
    emails = home_emails(session, pupil.school_id, [pupil.key])[pupil.key]
    return ls.PupilLoginSchema().dump(_entry(pupil, login, method_of(session, pupil), emails))


def set_group_login_method(session: Session, school_id: str, group_key: str, method: str, by: str,
                           now: dt.datetime | None = None) -> dict:
    data = ls.load(ls.MethodInput(), {"method": method, "by": by})
    group = find_group(session, school_id, group_key)
    if group.composite:
        raise InvalidInput("a composite group has no login method of its own",
                           {"group_key": ["composite group: change the login method of the pupils' own group"]})
    values = {"method": data["method"], "changed_by": data["by"], "changed_at": now or utcnow()}
    table = GroupLoginMethod.__table__
    if not insert_or_ignore(session, table, {"school_id": school_id, "group_key": group_key, **values}):
        session.execute(update(table).where(table.c.school_id == school_id, table.c.group_key == group_key)
                        .values(**values))
    return group_logins(session, school_id, group_key)


def _change_login(session, school_id, pupil_key, by, now, **secrets_) -> dict:
    pupil = find_pupil(session, school_id, pupil_key)
    login = locked_login(session, pupil)
    for column, value in secrets_.items():
        setattr(login, column, encrypt(value))
    login.changed_by, login.changed_at = by, now or utcnow()
    login.failed_attempts, login.last_failed_at = 0, None  # a new login starts with a clean slate
    session.flush()
    return pupil_login(session, pupil, login)


def set_pincode(session: Session, school_id: str, pupil_key: str, pincode: str, by: str,
                now: dt.datetime | None = None) -> dict:
    """"Wachtwoord/leerlingplaatje wijzigen" for a pincode: exactly 4 digits."""
    data = ls.load(ls.PincodeInput(), {"pincode": pincode, "by": by})
    return _change_login(session, school_id, pupil_key, data["by"], now, pincode_secret=data["pincode"])


def set_pictures(session: Session, school_id: str, pupil_key: str, pictures: list[str], by: str,
                 now: dt.datetime | None = None) -> dict:
    data = ls.load(ls.PicturesInput(), {"pictures": pictures, "by": by})
    return _change_login(session, school_id, pupil_key, data["by"], now,
                         pictures_secret=",".join(data["pictures"]))


# --- what the learning app asks -----------------------------------------------------------

def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value  # SQLite


def _same(given: str, stored: str) -> bool:
    return hmac.compare_digest(given.encode(), stored.encode())


def verify_pupil_login(session: Session, school_id: str, pupil_key: str, pincode: str | None = None,
                       pictures: list[str] | None = None, now: dt.datetime | None = None) -> bool:
    """True only for the right answer to the method of the pupil's group, while the pupil is not locked.
    An unknown pupil (or one of another school) is False, like a wrong answer.

    After `LOGIN_MAX_FAILURES` failures in a row the pupil is locked for `LOGIN_LOCK_SECONDS` since the
    last failure: every answer is then refused unchecked and not counted. The counter lives in the
    pupil's login row, locked for the check, so the limit holds across every roster process.
    """
    answer = ls.load(ls.VerifyInput(), {"pincode": pincode, "pictures": pictures})
    now = now or utcnow()
    # the learning app calls this at every login: pupil and method in one round trip
    found = session.execute(
        select(m.Pupil, GroupLoginMethod.method)
        .outerjoin(GroupLoginMethod, (GroupLoginMethod.school_id == m.Pupil.school_id)
                   & (GroupLoginMethod.group_key == m.Pupil.group_key))
        .where(m.Pupil.school_id == school_id, m.Pupil.key == pupil_key)).first()
    if found is None:
        # the same answer as a wrong pincode: the learning app learns nothing about which keys exist
        # (a pupil of another school included)
        return False
    pupil, method = found
    login = locked_login(session, pupil)
    if login.failed_attempts >= max_failures():
        if now - as_utc(login.last_failed_at) < dt.timedelta(seconds=lock_seconds()):
            return False
        login.failed_attempts = 0
    if (method or DEFAULT_METHOD) == "pictures":
        valid = answer["pictures"] is not None and _same(",".join(answer["pictures"]),
                                                          decrypt(login.pictures_secret))
    else:
        valid = answer["pincode"] is not None and _same(answer["pincode"], decrypt(login.pincode_secret))
    if valid:
        login.failed_attempts, login.last_failed_at = 0, None
    else:
        login.failed_attempts += 1
        login.last_failed_at = now
    return valid
