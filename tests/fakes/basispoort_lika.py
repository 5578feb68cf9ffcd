"""A fake of Basispoort's hosted licence API ("hosted lika") that speaks its protocol over real HTTP.

Endpoints and JSON as in Basispoort's API (and LeoniePhiline/basispoort-sync-client's hosted-lika client),
under /hosted-lika/management/lika/{identity code}:
    GET|POST /methode                  {"methodes": [...]} | MethodDetails
    GET|PUT|DELETE /methode/{m}        MethodDetails {"id","code","naam","icon","iconUrl","url","tags"}
    GET|POST /methode/{m}/product      {"producten": [...]} | ProductDetails (url required)
    GET|PUT|DELETE /methode/{m}/product/{p}
    GET|PUT|DELETE /methode/{m}/product/{p}/gebruiker_eckid      {"gebruikers": [{"instellingId", "eckId"}]}
    POST /methode/{m}/product/{p}/gebruiker_eckid/addlist|removelist
    GET /methode/{m}/product/{p}/gebruiker (classic numeric ids; always empty here)
Unknown method or product: 404. Malformed body: 400 with a JSON error. The real service authenticates
with a TLS client certificate; this fake checks only the identity code in the path.

Test knobs: `fail_next(n, status)` answers the next n requests with `status`; `requests` lists
(method, path) of every request; `product_users(m, p)` is the state Basispoort would hold.
"""
from __future__ import annotations

import json
import threading

from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PREFIX = "/hosted-lika/management/lika/<code>"


class FakeHostedLika:
    def __init__(self, identity_code: str = "koppel"):
        self.identity_code = identity_code
        self.methods: dict[str, dict] = {}
        self.products: dict[tuple[str, str], dict] = {}
        self.users: dict[tuple[str, str], set[tuple[int, str]]] = {}
        self.requests: list[tuple[str, str]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.url_map = Map([
            Rule(f"{PREFIX}/methode", endpoint="methods", methods=["GET", "POST"]),
            Rule(f"{PREFIX}/methode/<method>", endpoint="method", methods=["GET", "PUT", "DELETE"]),
            Rule(f"{PREFIX}/methode/<method>/product", endpoint="products", methods=["GET", "POST"]),
            Rule(f"{PREFIX}/methode/<method>/product/<product>", endpoint="product",
                 methods=["GET", "PUT", "DELETE"]),
            Rule(f"{PREFIX}/methode/<method>/product/<product>/gebruiker", endpoint="classic_users",
                 methods=["GET"]),
            Rule(f"{PREFIX}/methode/<method>/product/<product>/gebruiker_eckid", endpoint="users",
                 methods=["GET", "PUT", "DELETE"]),
            Rule(f"{PREFIX}/methode/<method>/product/<product>/gebruiker_eckid/<op>", endpoint="user_list",
                 methods=["POST"]),
        ])
        self._server = None

    # --- test knobs ------------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def product_users(self, method: str, product: str) -> set[tuple[int, str]]:
        with self._lock:
            return set(self.users.get((method, product), set()))

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- protocol --------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append((request.method, request.path))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return Response("temporarily unavailable", status=failure)(environ, start_response)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
        except Exception:  # noqa: BLE001 - werkzeug's NotFound / MethodNotAllowed
            return _error(404, "not found")(environ, start_response)
        if args.pop("code") != self.identity_code:
            return _error(403, "unknown identity code")(environ, start_response)
        with self._lock:
            response = getattr(self, f"_{endpoint}")(request, **args)
        return response(environ, start_response)

    def _methods(self, request):
        if request.method == "GET":
            return _json({"methodes": list(self.methods.values())})
        body, error = _details(request, url_required=False)
        if error:
            return error
        self.methods[body["id"]] = body
        return Response(status=201)

    def _method(self, request, method):
        if method not in self.methods:
            return _error(404, f"methode {method} bestaat niet")
        if request.method == "GET":
            return _json(self.methods[method])
        if request.method == "DELETE":
            del self.methods[method]
            return Response(status=204)
        body, error = _details(request, url_required=False)
        if error:
            return error
        self.methods[method] = body
        return Response(status=204)

    def _products(self, request, method):
        if method not in self.methods:
            return _error(404, f"methode {method} bestaat niet")
        if request.method == "GET":
            return _json({"producten": [p for (m, _), p in self.products.items() if m == method]})
        body, error = _details(request, url_required=True)
        if error:
            return error
        self.products[(method, body["id"])] = body
        return Response(status=201)

    def _product(self, request, method, product):
        if (method, product) not in self.products:
            return _error(404, f"product {product} bestaat niet")
        if request.method == "GET":
            return _json(self.products[(method, product)])
        if request.method == "DELETE":
            del self.products[(method, product)]
            self.users.pop((method, product), None)
            return Response(status=204)
        body, error = _details(request, url_required=True)
        if error:
            return error
        self.products[(method, product)] = body
        return Response(status=204)

    def _classic_users(self, request, method, product):
        if (method, product) not in self.products:
            return _error(404, f"product {product} bestaat niet")
        return _json({"gebruikers": []})

    def _users(self, request, method, product):
        if (method, product) not in self.products:
            return _error(404, f"product {product} bestaat niet")
        key = (method, product)
        if request.method == "GET":
            return _json({"gebruikers": [{"instellingId": i, "eckId": e}
                                         for i, e in sorted(self.users.get(key, set()))]})
        if request.method == "DELETE":
            self.users.pop(key, None)
            return Response(status=204)
        users, error = _user_list(request)
        if error:
            return error
        self.users[key] = users
        return Response(status=204)

    def _user_list(self, request, method, product, op):
        if op not in ("addlist", "removelist"):
            return _error(404, "not found")
        if (method, product) not in self.products:
            return _error(404, f"product {product} bestaat niet")
        users, error = _user_list(request)
        if error:
            return error
        current = self.users.setdefault((method, product), set())
        if op == "addlist":
            current |= users
        else:
            current -= users
        return Response(status=204)


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"status": status, "message": message}, status)


def _body(request):
    try:
        return json.loads(request.get_data(as_text=True)), None
    except ValueError:
        return None, _error(400, "body is not JSON")


def _details(request, *, url_required: bool):
    body, error = _body(request)
    if error:
        return None, error
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not isinstance(body.get("naam"), str):
        return None, _error(400, "id and naam are required")
    if "/" in body["id"]:
        return None, _error(400, "id may not contain a slash")
    if url_required and not body.get("url"):
        return None, _error(400, "url is required for a product")
    if not isinstance(body.get("tags", []), list):
        return None, _error(400, "tags must be a list")
    return body, None


def _user_list(request):
    body, error = _body(request)
    if error:
        return None, error
    users = body.get("gebruikers") if isinstance(body, dict) else None
    if not isinstance(users, list):
        return None, _error(400, "gebruikers must be a list")
    out = set()
    for user in users:
        if not (isinstance(user, dict) and isinstance(user.get("instellingId"), int)
                and isinstance(user.get("eckId"), str) and user["eckId"]):
            return None, _error(400, "each gebruiker needs instellingId (number) and eckId")
        out.add((user["instellingId"], user["eckId"]))
    return out, None
