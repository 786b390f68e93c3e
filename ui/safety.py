"""Where the UI may listen, and with which credentials. Kept free of Gradio so the CLI
can refuse a bad bind at once, before the slow UI import."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import socket
import time

from core.errors import ConfigError, RagError


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`. Names are not resolved (no DNS)."""
    name = host.strip().lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` -> (user, password); None or "" -> None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ConfigError("invalid --auth/RAG_UI_AUTH: expected user:password")
    return user, password


def check_bind(host: str, auth: tuple[str, str] | None) -> None:
    """A non-loopback address serves the whole network: refuse it without auth."""
    if not host.strip():
        raise ConfigError("invalid --host: empty")
    if host != host.strip() or any(ch.isspace() for ch in host):
        raise ConfigError(f"invalid --host {host!r}: it holds spaces; remove them")
    if not is_loopback(host) and auth is None:
        raise ConfigError(
            f"refusing to serve on {host} without authentication: other machines could "
            "reach it; pass --auth user:password (or set RAG_UI_AUTH), or use --host 127.0.0.1"
        )


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def check_port(host: str, port: int) -> None:
    """Fail early, in one line, when `host:port` cannot be bound (in use, or not an
    address of this machine); the web server would only say "cannot find empty port".
    Names other than localhost are left to the server (no DNS lookup here)."""
    name = "127.0.0.1" if host.strip().lower() in ("localhost", "localhost.") else host
    name = name.strip("[]")
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(name).version == 6 else socket.AF_INET
    except ValueError:
        return
    with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((name, port))
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise RagError(f"cannot serve on {url_for(host, port)}: {reason}") from None


class LoginGuard:
    """Checks `--auth` logins for Gradio, with a delay after each failed attempt that
    doubles with every failure in a row (FIRST_DELAY .. MAX_DELAY seconds) and is reset
    by a success. Attempts are checked one at a time, so parallel guessing gains
    nothing: 300 wrong passwords take minutes, not 0.2 s. The delay is awaited, so the
    server keeps serving logged-in users meanwhile."""

    FIRST_DELAY = 0.5
    MAX_DELAY = 8.0

    def __init__(self, user: str, password: str) -> None:
        self._user = user.encode("utf-8")
        self._password = password.encode("utf-8")
        self._failures = 0
        self._lock: asyncio.Lock | None = None
        self.last_delay = 0.0

    def delay(self) -> float:
        if not self._failures:
            return 0.0
        return float(min(self.MAX_DELAY, self.FIRST_DELAY * 2.0 ** (self._failures - 1)))

    async def check(self, user: str, password: str) -> bool:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            ok = hmac.compare_digest(user.encode("utf-8"), self._user) & hmac.compare_digest(
                password.encode("utf-8"), self._password
            )
            if ok:
                self._failures = 0
                return True
            self._failures += 1
            self.last_delay = self.delay()
            started = time.monotonic()
            await asyncio.sleep(self.last_delay)
            self.last_delay = time.monotonic() - started
            return False
