"""HTTP plumbing of the gateway on top of nameko's ``@http``.

- every response carries ``X-Request-ID`` (the caller's, or a new one), and the id
  travels into RPC calls and events as the correlation id;
- every error, routing errors included, is ``application/problem+json`` (API.md),
  and never shows a stack trace;
- bodies over the configured limit are refused with 413 before they are read;
- rate limits per token and per client address (429 with ``Retry-After``);
- CORS for the portal's configured origins;
- one JSON access-log line per request.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from eventlet import wsgi
from marshmallow import Schema
from nameko import config
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from gateway.auth import Authenticator
from gateway.ratelimit import RateLimiter, client_address
from motcua.errors import (
    BadRequest,
    Forbidden,
    Problem,
    RateLimited,
    TooLarge,
    log_expected_problems_in_one_line,
    validated,
)
from motcua.metrics import HTTP_SECONDS

log = logging.getLogger("motcua.gateway")
access_log = logging.getLogger("motcua.access")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON = "motcua.request_id"
ROUTE_ENVIRON = "motcua.route"  # the matched route template, for the metrics
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


UNLIMITED_PATHS = {"/healthz"}  # probes must never be refused
# The access log keeps no query string of these (personal data: /track?phone=), and no
# parameter named here on any route.
TRACK_PATH = "/api/v1/track/"  # tighter limits of its own, no query string logged
UNLOGGED_QUERY_PATHS = (TRACK_PATH,)
UNLOGGED_PARAMETERS = {"access_token"}
CORS_METHODS = "GET, POST, PUT, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
CORS_EXPOSED = "X-Request-ID, Location, Retry-After, Idempotent-Replayed"


def options() -> dict[str, Any]:
    return config.get("gateway", {})


def max_body_bytes() -> int:
    return int(options().get("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def allowed_origins() -> set[str]:
    value = options().get("CORS_ORIGINS") or ""
    items = value if isinstance(value, list) else str(value).split(",")
    return {item.strip().rstrip("/") for item in items if item.strip()}


def public_url() -> str:
    """Where callers reach the API (``MOTCUA_PUBLIC_URL``), for every link we hand out.

    Never the request's Host header: the caller chooses it (``Host: evil.example`` would
    print a phishing link on a receipt's QR code).
    """
    value = config.get("MOTCUA", {}).get("PUBLIC_URL") or DEFAULT_PUBLIC_URL
    return str(value).rstrip("/")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(body, status=status, headers=headers,
                    content_type=f"{content_type}; charset=utf-8")


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return json_response(problem, problem["status"], headers, "application/problem+json")


ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def read_json(request: Request) -> Any:
    """The body as JSON; 400 if it is not (never ``request.get_json()``: NAMEKO.md trap 7)."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("The request needs a JSON body.")
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("The body is nested too deeply.") from None
    except ValueError:  # an integer past sys.get_int_max_str_digits() (4,300 digits)
        raise BadRequest("The body has a number too long to read.") from None
    if ESCAPED_SURROGATE.search(text):  # "\\ud800" alone is no character: no database keeps it
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            raise BadRequest("The body has a lone UTF-16 surrogate (an escape such as "
                             "\\ud800 not followed by its pair): not text.") from None
    return body


def query(schema: Schema, request: Request) -> dict[str, Any]:
    """The query string loaded by ``schema``, or a 422 naming each wrong parameter."""
    return validated(schema, request.args.to_dict())


def logged_query(request: Request) -> str:
    """The query string as the access log may keep it: none for personal-data routes, and
    never a credential."""
    if not request.query_string or request.path.startswith(UNLOGGED_QUERY_PATHS):
        return ""
    kept = [(name, value) for name, value in request.args.items(multi=True)
            if name.lower() not in UNLOGGED_PARAMETERS]
    return urlencode(kept)


def buffer_chunked_body(environ: dict[str, Any], limit: int) -> None:
    """Read a chunked body here, up to ``limit`` (413 past it), and hand it on with its
    Content-Length: werkzeug reads a body without one as empty."""
    stream, body = environ["wsgi.input"], bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise TooLarge(f"The body exceeds {limit} bytes.")
    environ["wsgi.input"] = io.BytesIO(bytes(body))
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)


def http_problem(exc: HTTPException) -> dict[str, Any]:
    """A werkzeug routing or protocol error as a problem (404, 405, 413, ...)."""
    code = exc.code or 400
    return {"type": f"https://motcua.dev/problems/http-{code}", "title": exc.name,
            "status": code, "detail": exc.description or exc.name}


class ProblemWsgiApp(WsgiApp):
    def __init__(self, server: WebServer) -> None:
        super().__init__(server)
        self.limiter = RateLimiter.from_config(options())
        self.authenticator = Authenticator.from_settings()
        self.origins = allowed_origins()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.monotonic()
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if VALID_REQUEST_ID.match(given) else str(uuid.uuid4())
        environ[REQUEST_ID_ENVIRON] = request_id
        request = Request(environ, shallow=True)
        origin = request.headers.get("Origin", "").rstrip("/")
        try:
            response = self.respond(request, origin)
        except Problem as exc:
            response = problem_response(exc.problem(), exc.headers())
        except HTTPException as exc:
            response = problem_response(http_problem(exc),
                                        dict(exc.get_headers()) if exc.code == 405 else None)
        response.headers[REQUEST_ID_HEADER] = request_id
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if origin and origin in self.origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
            response.headers.add("Vary", "Origin")
        elapsed = time.monotonic() - started
        access_log.info(json.dumps({
            "request_id": request_id, "method": request.method, "path": request.path,
            "query": logged_query(request), "status": response.status_code,
            "address": request.remote_addr, "ms": round(elapsed * 1000, 1),
        }))
        # a path no route matched is one label, not one per path (a scan has many)
        route = environ.get(ROUTE_ENVIRON) or (
            request.path if request.path in self.server.direct_routes else "unmatched")
        HTTP_SECONDS.labels(request.method, route, str(response.status_code)).observe(elapsed)
        return response(environ, start_response)

    def respond(self, request: Request, origin: str) -> Response:
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            if origin not in self.origins:
                raise Forbidden(f"The origin {origin or '(none)'} may not call this API.")
            return Response(status=204, headers={
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS, "Access-Control-Max-Age": "600"})
        direct = self.server.direct_routes.get(request.path)
        if direct and request.method in ("GET", "HEAD"):
            return direct(request)  # answered without waiting for a worker
        if request.path not in UNLIMITED_PATHS:
            address = client_address(request.remote_addr,
                                     request.headers.get("X-Forwarded-For"),
                                     self.limiter.trusted_proxies)
            extra = (self.limiter.track_limits(request.path.rsplit("/", 1)[-1], address)
                     if request.path.startswith(TRACK_PATH) else [])
            wait = self.limiter.retry_after(self.authenticator.caller(request), address,
                                            extra)
            if wait is not None:
                problem = RateLimited(f"Too many requests; try again in {wait} s.").problem()
                return problem_response(problem, {"Retry-After": str(wait)})
        if "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            buffer_chunked_body(request.environ, max_body_bytes())
        length = request.content_length
        if length is not None and length > max_body_bytes():
            raise TooLarge(f"The body is {length} bytes; the limit is "
                           f"{max_body_bytes()} bytes.")
        rule, values = self.url_map.bind_to_environ(request.environ).match(return_rule=True)
        request.environ[ROUTE_ENVIRON] = rule.rule  # the metrics' label: not the raw path
        request.path_values = values
        return rule.endpoint.handle_request(request)


class ProblemProtocol(HttpOnlyProtocol):
    """eventlet's HTTP protocol, but headers over its limits (8 KiB a line, 64 KiB in
    all) get a problem+json 431 instead of a bare 400 with no body."""

    def parse_request(self) -> bool:
        try:
            return super().parse_request()
        except (wsgi.HeaderLineTooLong, wsgi.HeadersTooLarge):
            body = json.dumps({
                "type": "https://motcua.dev/problems/http-431",
                "title": "Request header fields too large", "status": 431,
                "detail": f"A header line is limited to {wsgi.MAX_HEADER_LINE} bytes and "
                          f"all headers to {wsgi.MAX_TOTAL_HEADER_SIZE} bytes."}).encode()
            head = ("HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    "Content-Type: application/problem+json\r\n"
                    f"{REQUEST_ID_HEADER}: {uuid.uuid4()}\r\n"
                    "X-Content-Type-Options: nosniff\r\n"
                    f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n")
            self.wfile.write(head.encode() + body)
            self.close_connection = 1
            return False


class ProblemWebServer(WebServer):
    """nameko's web server with our WSGI app, and routes answered outside the pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct_routes: dict[str, Any] = {}  # path -> callable(request) -> Response

    def get_wsgi_app(self) -> ProblemWsgiApp:
        return ProblemWsgiApp(self)

    def get_wsgi_server(self, sock: Any, wsgi_app: Any, *args: Any, **kwargs: Any) -> Any:
        """eventlet's server without its own access line: that line carries the raw query
        string (``?phone=``, ``?access_token=``); ours (``motcua.access``) does not."""
        kwargs.setdefault("protocol", ProblemProtocol)
        server = super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)
        server.log_output = False
        return server

    def context_data_from_headers(self, request: Request) -> dict[str, Any]:
        return {"correlation_id": request.environ[REQUEST_ID_ENVIRON]}


class ApiHandler(HttpRequestHandler):
    """``@api(method, url)``: like nameko's ``@http``, but every error is a problem."""

    server = ProblemWebServer()

    def setup(self) -> None:
        super().setup()
        log_expected_problems_in_one_line()

    @staticmethod
    def describe_call(worker_ctx: Any) -> str:
        """Where a call came from, for its one log line: the route it asked."""
        request = worker_ctx.args[0] if worker_ctx.args else None
        return (f"{worker_ctx.call_id} {getattr(request, 'method', '?')} "
                f"{getattr(request, 'path', '?')}")

    def handle_request(self, request: Request) -> Response:
        request.max_content_length = max_body_bytes()
        return super().handle_request(request)

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Problem):
            return problem_response(exc.problem(), exc.headers())
        if isinstance(exc, RequestEntityTooLarge):
            return problem_response(TooLarge(f"The body exceeds {max_body_bytes()} bytes.")
                                    .problem())
        if isinstance(exc, HTTPException):
            return problem_response(http_problem(exc))
        log.exception("unhandled error in the gateway", exc_info=exc)
        return problem_response({"type": "https://motcua.dev/problems/internal",
                                 "title": "Internal error", "status": 500,
                                 "detail": "Something went wrong on our side; it was logged."})


def api(method: str, url: str, **kwargs: Any) -> Any:
    """``@api(method, url)``: a route whose problems (``motcua.errors``) are expected."""
    kwargs.setdefault("expected_exceptions", Problem)
    return ApiHandler.decorator(method, url, **kwargs)
