"""RPC to the other services with a bound on the wait: a backend that is down, not deployed yet or
too slow becomes ServiceUnavailable (503, "tijdelijk niet beschikbaar"), never a hanging request."""
from __future__ import annotations

import eventlet
from nameko.exceptions import MethodNotFound, UnknownService
from nameko.rpc import RpcProxy

from services.gateway.errors import ServiceUnavailable
from shared import config


def rpc_timeout() -> float:
    return config.float_setting("GATEWAY_RPC_TIMEOUT", 10.0)


class TimedRpcProxy(RpcProxy):
    def get_dependency(self, worker_ctx):
        return _TimedService(super().get_dependency(worker_ctx), self.target_service)


class _TimedService:
    def __init__(self, proxy, name: str):
        self._proxy = proxy
        self._name = name

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            unavailable = ServiceUnavailable(f"{self._name} is not available")
            try:
                reply = getattr(self._proxy, method).call_async(*args, **kwargs)
                with eventlet.Timeout(rpc_timeout()):
                    return reply.result()
            except eventlet.Timeout:
                raise unavailable from None
            except (UnknownService, MethodNotFound):
                raise unavailable from None

        return call
