"""Who may talk to the GUI server: only requests addressed to the hosts it was asked to bind.

A page on another site can make the browser send requests to 127.0.0.1 (DNS rebinding: its
own name resolving to this machine) or open the GUI's websocket from its own origin.  Every
HTTP and websocket request is therefore checked before it reaches NiceGUI: its ``Host`` header
must name an allowed host, and an ``Origin`` header, when present, must too.  Other requests
get 403 and never see a page, an answer of the socket.io server or a figure.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def allowed_hosts(host: str) -> frozenset[str]:
    """The host names a browser may use for a server bound to ``host``: the loopback names
    for a local address; for a wildcard (0.0.0.0, ::) this machine's names and addresses too;
    otherwise the address itself."""
    host = host.strip("[]").lower()
    if host in LOOPBACK:
        return frozenset(LOOPBACK)
    if host not in WILDCARDS:
        return frozenset({host})
    names = {socket.gethostname().lower(), socket.getfqdn().lower(), *LOOPBACK}
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        infos = []
    names.update(str(info[4][0]).lower() for info in infos)
    return frozenset(names)


def request_host(value: str) -> str | None:
    """The host name of a ``Host`` header value ("127.0.0.1:8080", "[::1]:8080") or of an
    origin ("http://127.0.0.1:8080"); None when it names none."""
    text = value if "//" in value else f"//{value}"
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


class HostCheck:
    """ASGI middleware: 403 for a request whose Host (or Origin) is not an allowed host."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], hosts: Iterable[str]
    ):
        self.app = app
        self.hosts = frozenset(hosts)

    def allows(self, headers: dict[bytes, bytes]) -> bool:
        """Whether a request with these headers is addressed to this server."""
        host = request_host(headers.get(b"host", b"").decode("latin-1"))
        if host not in self.hosts:
            return False
        origin = headers.get(b"origin")
        return origin is None or request_host(origin.decode("latin-1")) in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allows(dict(scope["headers"])):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b"rnnzoo GUI: this host or origin is not allowed\n"
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", b"%d" % len(body)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
