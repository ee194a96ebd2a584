"""The two listeners of `kiosk serve`: the kiosk's own, on loopback, and the office's.

The kiosk's touch screen and card reader belong to the kiosk PC's own browser, which reaches
them on a port bound to 127.0.0.1 only; desks, boards, status pages and the API are served
to the office network on another port. Which listener a request came through is set here, in
the WSGI environ, by the server that accepted the connection: no header can say it. The
office side refuses the kiosk's screens before the app sees the request, and each listener
has its own threads and connection budget, so no number of connections from the network
can starve the kiosk's screen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import waitress
from waitress.server import BaseWSGIServer, MultiSocketServer

LISTENER = "snelbalie.listener"  # not an HTTP_* key: a client cannot set it
KIOSK, OFFICE = "kiosk", "office"
KIOSK_HOST = "127.0.0.1"
# Under /kiosk/ the office side answers only the kiosk's health, for monitoring: no personal data.
OFFICE_KIOSK_PATHS = frozenset({"/kiosk/health"})
PROXY_HEADERS = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"}
KIOSK_THREADS = 8  # one screen: its page and assets, and up to CARD_WAITERS waiting for the card

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
UNKNOWN_HOST = b"Bad request: this server does not answer to that host name.\n"
NOT_ON_THIS_SIDE = b"Not found. The kiosk's screens and card reader are served only to the kiosk PC's own browser.\n"


def on_listener(environ: dict, side: str) -> bool:
    return environ.get(LISTENER) == side


def trusted_hosts(public_url: str, hosts: Iterable[str] = ()) -> list[str]:
    """The names the office's listener answers to: loopback, the public address's host, and
    the names the profile adds ([server] hosts)."""
    return [*LOOPBACK_HOSTS, urlsplit(public_url).hostname or "", *hosts]


class Side:
    """The app as one listener serves it: marks each request with the listener's side.

    The Host header must name this server (`hosts`; loopback only on the kiosk's side), so a
    page elsewhere cannot reach it under a name of its own (DNS rebinding)."""

    def __init__(self, app: Callable, side: str, hosts: Iterable[str] = LOOPBACK_HOSTS):
        self.app, self.side = app, side
        self.hosts = {host.strip("[]").lower() for host in hosts}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        environ[LISTENER] = self.side
        if _host_name(environ.get("HTTP_HOST", "")) not in self.hosts:
            return _plain(start_response, "400 Bad Request", UNKNOWN_HOST)
        path = environ.get("PATH_INFO", "")
        if self.side == OFFICE and _is_kiosk_path(path) and path not in OFFICE_KIOSK_PATHS:
            return _plain(start_response, "404 Not Found", NOT_ON_THIS_SIDE)
        return self.app(environ, start_response)


def _host_name(header: str) -> str | None:
    """The name in a Host header, without its port ("[::1]:8080" -> "::1")."""
    try:
        name = urlsplit(f"//{header}").hostname
    except ValueError:
        return None
    return name.lower() if name else None


def _is_kiosk_path(path: str) -> bool:
    return path == "/kiosk" or path.startswith("/kiosk/")


def _plain(start_response: Callable, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


@dataclass(frozen=True)
class Listeners:
    """Where `kiosk serve` listens. `kiosk_port` None: no kiosk screen on this machine."""

    office_host: str = "127.0.0.1"
    office_port: int = 8080
    kiosk_port: int | None = 8081
    threads: int = 8
    trusted_proxy: str | None = None
    hosts: tuple[str, ...] = LOOPBACK_HOSTS  # what the office's listener answers to (trusted_hosts)


def make_servers(app: Callable, listeners: Listeners) -> dict[str, BaseWSGIServer | MultiSocketServer]:
    """One waitress server per side, each with its own dispatcher threads and connections."""
    # A reverse proxy in front of the office side is trusted only when named: then waitress
    # takes the client's address and scheme from its X-Forwarded-* headers; from anyone else
    # they are dropped. The kiosk side keeps them: a request passed on by a proxy is never the
    # kiosk (kiosk.auth.from_this_pc).
    # A body far over the app's own limit is refused by waitress before it is read; one just
    # over it still reaches the app, which says so on the screen it was sent from.
    common: dict = dict(ident="snelbalie", asyncore_use_poll=True)
    config = getattr(app, "config", {})
    limit = config.get("MAX_CONTENT_LENGTH")
    if limit:
        common["max_request_body_size"] = max(4 * limit, config.get("REGISTER_UPLOAD_MAX") or 0)
    proxy: dict = {}
    if listeners.trusted_proxy:
        proxy = dict(trusted_proxy=listeners.trusted_proxy, trusted_proxy_count=1, trusted_proxy_headers=PROXY_HEADERS)
    servers = {
        # Every open board, desk and status page keeps a connection; past the limit waitress
        # stops accepting (default 100). poll() has no 1024-descriptor ceiling.
        OFFICE: waitress.create_server(
            Side(app, OFFICE, listeners.hosts),
            host=listeners.office_host,
            port=listeners.office_port,
            threads=listeners.threads,
            connection_limit=1000,
            **common,
            **proxy,
        )
    }
    if listeners.kiosk_port is not None:
        servers[KIOSK] = waitress.create_server(
            Side(app, KIOSK),
            host=KIOSK_HOST,
            port=listeners.kiosk_port,
            threads=KIOSK_THREADS,
            connection_limit=100,
            clear_untrusted_proxy_headers=False,
            **common,
        )
    return servers


def url(server: BaseWSGIServer | MultiSocketServer) -> str:
    host, port = server.effective_host, server.effective_port
    return f"http://{host}:{port}"


def run(servers: dict[str, BaseWSGIServer | MultiSocketServer]) -> None:
    """Serve until the process ends (systemd stops it with SIGTERM)."""
    first, *others = servers.values()
    for server in others:
        threading.Thread(target=server.run, name="kiosk listener", daemon=True).start()
    first.run()
