"""A thin typed layer over the `ollama` client: the one place where transport errors
become messages a user can act on.

Every call into Ollama made by this project (probing, embedding, and, through
`translate_errors`, generation via llama-index) goes through here, so a refused
connection, a timeout or a missing model always reads the same way.
"""

from __future__ import annotations

import contextlib
import html
import re
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.errors import (
    ModelNotFoundError,
    OllamaError,
    OllamaTimeoutError,
    OllamaUnavailableError,
)

# httpx and the ollama client are imported where they are used: together they cost about
# 0.3 s, which commands that find Ollama down (the default) or never need it do not pay.
if TYPE_CHECKING:
    import ollama

TRANSIENT_STATUS = {500, 502, 503, 504}
MAX_DETAIL_CHARS = 200

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def one_line(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """A server's error text as one short line: an HTML page (a proxy's 502) becomes its
    title or its text, whitespace is collapsed, and the rest is cut at `limit` characters."""
    text = str(text)
    if "<" in text and re.search(r"<\s*(html|head|body|title|h1|!doctype)\b", text, re.I):
        m = _TITLE.search(text)
        text = m.group(1) if m and m.group(1).strip() else _TAGS.sub(" ", text)
        text = html.unescape(text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or "(no message)"


def port_open(host: str, timeout: float) -> bool:
    """Whether something accepts TCP connections at the Ollama URL `host`: a cheap first
    check, so an absent Ollama is noticed at once without importing any HTTP client."""
    parts = urlsplit(host)
    port = parts.port or (443 if parts.scheme == "https" else 11434)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable_message(host: str) -> str:
    return (
        f"Failed to connect to Ollama at {host}. Please check that Ollama is installed, "
        "running and accessible (see README: Using a local model), or set OLLAMA_HOST."
    )


@contextlib.contextmanager
def translate_errors(host: str, model: str | None = None) -> Iterator[None]:
    """Turn whatever the `ollama`/httpx stack raises into an OllamaError subclass."""
    import httpx
    import ollama

    try:
        yield
    except ollama.ResponseError as exc:
        text = one_line(str(exc.error))
        lowered = text.lower()
        if exc.status_code == 404 and model and "not found" in lowered and "model" in lowered:
            raise ModelNotFoundError(model, host) from None
        if model and "does not support chat" in lowered:
            raise OllamaError(
                f"model {model} at {host} cannot chat (Ollama: {text}): it is probably an "
                "embedding model; set RAG_LLM_MODEL to a chat model"
            ) from None
        if model and "does not support thinking" in lowered:
            raise OllamaError(
                f"model {model} at {host} refused the thinking setting (Ollama: {text})"
            ) from None
        if "missing unit in duration" in lowered or "invalid duration" in lowered:
            raise OllamaError(
                f"Ollama at {host} refused keep_alive ({text}): check RAG_OLLAMA_KEEP_ALIVE"
            ) from None
        if exc.status_code < 0:  # an error line inside a stream that had begun (HTTP 200)
            raise OllamaError(f"Ollama at {host} stopped with an error: {text}") from None
        raise OllamaError(f"Ollama at {host} answered HTTP {exc.status_code}: {text}") from None
    except ConnectionError:  # the ollama client's conversion of httpx.ConnectError
        raise OllamaUnavailableError(unavailable_message(host)) from None
    except httpx.ConnectError:
        raise OllamaUnavailableError(unavailable_message(host)) from None
    except httpx.ConnectTimeout:
        raise OllamaUnavailableError(unavailable_message(host)) from None
    except httpx.TimeoutException as exc:
        raise OllamaTimeoutError(
            f"Ollama at {host} did not answer in time ({type(exc).__name__}); "
            "raise RAG_OLLAMA_TIMEOUT or use a smaller model"
        ) from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        detail = one_line(str(exc))
        raise OllamaError(f"the connection to Ollama at {host} was cut: {detail}") from None
    except httpx.HTTPError as exc:
        raise OllamaError(f"talking to Ollama at {host} failed: {one_line(str(exc))}") from None


@dataclass(frozen=True)
class OllamaStatus:
    """What a probe learned about an Ollama server."""

    host: str
    reachable: bool
    version: str | None = None
    models: list[str] = field(default_factory=list)
    error: str | None = None
    # models that can chat: /api/tags lists `capabilities` (Ollama 0.12+); a model listed
    # without them is kept, and an embedding-only model is left out
    chat_models: list[str] = field(default_factory=list)

    def has_model(self, name: str) -> bool:
        """Ollama treats `name` and `name:latest` as the same model."""
        wanted = {name, f"{name}:latest"} if ":" not in name else {name}
        return any(m in wanted for m in self.models)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "host": self.host,
            "version": self.version,
            "models": self.models,
            "chat_models": self.chat_models,
            "error": self.error,
        }


def _models_of(listed: Any) -> tuple[list[str], list[str]]:
    """(every model, the models that can chat) of an /api/tags `models` list."""
    models: list[str] = []
    chat: list[str] = []
    for entry in listed if isinstance(listed, list) else []:
        if not isinstance(entry, dict):
            continue
        name = entry.get("model") or entry.get("name")
        if not isinstance(name, str) or not name:
            continue
        models.append(name)
        caps = entry.get("capabilities")
        if not isinstance(caps, list) or "completion" in caps:
            chat.append(name)
    return sorted(models), sorted(chat)


class OllamaAPI:
    """The calls this project makes to Ollama that are not generation."""

    def __init__(self, host: str, *, timeout: float, probe_timeout: float = 2.0) -> None:
        self.host = host
        self.timeout = timeout
        self.probe_timeout = probe_timeout
        self._client: ollama.Client | None = None

    @property
    def client(self) -> ollama.Client:
        if self._client is None:
            import ollama

            self._client = ollama.Client(host=self.host, timeout=self.timeout)
        return self._client

    def probe(self) -> OllamaStatus:
        """Is the server up, which version, which models are pulled. Never raises."""
        if not port_open(self.host, self.probe_timeout):
            return OllamaStatus(
                host=self.host, reachable=False, error=unavailable_message(self.host)
            )
        import httpx
        import ollama

        try:
            with (
                ollama.Client(host=self.host, timeout=self.probe_timeout) as quick,
                translate_errors(self.host),
            ):
                raw = quick._client.get("/api/version")
                raw.raise_for_status()
                version = str(raw.json().get("version", "")) or None
                tags = quick._client.get("/api/tags")
                tags.raise_for_status()
                listed = tags.json().get("models") or []
        except OllamaError as exc:
            return OllamaStatus(host=self.host, reachable=False, error=str(exc))
        except (httpx.HTTPStatusError, ValueError, AttributeError) as exc:
            return OllamaStatus(
                host=self.host, reachable=False, error=f"not Ollama: {one_line(str(exc))}"
            )
        models, chat = _models_of(listed)
        return OllamaStatus(
            host=self.host, reachable=True, version=version, models=models, chat_models=chat
        )

    def embedding_dim(self, model: str) -> int | None:
        """The embedding length Ollama reports for `model` (`/api/show`), if it says."""
        with translate_errors(self.host, model):
            info = self.client.show(model).modelinfo or {}
        for key, value in info.items():
            if key.endswith(".embedding_length") and isinstance(value, int):
                return value
        return None

    def embed(
        self,
        model: str,
        texts: Sequence[str],
        *,
        keep_alive: str | float | None = None,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> list[list[float]]:
        """One `/api/embed` request for all `texts`; transient failures retried with backoff."""
        attempt = 0
        while True:
            try:
                with translate_errors(self.host, model):
                    resp = self.client.embed(
                        model=model, input=list(texts), truncate=True, keep_alive=keep_alive
                    )
                break
            except (ModelNotFoundError, OllamaUnavailableError):
                raise
            except OllamaError as exc:
                transient = (
                    isinstance(exc, OllamaTimeoutError)
                    or any(f"HTTP {s}" in str(exc) for s in TRANSIENT_STATUS)
                    or "was cut" in str(exc)
                )
                if not transient or attempt >= retries:
                    raise
                attempt += 1
                time.sleep(backoff * 2 ** (attempt - 1))
        vectors = [list(map(float, v)) for v in resp.embeddings]
        if len(vectors) != len(texts):
            raise OllamaError(
                f"Ollama at {self.host} returned {len(vectors)} embeddings for {len(texts)} texts"
            )
        return vectors
