"""nameko's web server, with its own answers (no route: 404, wrong method: 405) in koppel's formats:
the JSON error body under /api and /health, the Dutch error page elsewhere."""
from __future__ import annotations

from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from services.gateway.errors import error_response


class KoppelWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = self.error(request, exc)
        return response(environ, start_response)

    @staticmethod
    def error(request, exc: HTTPException):
        if request.path.startswith(("/api/", "/health")):
            response = error_response(exc)
        else:
            from services.gateway.ui import error_page

            response = error_page(exc)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response


class KoppelWebServer(WebServer):
    def get_wsgi_app(self):
        return KoppelWsgiApp(self)
