"""Exit 1 with one clear line when RabbitMQ cannot be reached at AMQP_URI."""
import os
import sys

from kombu import Connection

uri = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")
try:
    with Connection(uri, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)
except Exception as exc:  # noqa: BLE001
    print(f"RabbitMQ is not reachable at {uri} ({type(exc).__name__}); start it with "
          f"'rabbitmq-server -detached' (or set AMQP_URI) and run 'make run' again.", file=sys.stderr)
    sys.exit(1)
