"""Fixtures of the results integration tests: fast exporter timings, a fake LVS, RPC and the
learning app's event publisher."""
import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from shared.events import make_event
from tests.fakes.lvs import FakeLvs
from tests.integration.results.support import KEY, SCHOOL


@pytest.fixture
def results_env(monkeypatch):
    """Fast timings for the exporter; the fake LVS speaks plain http on 127.0.0.1."""
    for name, value in {"RESULTS_LVS_ALLOW_HTTP": "1", "RESULTS_EXPORT_POLL_SECONDS": "0.05",
                        "RESULTS_RETRY_BASE_SECONDS": "0.2", "RESULTS_RETRY_MAX_SECONDS": "0.5",
                        "RESULTS_LVS_TIMEOUT_SECONDS": "2", "RESULTS_EXPORT_WORKERS": "2",
                        "UWLR_KLANTCODE": "KOPPEL-01", "UWLR_KLANTNAAM": "Uitgeverij Koppel"}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def lvs():
    with FakeLvs(keys={KEY}, hang_seconds=2.5) as fake:
        yield fake


@pytest.fixture
def rpc(rabbit_config):
    with ClusterRpcProxy({**rabbit_config, "serializer": "json"}, timeout=10) as proxy:
        yield proxy.results


@pytest.fixture
def publish(rabbit_config):
    """Publish `result.recorded` as the learning app does (its own exchange); returns the envelope."""
    dispatch = event_dispatcher({**rabbit_config, "serializer": "json"})

    def publish_result(payload, school=SCHOOL, envelope=None):
        envelope = envelope or make_event("result.recorded", school, payload)
        dispatch("learning-app", "result.recorded", envelope)
        return envelope

    return publish_result


