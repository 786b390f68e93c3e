"""Ollama's own rules for the values users copy from its documentation: `OLLAMA_HOST` and
`keep_alive`, re-implemented exactly so that what works with the `ollama` command works here.

- `ollama_host_url` is `envconfig.Host()` of ollama/ollama (envconfig/config.go): `:1234`
  is port 1234 on the local machine, `http://h` is port 80, `https://h` port 443, a bare
  host is port 11434, an invalid port falls back to the default, quotes are trimmed.
- `parse_keep_alive` accepts what the server's `api.Duration` accepts (api/types.go): a
  JSON number of seconds, or a Go duration string ("5m", "1h30m", "-1m"). A numeric string
  such as "-1" or "3600" is a number here and is sent as one: the server answers 400
  ("time: missing unit in duration") to the string form.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

DEFAULT_PORT = "11434"

_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_UNITS = {"ns", "us", "µs", "μs", "ms", "s", "m", "h"}
_GO_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


@dataclass(frozen=True)
class OllamaHost:
    scheme: str
    host: str  # as Ollama keeps it: "" for ":1234", "::1" unbracketed
    port: str
    path: str

    def __str__(self) -> str:
        """Go's url.URL.String() of the URL `Host()` returns."""
        path = f"/{self.path}" if self.path else ""
        return f"{self.scheme}://{_join_host_port(self.host, self.port)}{path}"

    def connectable(self) -> str:
        """The URL a client dials: an empty or wildcard host (a bind address, as in
        `OLLAMA_HOST=0.0.0.0 ollama serve`) means this machine, as it does for Go's dialer."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        path = f"/{self.path.rstrip('/')}" if self.path.rstrip("/") else ""
        return f"{self.scheme}://{_join_host_port(host, self.port)}{path}"


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _go_var(value: str) -> str:
    """envconfig.Var: trim spaces, then quotes and spaces (strings.Trim(s, "\\"' "))."""
    return value.strip().strip("\"' ")


def _split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go's net.SplitHostPort; None where it returns an error."""
    i = hostport.rfind(":")
    if i < 0:
        return None
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 == len(hostport) or end + 1 != i:
            return None
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            return None
    if "[" in hostport[j:] or "]" in hostport[k:]:
        return None
    return host, hostport[i + 1 :]


def _parse_ip(text: str) -> str | None:
    """Go's net.ParseIP(text).String(), or None."""
    if "%" in text:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def ollama_host_url(value: str) -> OllamaHost:
    """`envconfig.Host()` for OLLAMA_HOST=`value`."""
    default_port = DEFAULT_PORT
    s = _go_var(value).strip()
    scheme, sep, hostport = s.partition("://")
    if not sep:
        scheme, hostport = "http", s
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, _, path = hostport.partition("/")
    split = _split_host_port(hostport)
    if split is None:
        host, port = "127.0.0.1", default_port
        ip = _parse_ip(hostport.strip("[]"))
        if ip is not None:
            host = ip
        elif hostport:
            host = hostport
    else:
        host, port = split
    if not _GO_INT.fullmatch(port) or not 0 <= int(port) <= 65535:
        port = default_port
    return OllamaHost(scheme, host, port, path)


def normalize_ollama_host(value: str) -> str:
    """The URL to connect to for OLLAMA_HOST=`value`; ValueError for a scheme that is not
    http(s) (Ollama would keep it, and no HTTP client could use it)."""
    parsed = ollama_host_url(value)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {value.strip()!r}")
    return parsed.connectable()


# keep_alive -------------------------------------------------------------------------------
def go_duration_ok(text: str) -> bool:
    """Whether Go's time.ParseDuration accepts `text` (syntax only; overflow ignored)."""
    s = text
    if s[:1] in ("+", "-"):
        s = s[1:]
    if s == "0":
        return True
    if not s:
        return False
    pos = 0
    while pos < len(s):
        m = _GO_PART.match(s, pos)
        if m is None or m.end() == pos:
            return False
        number, unit = m.group(1), m.group(2)
        if not number.replace(".", ""):  # no digit before or after the dot
            return False
        if unit not in _GO_UNITS:
            return False
        pos = m.end()
    return True


def parse_keep_alive(value: str | float) -> str | int | float:
    """The keep_alive to send: a number (seconds; negative = keep loaded forever) when the
    value is one, else a Go duration string. ValueError for anything Ollama would refuse."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5m or a number of seconds")
    if isinstance(value, int | float):
        return value
    text = value.strip()
    if _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if go_duration_ok(text):
        return text
    raise ValueError(
        "expected a duration such as 5m, 1h30m or -1m, or a number of seconds such as "
        "3600 or -1 (negative: keep the model loaded)"
    )
