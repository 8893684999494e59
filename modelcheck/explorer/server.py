"""The explorer's HTTP side: one static page and a small JSON API.

The server listens on 127.0.0.1 only and answers only requests addressed to
it by a loopback name (a page elsewhere cannot reach it through DNS
rebinding).  What the page sends is data, never code or paths: a model is a
spec name the ``Library`` knows and parameters it parses, a path is a list
of step indices that ``Session.replay`` checks against the enabled steps, a
gallery entry is a name from the gallery's listing, and an uploaded trace is
JSON content.  POST bodies must be JSON (``Content-Type: application/json``),
which a cross-site form cannot send without the browser asking first.

API (every answer is JSON; errors are ``{"error": text}`` with a 4xx status):

=====================  ===================================================
GET  /api/config       the model the explorer started on, gallery entries
POST /api/view         ``{model, path}``: state, enabled steps, properties
POST /api/chart        ``{model, path}``: the sequence chart, ``{svg}``
POST /api/open         ``{gallery: name}`` or ``{trace: {...}}``: its model
                       and path
POST /api/check        ``{model, max_states, time_limit}``: start a check
GET  /api/check        the check's status, and its report when done
POST /api/check/stop   stop the check
=====================  ===================================================
"""

from __future__ import annotations

import json
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from modelcheck.errors import SpecError
from modelcheck.explorer.jobs import MAX_SECONDS, MAX_STATES, CheckRunner, Limits
from modelcheck.explorer.session import Library, ModelChoice, StepError

HOST = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
MAX_BODY = 8 * 2**20
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}


class Explorer:
    """What the server serves: the spec library, the default model, the
    gallery and the page's check."""

    def __init__(self, library: Library, home: ModelChoice, gallery: Path | None) -> None:
        self.library = library
        self.home = home
        self.gallery = gallery
        self.checks = CheckRunner()
        library.session(home)  # a bad model fails now, at the command line

    def gallery_entries(self) -> list[str]:
        if self.gallery is None or not self.gallery.is_dir():
            return []
        return sorted(p.stem for p in self.gallery.glob("*.json"))

    def config(self) -> dict[str, Any]:
        return {"model": self.home.to_json(), "gallery": self.gallery_entries(),
                "caps": {"max_states": MAX_STATES, "time_limit": MAX_SECONDS}}

    def open(self, request: dict[str, Any]) -> dict[str, Any]:
        """A gallery entry's or an uploaded trace's model and path."""
        if "gallery" in request:
            name = request["gallery"]
            if name not in self.gallery_entries():
                raise SpecError(f"no gallery entry {name!r}")
            assert self.gallery is not None
            report = json.loads((self.gallery / f"{name}.json").read_text(encoding="utf-8"))
        elif "trace" in request:
            report = request["trace"]
        else:
            raise SpecError("open: expected a gallery name or a trace")
        choice = ModelChoice.of_trace(report)
        path = self.library.session(choice).path_of_trace(report["trace"])
        return {"model": choice.to_json(), "path": path,
                "property": report.get("property"), "explanation": report.get("explanation")}

    def check(self, request: dict[str, Any]) -> dict[str, Any]:
        choice = ModelChoice.from_json(request.get("model"))
        limits = Limits.from_json(request)
        source = self.library.source(choice.spec)
        self.library.session(choice)  # refuse bad parameters here, not in the child
        self.checks.start(source, choice, limits)
        return self.checks.status()

    def stop_check(self) -> dict[str, Any]:
        self.checks.stop()
        return self.checks.status()

    def check_status(self) -> dict[str, Any]:
        status = self.checks.status()
        report = status.get("report")
        if report is not None and report.get("trace"):
            # The page steps through the counterexample like any path.
            choice = ModelChoice.from_json(status["model"])
            try:
                status["path"] = self.library.session(choice).path_of_trace(report["trace"])
            except SpecError as exc:
                status["path_error"] = str(exc)
        return status


class Handler(BaseHTTPRequestHandler):
    server: ExplorerServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Quiet: the terminal shows the URL, not every request."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if not self._addressed_to_us():
            return
        page = self.path.split("?", 1)[0]
        if page in STATIC:
            name, content_type = STATIC[page]
            body = resources.files("modelcheck.explorer").joinpath("static", name).read_bytes()
            self._send(HTTPStatus.OK, body, content_type)
        elif page == "/api/config":
            self._json(HTTPStatus.OK, self.server.explorer.config())
        elif page == "/api/check":
            self._json(HTTPStatus.OK, self.server.explorer.check_status())
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {page}"})

    def do_POST(self) -> None:  # noqa: N802
        if not self._addressed_to_us():
            return
        explorer = self.server.explorer
        routes = {
            "/api/view": lambda r: self._session(r).view(self._path(r)),
            "/api/chart": lambda r: {"svg": self._session(r).chart_svg(self._path(r))},
            "/api/open": explorer.open,
            "/api/check": explorer.check,
            "/api/check/stop": lambda _request: explorer.stop_check(),
        }
        route = routes.get(self.path)
        if route is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such API: {self.path}"})
            return
        try:
            request = self._body()
            answer = route(request)
        except StepError as exc:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(exc)})
        except SpecError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # the spec's code or the explorer's raised
            traceback.print_exc()
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR,
                       {"error": f"{type(exc).__name__}: {exc} (the terminal running the "
                                 "explorer has the traceback)"})
        else:
            self._json(HTTPStatus.OK, answer)

    def _session(self, request: dict[str, Any]) -> Any:
        return self.server.explorer.library.session(ModelChoice.from_json(request.get("model")))

    @staticmethod
    def _path(request: dict[str, Any]) -> list[int]:
        path = request.get("path", [])
        if not isinstance(path, list):
            raise StepError("path: expected a list of step indices")
        return path

    def _addressed_to_us(self) -> bool:
        host = self.headers.get("Host", "")
        name, _, port = host.rpartition(":")
        if name in LOOPBACK_NAMES and port == str(self.server.server_port):
            return True
        self._json(HTTPStatus.FORBIDDEN,
                   {"error": f"the explorer answers only at http://{HOST}:{self.server.server_port}"})
        return False

    def _body(self) -> dict[str, Any]:
        if self.headers.get_content_type() != "application/json":
            raise SpecError("send JSON (Content-Type: application/json)")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise SpecError("bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise SpecError(f"request too large (at most {MAX_BODY // 2**20} MiB)")
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SpecError(f"the request is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise SpecError("the request must be a JSON object")
        return data

    def _json(self, status: HTTPStatus, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
        self.end_headers()
        self.wfile.write(body)


class ExplorerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, explorer: Explorer, port: int) -> None:
        self.explorer = explorer
        super().__init__((HOST, port), Handler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}/"


def serve_in_thread(explorer: Explorer, port: int = 0) -> ExplorerServer:
    """Start a server on a daemon thread (tests, and --open); ``shutdown()`` stops it."""
    server = ExplorerServer(explorer, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
