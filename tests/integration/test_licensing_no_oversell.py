"""Never oversell: 50 concurrent coupling requests for a 10-seat licence, served by TWO licensing
processes (`nameko run`) on the same PostgreSQL, give exactly 10 couplings."""
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from services.licensing import models as m
from shared.errors import Conflict
from tests.integration.licensing_helpers import SCHOOL, a_school, register


def test_fifty_concurrent_requests_for_ten_seats_across_two_processes_couple_exactly_ten(
        service_processes, sessions, rabbit_config, rabbit_manager):
    db = sessions["licensing"]
    a_school(db, pupils=50)
    licence = register(db, kind="pupil", seats=10)
    service_processes.start("licensing", count=2)
    assert rabbit_manager.get_queue(rabbit_config["vhost"], "rpc-licensing")["consumers"] == 2

    with ClusterRpcProxy({**rabbit_config, "serializer": "json"}, timeout=60) as rpc:
        replies = [rpc.licensing.couple_pupil.call_async(SCHOOL, licence["id"], f"P{i}", "ict@school")
                   for i in range(1, 51)]
        outcomes = []
        for reply in replies:
            try:
                outcomes.append(reply.result()["target_key"])
            except Conflict as exc:
                outcomes.append(str(exc))

    coupled = [o for o in outcomes if o.startswith("P")]
    assert len(coupled) == 10 and len(set(coupled)) == 10
    assert outcomes.count("no seats available") == 40
    with db() as s:
        assert s.get(m.Licence, licence["id"]).seats_used == 10
        active = s.scalars(select(m.Coupling.target_key).where(m.Coupling.ended_at.is_(None))).all()
        events = s.scalar(select(func.count()).select_from(m.messaging.outbox)
                          .where(m.messaging.outbox.c.event_type == "license.coupled"))
    assert sorted(active) == sorted(coupled)
    assert events == 10
