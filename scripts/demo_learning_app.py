"""The demo's learning app: publishes practice results of the demo school's pupils as
`result.recorded` events on `learning-app.events` (the contract in shared/events.py), a few every
few seconds, as a real learning app would while pupils practise. `make run` starts it beside a
fake Momento (tests/fakes/lvs.py), so that after "Toestemming" and "Koppeling toevoegen" (Momento,
autorisatiesleutel DEMO-MOMENTO-SLEUTEL) the coordinator sees results go out. A test result now and
then shows that those never leave (seed §5).
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import datetime as dt  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from nameko.standalone.events import event_dispatcher  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from shared.events import make_event  # noqa: E402

SCHOOL = "99ZZ00"
PUPILS = [f"LL{n:03d}" for n in range(1, 9)]
EXERCISES = [("TA4-SP-01", "Spelling: woorden met ei en ij"), ("TA4-WS-02", "Woordenschat: thema dieren"),
             ("TA4-TB-03", "Taalbeschouwing: zinsdelen")]


def main() -> None:
    interval = float(os.environ.get("DEMO_RESULTS_EVERY_SECONDS", "5"))
    dispatch = event_dispatcher({"AMQP_URI": os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/"),
                                 "serializer": "json"})
    rnd = random.Random()
    for tick in itertools.count():
        for pupil in rnd.sample(PUPILS, 3):
            code, name = rnd.choice(EXERCISES)
            kind = "test" if tick % 10 == 9 else "practice"
            try:
                dispatch("learning-app", "result.recorded", make_event("result.recorded", SCHOOL, {
                    "result_key": f"demo-{uuid.uuid4()}", "pupil_key": pupil, "method": "Taal Actief 4",
                    "exercise_code": code, "exercise_name": name, "kind": kind, "score": rnd.randint(4, 10),
                    "taken_on": dt.date.today().isoformat()}))
            except Exception as exc:  # noqa: BLE001 - broker restarting: a demo just tries again later
                print(f"could not publish a result ({type(exc).__name__}); trying again", flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    main()
