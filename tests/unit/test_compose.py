import yaml

from shared.config import PROJECT_ROOT


def test_docker_compose_parses_and_names_every_service():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("rabbitmq", "postgres", "roster", "licensing", "results", "gateway"):
        assert name in services, name
    for name in ("roster", "licensing", "results", "gateway"):
        svc = services[name]
        assert svc["build"]["dockerfile"] == "Dockerfile"
        assert "healthcheck" in svc
        assert svc["environment"]["AMQP_URI"].startswith("amqp://")
        assert svc["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert "rabbitmq:3" in services["rabbitmq"]["image"] and "management" in services["rabbitmq"]["image"]
    assert (PROJECT_ROOT / "Dockerfile").exists()
