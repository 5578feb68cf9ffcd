"""Couplings grant and revoke rights in Basispoort's hosted licence API (a fake that speaks it over
real HTTP): license.coupled/decoupled through RabbitMQ -> recorded pushes -> HTTP with retries and
backoff -> a visible state per coupling; ECK iDs come from the running roster service."""
import json

import pytest
from click.testing import CliRunner
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import update

from services.cli import main as koppel
from services.licensing.basispoort import HostedLikaClient, LikaError, Product
from services.roster import models as ro
from tests.conftest import wait_for
from tests.edexml_builder import edexml
from tests.fakes.basispoort_lika import FakeHostedLika
from tests.integration.licensing_helpers import SCHOOL, licence_data

INSTITUTION = 4711
GROUPS = {"5A": ("Groep 5A", "5"), "5B": ("Groep 5B", "5"), "sg1": ("Plusklas", None)}
PUPILS = {"P1": ("5A", ["sg1"]), "P2": ("5A", []), "P3": ("5B", []), "P4": ("5B", [])}
TEACHERS = {"T5A": ["5A"], "T5B": ["5B", "sg1"]}


def eck(kind, key):
    return (INSTITUTION, f"https://id.school/{'LL' if kind == 'pupil' else 'LK'}_{key}")


@pytest.fixture
def lika():
    fake = FakeHostedLika("koppel")
    fake.url = fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def licensing(start_services, service_config, sessions, rabbit_config, lika, tmp_path):
    config = {**service_config, "BASISPOORT_LIKA_URL": lika.url, "BASISPOORT_LIKA_IDENTITY_CODE": "koppel",
              "RIGHTS_PUSH_INTERVAL": 0.05, "BASISPOORT_RETRY_BASE_SECONDS": 0.05, "BASISPOORT_MAX_ATTEMPTS": 3}
    start_services("roster", "licensing", config=config)
    school = tmp_path / "school.xml"
    school.write_bytes(edexml(GROUPS, PUPILS, TEACHERS))
    assert CliRunner().invoke(koppel, ["roster", "import", str(school)]).exit_code == 0
    with sessions["roster"]() as s, s.begin():  # learnt from Basispoort's institutions API in production
        s.execute(update(ro.School).values(basispoort_id=str(INSTITUTION)))
    with ServiceRpcProxy("licensing", {**rabbit_config, "serializer": "json"}) as proxy:
        wait_for(lambda: len(proxy.known_groups(SCHOOL)) == 3, message="licensing copied the roster")
        yield proxy


def states(licensing, licence_id):
    return {r["target_key"]: r["basispoort"] for r in licensing.licence_rights(SCHOOL, licence_id)}


def settled(licensing, licence_id, expected: dict):
    def check():
        now = {k: v["state"] for k, v in states(licensing, licence_id).items()}
        return now == expected and now
    return wait_for(check, timeout=20, message=f"basispoort states {expected}")


def test_couplings_grant_and_revoke_rights_per_user(licensing, lika):
    group = licensing.register_licence(licence_data(method="Taal Actief 5", article_number="540534"))
    seat = licensing.register_licence(licence_data(kind="pupil", seats=2, method="Taal Actief 5",
                                                   article_number="594863", title="Taal Actief 5 per kind"))
    a5 = licensing.couple_group(SCHOOL, group["id"], "5A", "ict@school")
    licensing.couple_group(SCHOOL, group["id"], "sg1", "ict@school")
    licensing.couple_pupil(SCHOOL, seat["id"], "P3", "ict@school")
    settled(licensing, group["id"], {"5A": "granted", "sg1": "granted"})
    settled(licensing, seat["id"], {"P3": "granted"})

    assert lika.methods["taal-actief-5"]["naam"] == "Taal Actief 5"  # created on first use (404 -> POST)
    assert lika.products[("taal-actief-5", "540534")]["url"]
    assert lika.product_users("taal-actief-5", "540534") == {
        eck("pupil", "P1"), eck("pupil", "P2"), eck("staff", "T5A"), eck("staff", "T5B")}
    assert lika.product_users("taal-actief-5", "594863") == {eck("pupil", "P3")}
    detail = licensing.licence(SCHOOL, group["id"])
    assert {c["target_key"]: c["basispoort"]["state"] for c in detail["couplings"]} == {"5A": "granted",
                                                                                         "sg1": "granted"}

    # decoupling 5A revokes its users, except P1 who keeps the product through the Plusklas (sg1)
    licensing.decouple(SCHOOL, group["id"], a5["id"], "ict@school")
    settled(licensing, group["id"], {"5A": "revoked", "sg1": "granted"})
    assert lika.product_users("taal-actief-5", "540534") == {eck("pupil", "P1"), eck("staff", "T5B")}


def test_basispoort_outage_is_retried_with_backoff_and_ends_visibly(licensing, lika):
    group = licensing.register_licence(licence_data(method="Staal", article_number="600001"))
    lika.fail_next(2, 503)
    licensing.couple_group(SCHOOL, group["id"], "5B", "ict@school")
    settled(licensing, group["id"], {"5B": "granted"})
    assert states(licensing, group["id"])["5B"]["attempts"] == 3
    assert lika.product_users("staal", "600001") == {eck("pupil", "P3"), eck("pupil", "P4"), eck("staff", "T5B")}

    other = licensing.register_licence(licence_data(method="Staal", article_number="600002"))
    lika.fail_next(3, 503)  # as many failures as attempts: the push gives up and says why
    coupling = licensing.couple_group(SCHOOL, other["id"], "5A", "ict@school")
    settled(licensing, other["id"], {"5A": "failed"})
    failed = states(licensing, other["id"])["5A"]
    assert failed["attempts"] == 3 and failed["last_error"].startswith("HTTP 503 from Basispoort")
    assert lika.product_users("staal", "600002") == set()

    # the operator sees it and, once Basispoort is back, puts it back in the queue
    listed = CliRunner().invoke(koppel, ["licences", "rights-failed", "--school", SCHOOL, "--json"])
    assert listed.exit_code == 0, listed.output
    (push,) = [json.loads(line) for line in listed.output.splitlines()]
    assert push["coupling_id"] == coupling["id"] and push["attempts"] == 3 and "HTTP 503" in push["last_error"]
    assert CliRunner().invoke(koppel, ["licences", "rights-retry", "--school", SCHOOL]).exit_code == 2
    assert licensing.retry_rights("34CD00", coupling["id"]) == 0  # another school's id: nothing
    retried = CliRunner().invoke(koppel, ["licences", "rights-retry", "--school", SCHOOL, "--all"])
    assert retried.exit_code == 0 and "1 push(es) queued again" in retried.output, retried.output
    settled(licensing, other["id"], {"5A": "granted"})
    assert lika.product_users("staal", "600002") == {eck("pupil", "P1"), eck("pupil", "P2"), eck("staff", "T5A")}
    assert licensing.retry_rights(SCHOOL, coupling["id"]) == 0  # nothing failed any more
    assert "no failed pushes" in CliRunner().invoke(koppel, ["licences", "rights-failed"]).output


def test_client_errors_are_permanent_and_never_echo_eck_ids(lika):
    client = HostedLikaClient(lika.url, "koppel", timeout=2)
    product = Product("m", "Methode", "p", "Product", "https://example.invalid/p")
    client.ensure_product(product)
    with pytest.raises(LikaError) as exc:
        client.grant(product, [{"instellingId": "not-a-number", "eckId": "https://id.school/LL_secret"}])
    assert exc.value.status == 400 and not exc.value.retryable
    assert "LL_secret" not in str(exc.value)
    with pytest.raises(LikaError) as exc:
        HostedLikaClient(lika.url, "someone-else", timeout=2).grant(product, [])
    assert exc.value.status == 403
    with pytest.raises(LikaError) as exc:
        HostedLikaClient("http://127.0.0.1:9", "koppel", timeout=2).grant(product, [])
    assert exc.value.retryable and exc.value.status is None
    client.close()


def test_rights_follow_group_membership_after_a_roster_change(licensing, lika, sessions, tmp_path):
    group = licensing.register_licence(licence_data(method="Argus Clou", article_number="540777"))
    licensing.couple_group(SCHOOL, group["id"], "5A", "ict@school")
    settled(licensing, group["id"], {"5A": "granted"})
    assert lika.product_users("argus-clou", "540777") == {eck("pupil", "P1"), eck("pupil", "P2"),
                                                         eck("staff", "T5A")}
    # next night: P3 moved from 5B to 5A, P2 moved to 5B, P5 joined 5A
    pupils = {**PUPILS, "P3": ("5A", []), "P2": ("5B", []), "P5": ("5A", [])}
    school = tmp_path / "school-v2.xml"
    school.write_bytes(edexml(GROUPS, pupils, TEACHERS))
    assert CliRunner().invoke(koppel, ["roster", "import", str(school)]).exit_code == 0
    wait_for(lambda: lika.product_users("argus-clou", "540777") == {
        eck("pupil", "P1"), eck("pupil", "P3"), eck("pupil", "P5"), eck("staff", "T5A")}, timeout=20,
        message="Basispoort rights follow the new group membership")
    settled(licensing, group["id"], {"5A": "granted"})
