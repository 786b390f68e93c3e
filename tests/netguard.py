"""An in-process network guard: records every connection attempt and name lookup made
through Python's `socket` module, and refuses (raises, and records as a violation) any
that would leave the machine.

Allowed: loopback addresses (127.0.0.0/8, ::1, IPv4-mapped loopback), `localhost`, Unix
sockets. Refused: every other address, and every lookup of any other host name, since a
DNS query itself leaves the machine. Wrapped: `socket.socket.connect`, `connect_ex` and
`sendto` (UDP, e.g. a hand-rolled DNS query), `socket.getaddrinfo`,
`socket.create_connection`, `socket.gethostbyname(_ex)`, `socket.gethostbyaddr`.

What it cannot see: native code that opens sockets without going through Python (Chroma's
Rust core, a browser). tests/test_offline.py therefore also runs the CLI in a subprocess
under `unshare -n` (no network interface but loopback) where the system allows it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

_LOCAL_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


class NetworkBlocked(OSError):
    """Raised in place of a connection or lookup that would leave the machine."""


@dataclass(frozen=True)
class Attempt:
    kind: str  # "connect", "connect_ex", "sendto", "getaddrinfo", "gethostbyname", ...
    target: str
    allowed: bool


def is_loopback_host(host: Any) -> bool:
    """Loopback (or unspecified) IP literal, or a local name. Other names are not: resolving
    them would be a DNS query."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard / loopback
    if isinstance(host, bytes):
        host = host.decode("idna", "replace")
    name = str(host).strip().lower().strip("[]")
    if name in _LOCAL_NAMES or name == "":
        return True
    name = name.split("%", 1)[0]  # IPv6 zone id
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # connecting to 0.0.0.0 / :: reaches this host on Linux; nothing leaves the machine
    return ip.is_loopback or ip.is_unspecified


def _address_allowed(family: int, address: Any) -> tuple[bool, str]:
    if family == getattr(socket, "AF_UNIX", object()):
        return True, f"unix:{address!r}"
    if isinstance(address, tuple) and address:
        return is_loopback_host(
            address[0]
        ), f"{address[0]}:{address[1] if len(address) > 1 else ''}"
    return False, repr(address)


@dataclass
class NetGuard:
    """Install with `with NetGuard() as guard:`; then `guard.violations` lists what was
    refused (a test asserts it is empty) and `guard.attempts` everything seen."""

    attempts: list[Attempt] = field(default_factory=list)
    _saved: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def violations(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if not a.allowed]

    @property
    def loopback(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.allowed]

    def _record(self, kind: str, target: str, allowed: bool) -> None:
        with self._lock:
            self.attempts.append(Attempt(kind, target, allowed))
        if not allowed:
            raise NetworkBlocked(f"netguard: blocked {kind} to {target} (not loopback)")

    def install(self) -> None:
        if self._saved:
            raise RuntimeError("NetGuard is already installed")
        guard = self
        s = self._saved
        s["connect"] = socket.socket.connect
        s["connect_ex"] = socket.socket.connect_ex
        s["sendto"] = socket.socket.sendto
        s["getaddrinfo"] = socket.getaddrinfo
        s["create_connection"] = socket.create_connection
        s["gethostbyname"] = socket.gethostbyname
        s["gethostbyname_ex"] = socket.gethostbyname_ex
        s["gethostbyaddr"] = socket.gethostbyaddr

        def connect(sock: socket.socket, address: Any) -> None:
            allowed, target = _address_allowed(sock.family, address)
            guard._record("connect", target, allowed)
            s["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            allowed, target = _address_allowed(sock.family, address)
            guard._record("connect_ex", target, allowed)
            result: int = s["connect_ex"](sock, address)
            return result

        def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
            address = args[-1]
            allowed, target = _address_allowed(sock.family, address)
            guard._record("sendto", target, allowed)
            result: int = s["sendto"](sock, data, *args)
            return result

        def lookup(kind: str) -> Callable[..., Any]:
            real = s[kind]

            def wrapper(host: Any, *args: Any, **kwargs: Any) -> Any:
                guard._record(kind, str(host), is_loopback_host(host))
                return real(host, *args, **kwargs)

            return wrapper

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            host = address[0] if isinstance(address, tuple) else address
            guard._record("create_connection", f"{host}:{address[1]}", is_loopback_host(host))
            conn: socket.socket = s["create_connection"](address, *args, **kwargs)
            return conn

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = lookup("getaddrinfo")
        socket.gethostbyname = lookup("gethostbyname")
        socket.gethostbyname_ex = lookup("gethostbyname_ex")
        socket.gethostbyaddr = lookup("gethostbyaddr")
        socket.create_connection = create_connection  # type: ignore[assignment]

    def uninstall(self) -> None:
        s = self._saved
        if not s:
            return
        socket.socket.connect = s["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = s["connect_ex"]  # type: ignore[method-assign]
        socket.socket.sendto = s["sendto"]  # type: ignore[method-assign]
        socket.getaddrinfo = s["getaddrinfo"]
        socket.gethostbyname = s["gethostbyname"]
        socket.gethostbyname_ex = s["gethostbyname_ex"]
        socket.gethostbyaddr = s["gethostbyaddr"]
        socket.create_connection = s["create_connection"]
        s.clear()

    def __enter__(self) -> NetGuard:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def report(self) -> str:
        return "\n".join(
            f"{a.kind} {a.target} {'ok' if a.allowed else 'BLOCKED'}" for a in self.attempts
        )


@contextlib.contextmanager
def guarded() -> Iterator[NetGuard]:
    with NetGuard() as guard:
        yield guard
