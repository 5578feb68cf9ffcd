"""The demo schools behind the gateway, for the gateway's integration and browser tests.

Two schools from scripts/demo (EDEXML with staff e-mail addresses), imported through the roster CLI;
their roster reaches licensing through roster.updated; licences registered over RPC; staff accounts
with known passwords in the gateway database. Import the fixtures into a test module to use them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from services.cli import main as koppel
from services.gateway import accounts
from services.licensing import models as lm
from shared.config import PROJECT_ROOT
from tests.conftest import wait_for

DEMO = PROJECT_ROOT / "scripts/demo"
A, B = "99ZZ00", "99YY00"  # De Regenboog, De Zonnewijzer
PASSWORD = "demo-wachtwoord-1"
COORDINATOR = "e.meeuwsen@regenboog.example"  # ICT in A and in B
TEACHER = "j.vanbemmel@regenboog.example"  # teacher of 4A and 4B in A
COORDINATOR_B = "k.dewit@zonnewijzer.example"  # ICT in B only
TEACHER_B = "s.aydin@zonnewijzer.example"


def isbn13(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def demo_licences(school_id: str) -> list[dict]:
    items = json.loads((DEMO / "licences.json").read_text())
    for item in items:
        item["isbn"] = isbn13(item["isbn"])
        item["school_id"] = school_id
        if school_id != A:  # contract numbers are unique across schools
            item["contract_number"] = "0041" + item["contract_number"][4:]
    return items


@dataclass
class DemoStack:
    config: dict
    licences: dict[str, dict[str, dict]] = field(default_factory=dict)  # school -> contract number -> licence

    def licence(self, school_id: str, title_part: str) -> dict:
        return next(x for x in self.licences[school_id].values() if title_part in x["title"])

    def rpc(self):
        return ClusterRpcProxy(self.config, timeout=10)


def import_school(path, name: str) -> None:
    result = CliRunner().invoke(koppel, ["roster", "import", str(path), "--name", name])
    assert result.exit_code == 0, result.output


def create_account(session_factory, email: str, password: str = PASSWORD) -> None:
    with session_factory() as session, session.begin():
        accounts.set_password(session, accounts.get_or_create_account(session, email), password)


@pytest.fixture
def demo_stack(start_services, sessions, service_config, monkeypatch, tmp_path):
    """All four services on a fresh vhost and databases, with both demo schools and their accounts.
    Mail goes to tmp_path/mail."""
    monkeypatch.setenv("KOPPEL_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("AMQP_URI", service_config["AMQP_URI"])
    start_services("roster", "licensing", "results", "gateway")
    import_school(DEMO / "demoschool.xml", "Demoschool De Regenboog")
    import_school(DEMO / "tweede-school.xml", "Demoschool De Zonnewijzer")

    def groups_copied():
        with sessions["licensing"]() as s:
            return s.scalar(select(func.count()).select_from(lm.RosterGroup)) == 7 + 2
    wait_for(groups_copied, message="licensing copied both rosters")

    stack = DemoStack(config=service_config)
    with stack.rpc() as rpc:
        for school_id in (A, B):
            stack.licences[school_id] = {}
            for data in demo_licences(school_id):
                licence = rpc.licensing.register_licence(data)
                stack.licences[school_id][licence["contract_number"]] = licence
    for email in (COORDINATOR, TEACHER, COORDINATOR_B, TEACHER_B):
        create_account(sessions["gateway"], email)
    return stack


def login(web_session, email: str, password: str = PASSWORD, school_id: str | None = None) -> dict:
    """Log the requests session in (cookie kept); choose a school when given. Returns the session info,
    and sets the CSRF header for every later request."""
    response = web_session.post("/api/v1/session", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    info = response.json()
    web_session.http.headers["X-CSRF-Token"] = info["csrf_token"]
    if school_id and info["school_id"] != school_id:
        chosen = web_session.put("/api/v1/session/school", json={"school_id": school_id})
        assert chosen.status_code == 200, chosen.text
        info = chosen.json()
    return info
