"""Rights in Basispoort follow couplings: license.coupled grants, license.decoupled revokes.

The consumer records a push per event (`record`); the pusher claims due pushes (`claim_due`),
works each off outside any transaction (`push_one`), and ends in a visible state:
done, or failed with its last error after retries with exponential backoff. The newest push
of a coupling is the coupling's state in `coupling_states`.

Who gets the right: a seat's pupil; for a group, its pupils (own or composite group) and its
teachers as licensing's roster copy has them when the push runs. A revoke removes the users an
attempted grant of that coupling sent, except those still entitled to the same Basispoort
product through another active coupling.
"""
from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from services.licensing import models as m
from services.licensing import roster_copy
from services.licensing.basispoort import LikaError, Product
from shared.errors import NotFound
from shared.messaging import utcnow

GRANT, REVOKE = "grant", "revoke"
Identities = Callable[[str, list[dict]], dict]  # (school, people) -> roster's basispoort_identities answer


def product_ids(licence: m.Licence) -> tuple[str, str]:
    """Basispoort method id (a slug of the method) and product id (the article number, else ISBN, else contract)."""
    method = re.sub(r"[^a-z0-9]+", "-", (licence.method or licence.title).lower()).strip("-") or "methode"
    return method, licence.article_number or licence.isbn or licence.contract_number


def record(session: Session, event: dict) -> m.RightsPush:
    """The push a license.coupled / license.decoupled asks for, due now (caller's transaction)."""
    payload = event["payload"]
    licence = session.get(m.Licence, payload["licence_id"])
    method_id, product_id = product_ids(licence)
    occurred = event["occurred_at"]
    push = m.RightsPush(id=str(uuid.uuid4()), coupling_id=payload["coupling_id"], licence_id=licence.id,
                        school_id=event["school"],
                        action=GRANT if event["event_type"] == "license.coupled" else REVOKE,
                        method_id=method_id, product_id=product_id, users=[], state="pending", attempts=0,
                        next_attempt_at=utcnow(), created_at=occurred)
    session.add(push)
    session.flush()
    return push


def record_resync(session: Session, school_id: str) -> int:
    """After a roster change: re-send every active group coupling of the school (caller's transaction).

    A grant sends the group's members as they are now and removes those it sent before who are
    no longer members (and not entitled through another coupling), so a pupil who joined a coupled
    group gets the right and one who moved out loses it. Returns how many pushes were recorded.
    """
    couplings = session.scalars(select(m.Coupling).where(
        m.Coupling.school_id == school_id, m.Coupling.target_kind == "group", m.Coupling.ended_at.is_(None))).all()
    now = utcnow()
    for coupling in couplings:
        method_id, product_id = product_ids(session.get(m.Licence, coupling.licence_id))
        session.add(m.RightsPush(id=str(uuid.uuid4()), coupling_id=coupling.id, licence_id=coupling.licence_id,
                                 school_id=school_id, action=GRANT, method_id=method_id, product_id=product_id,
                                 users=[], state="pending", attempts=0, next_attempt_at=now, created_at=now))
    session.flush()
    return len(couplings)


def claim_due(session: Session, *, limit: int = 20, lease_seconds: float = 60.0) -> list[str]:
    """Lease up to `limit` due pushes (SKIP LOCKED: several pusher processes never take the same one).

    A push waits while an older push of the same coupling is pending, so a revoke never
    overtakes its grant. A pusher that dies mid-push leaves the lease to expire; the push is
    then retried (adding or removing a user twice is harmless at Basispoort).
    """
    now = utcnow()
    older = aliased(m.RightsPush)
    with session.begin():
        ids = session.execute(
            select(m.RightsPush.id)
            .where(m.RightsPush.state == "pending", m.RightsPush.next_attempt_at <= now,
                   ~exists().where(and_(older.coupling_id == m.RightsPush.coupling_id, older.state == "pending",
                                        older.created_at < m.RightsPush.created_at)))
            .order_by(m.RightsPush.next_attempt_at).limit(limit)
            .with_for_update(skip_locked=True, of=m.RightsPush)).scalars().all()
        if ids:
            session.execute(update(m.RightsPush).where(m.RightsPush.id.in_(ids))
                            .values(next_attempt_at=now + dt.timedelta(seconds=lease_seconds)))
    return list(ids)


def _coupling_users(session: Session, coupling: m.Coupling) -> list[dict]:
    if coupling.target_kind == "pupil":
        return [{"kind": "pupil", "key": coupling.target_key}]
    pupils = roster_copy.group_members(session, coupling.school_id, coupling.target_key)
    staff = roster_copy.group_staff(session, coupling.school_id, coupling.target_key)
    return [{"kind": "pupil", "key": k} for k, _ in pupils] + [{"kind": "staff", "key": k} for k in staff]


def _still_entitled(session: Session, push: m.RightsPush) -> set[tuple[str, str]]:
    """Users who keep this Basispoort product through another active coupling."""
    same_product = [lic for lic in session.scalars(select(m.Licence).where(m.Licence.school_id == push.school_id))
                    if product_ids(lic) == (push.method_id, push.product_id)]
    others = session.scalars(select(m.Coupling).where(
        m.Coupling.licence_id.in_([lic.id for lic in same_product]), m.Coupling.ended_at.is_(None),
        m.Coupling.id != push.coupling_id)).all()
    return {(u["kind"], u["key"]) for c in others for u in _coupling_users(session, c)}


def _sent_before(session: Session, push: m.RightsPush) -> list[dict]:
    """Users the coupling's grants sent: the last completed grant and every attempt after it."""
    grants = session.execute(select(m.RightsPush.state, m.RightsPush.users).where(
        m.RightsPush.coupling_id == push.coupling_id, m.RightsPush.action == GRANT, m.RightsPush.attempts > 0,
        m.RightsPush.id != push.id).order_by(m.RightsPush.created_at)).all()
    last_done = max((i for i, (state, _) in enumerate(grants) if state == "done"), default=0)
    seen, out = set(), []
    for _, users in grants[last_done:]:
        for u in users:
            if (u["kind"], u["key"]) not in seen:
                seen.add((u["kind"], u["key"]))
                out.append(u)
    return out


def _to_remove(session: Session, push: m.RightsPush, members: list[dict]) -> list[dict]:
    keep = _still_entitled(session, push) | {(u["kind"], u["key"]) for u in members}
    return [u for u in _sent_before(session, push) if (u["kind"], u["key"]) not in keep]


def _finish(session: Session, push_id: str, state: str, *, note: str | None = None, error: str | None = None,
            retry_in: float | None = None) -> None:
    values = {"state": state, "note": note, "last_error": error}
    if state == "pending":
        values["next_attempt_at"] = utcnow() + dt.timedelta(seconds=retry_in)
    else:
        values["done_at"] = utcnow()
    with session.begin():
        session.execute(update(m.RightsPush).where(m.RightsPush.id == push_id).values(**values))


def backoff(attempts: int, base: float, cap: float) -> float:
    """base, 2*base, 4*base ... capped, with +-20 % jitter so failed pushes do not retry in lockstep."""
    return min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)


def push_one(session: Session, push_id: str, lika, identities: Identities, *, max_attempts: int = 8,
             base_delay: float = 5.0, max_delay: float = 900.0,
             product_url: str = "https://koppel.invalid/product/{product_id}") -> str:
    """Grant or revoke one push at Basispoort; returns the state it ended in (pending = will retry)."""
    with session.begin():
        push = session.get(m.RightsPush, push_id, populate_existing=True)
        if push is None or push.state != "pending":
            return push.state if push else "gone"
        coupling = session.get(m.Coupling, push.coupling_id)
        licence = session.get(m.Licence, push.licence_id)
        if push.action == GRANT and coupling.ended_at is not None:
            superseded = True
        else:
            superseded = False
            if push.action == GRANT:
                people = _coupling_users(session, coupling)
                gone = _to_remove(session, push, people)
            else:
                people, gone = [], _to_remove(session, push, [])
            push.users = people if push.action == GRANT else gone  # before the call: a timed-out call may have landed
            push.attempts += 1
        attempts = push.attempts
        product = Product(push.method_id, licence.method or licence.title, push.product_id, licence.title,
                          product_url.format(product_id=push.product_id, method_id=push.method_id))
        action, school = push.action, push.school_id
    if superseded:
        _finish(session, push_id, "superseded", note="decoupled before the grant was sent")
        return "superseded"
    if not people and not gone:
        _finish(session, push_id, "done", note=f"nobody to {action}")
        return "done"
    try:
        answer = identities(school, people + gone)
        users, missing = _lika_users(answer, people)
        removed, _ = _lika_users(answer, gone)
        if users:
            lika.grant(product, users)
        if removed:
            lika.revoke(product, removed)
    except LikaError as exc:
        if exc.retryable and attempts < max_attempts:
            _finish(session, push_id, "pending", error=str(exc)[:500],
                    retry_in=backoff(attempts, base_delay, max_delay))
            return "pending"
        _finish(session, push_id, "failed", error=str(exc)[:500])
        return "failed"
    note = (f"{len(users)} granted, {len(removed)} revoked"
            + (f"; {missing} without ECK iD not sent" if missing else ""))
    _finish(session, push_id, "done", note=note)
    return "done"


def _lika_users(answer: dict, people: list[dict]) -> tuple[list[dict], int]:
    """Basispoort users ({"instellingId", "eckId"}) of these people; and how many have no ECK iD."""
    institution = answer.get("institution_id")
    if not institution or not str(institution).isdigit():
        raise LikaError("the school has no Basispoort institution id yet (roster learns it from Basispoort)")
    wanted = {(p["kind"], p["key"]) for p in people}
    found = [p for p in answer["people"] if (p["kind"], p["key"]) in wanted]
    users = [{"instellingId": int(institution), "eckId": p["eckid"]} for p in found if p.get("eckid")]
    return users, len(found) - len(users)


def retry(session: Session, school_id: str, coupling_id: str) -> int:
    """Put the failed pushes of a coupling back in the queue ("opnieuw proberen"); returns how many."""
    with session.begin():
        return session.execute(update(m.RightsPush).where(
            m.RightsPush.coupling_id == coupling_id, m.RightsPush.school_id == school_id,
            m.RightsPush.state == "failed").values(state="pending", attempts=0, next_attempt_at=utcnow(),
                                                   done_at=None)).rowcount


def failed_pushes(session: Session, school_id: str | None = None) -> list[dict]:
    """The pushes that gave up (state failed), oldest first, optionally of one school (operator CLI)."""
    query = select(m.RightsPush).where(m.RightsPush.state == "failed").order_by(m.RightsPush.created_at)
    if school_id:
        query = query.where(m.RightsPush.school_id == school_id)
    return [{"coupling_id": p.coupling_id, "school_id": p.school_id, "action": p.action, "method": p.method_id,
             "product": p.product_id, "attempts": p.attempts, "last_error": p.last_error}
            for p in session.scalars(query)]


STATE_WORDS = {(GRANT, "pending"): "pending", (GRANT, "done"): "granted", (GRANT, "failed"): "failed",
               (REVOKE, "pending"): "pending", (REVOKE, "done"): "revoked", (REVOKE, "failed"): "failed",
               (GRANT, "superseded"): "superseded"}


def coupling_states(session: Session, school_id: str, coupling_ids: list[str]) -> dict[str, dict]:
    """Per coupling, its newest push: state pending|granted|revoked|failed, action, attempts, last error."""
    if not coupling_ids:
        return {}
    rows = session.scalars(select(m.RightsPush).where(m.RightsPush.school_id == school_id,
                                                      m.RightsPush.coupling_id.in_(coupling_ids))
                           .order_by(m.RightsPush.created_at)).all()
    out = {}
    for push in rows:  # the newest wins
        out[push.coupling_id] = {
            "state": STATE_WORDS.get((push.action, push.state), push.state), "action": push.action,
            "attempts": push.attempts, "last_error": push.last_error, "note": push.note,
            "next_attempt_at": push.next_attempt_at.isoformat() if push.state == "pending" else None,
            "done_at": push.done_at.isoformat() if push.done_at else None}
    return out


def licence_rights(session: Session, school_id: str, licence_id: str) -> list[dict]:
    """Every coupling of a licence that has been pushed, with its Basispoort state."""
    licence = session.get(m.Licence, licence_id)
    if licence is None or licence.school_id != school_id:
        raise NotFound("licence not found")
    couplings = session.scalars(select(m.Coupling).where(m.Coupling.licence_id == licence_id)
                                .order_by(m.Coupling.coupled_at)).all()
    states = coupling_states(session, school_id, [c.id for c in couplings])
    return [{"coupling_id": c.id, "target_kind": c.target_kind, "target_key": c.target_key,
             "active": c.ended_at is None, "basispoort": states[c.id]} for c in couplings if c.id in states]
