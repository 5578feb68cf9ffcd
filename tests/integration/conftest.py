import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def service_processes(rabbit_config, rabbit_manager, pg_urls, databases, tmp_path):
    """Start services as real OS processes (`nameko run`), stopped after the test."""
    from tests.integration.processes import ServiceProcesses

    procs = ServiceProcesses(rabbit_config, rabbit_manager, pg_urls, tmp_path)
    yield procs
    procs.stop()
