"""Helpers shared by the results integration tests (fixtures are in conftest.py)."""
from sqlalchemy import func, select

from services.results import models as rm

SCHOOL = "12AB01"
OTHER_SCHOOL = "34CD00"
KEY = "momento-sleutel-0001"
COORDINATOR = "ict@school.example"


def practice(i, *, kind="practice", pupil=None, code=None, score=None, eckid=None, taken_on="2026-11-20"):
    return {"result_key": f"res-{i}", "pupil_key": pupil or f"L{i % 3}", "eckid": eckid,
            "method": "Taal Actief 4", "exercise_code": code or f"SP-{i % 4}",
            "exercise_name": f"Spelling les {i % 4}", "kind": kind, "score": i % 10 if score is None else score,
            "taken_on": taken_on}


def couple(rpc, lvs_fake, school=SCHOOL, key=KEY, consent=True):
    if consent:
        rpc.set_consent(school, True, COORDINATOR)
    return rpc.add_lvs_coupling(school, {"lvs": "other", "endpoint_url": lvs_fake.url, "authorisation_key": key},
                                COORDINATOR)


def delivered_keys(lvs_fake):
    return sorted(lvs_fake.result_keys())


def pending(sessions, coupling_id=None):
    with sessions["results"]() as s:
        q = select(func.count()).select_from(rm.ResultDelivery).where(rm.ResultDelivery.batch_id.is_(None))
        if coupling_id:
            q = q.where(rm.ResultDelivery.coupling_id == coupling_id)
        return s.scalar(q)

