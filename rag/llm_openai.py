"""Generation with an OpenAI-compatible server (RAG_LLM_BACKEND=openai): llama.cpp's
`llama-server`, LM Studio, vLLM, or Ollama's own `/v1`, at RAG_LLM_BASE_URL.

It uses the `openai` client directly rather than llama-index's OpenAILike: one streamed
`/chat/completions` call is all this needs, and the client's typed errors (connection,
timeout, HTTP status) map one-to-one onto the project's messages. The client is given the
URL and a key explicitly, with no retries; it has no telemetry, and there is no default URL:
without RAG_LLM_BASE_URL the settings refuse to load, so nothing can reach a cloud service.

The same prompts, the same citation check and the same fallback to the model-free answer
apply as with Ollama: every fault (server down, HTTP 500, timeout, a cut stream, an unknown
model) is raised as one OpenAIServerError line naming the setting to change.

The server's context window cannot be set from here (unlike Ollama's num_ctx), so it is
read once: RAG_LLM_CONTEXT_WINDOW if set, else llama.cpp's `/props` (n_ctx), else the
model's entry in `/models` (vLLM's max_model_len, LM Studio's context_length), else
DEFAULT_WINDOW; the passage budget then shrinks to fit it (rag.budget).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from core.errors import (
    LLMError,
    OpenAIModelNotFoundError,
    OpenAIServerError,
    OpenAIUnavailableError,
)
from core.ollama_api import one_line
from core.settings import Settings

if TYPE_CHECKING:
    import openai

    from rag.budget import Plan

DEFAULT_WINDOW = 4096  # Ollama's /v1 default; llama.cpp's is the model's, vLLM reports its own
TEMPERATURE = 0.1
SHORT_REPLY_TOKENS = 256  # max_tokens of the non-streamed calls (rewrite, condense)


def unavailable_message(url: str) -> str:
    return (
        f"Failed to connect to the OpenAI-compatible server at {url}. Check that it is "
        "running (e.g. llama-server --port 8080) and that RAG_LLM_BASE_URL is its address."
    )


def server_root(url: str) -> str:
    """The base URL without a trailing /v1: where llama.cpp serves /props and /health."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class OpenAIChat:
    """Chat calls to an OpenAI-compatible server; thread-safe (the client is)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_base_url:  # the settings check this; a guard for direct use
            raise OpenAIServerError("RAG_LLM_BACKEND=openai needs RAG_LLM_BASE_URL")
        self.settings = settings
        self._url: str = settings.llm_base_url
        self.plan: Plan | None = None
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None

    @property
    def url(self) -> str:
        return self._url

    @property
    def client(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    base_url=self.url,
                    # llama.cpp, vLLM and LM Studio ignore the key unless started with one
                    api_key=self.settings.llm_api_key or "no-key",
                    timeout=self.settings.ollama_timeout,
                    max_retries=0,
                )
            return self._client

    # what the server says about itself ----------------------------------------------------
    def _get_json(self, url: str) -> Any:
        import httpx

        headers = {}
        if self.settings.llm_api_key:
            headers["Authorization"] = f"Bearer {self.settings.llm_api_key}"
        try:
            resp = httpx.get(url, timeout=self.settings.probe_timeout, headers=headers)
            resp.raise_for_status()
            return resp.json()
        except (httpx.HTTPError, ValueError):
            return None

    def served_models(self) -> list[str]:
        data = self._get_json(f"{self.url}/models")
        entries = data.get("data") if isinstance(data, dict) else None
        return [str(e["id"]) for e in entries or [] if isinstance(e, dict) and e.get("id")]

    def context_window(self, model: str) -> int:
        """The server's context window for `model` (see the module docstring)."""
        if self.settings.llm_context_window:
            return self.settings.llm_context_window
        props = self._get_json(f"{server_root(self.url)}/props")
        if isinstance(props, dict):
            gen = props.get("default_generation_settings")
            n_ctx = gen.get("n_ctx") if isinstance(gen, dict) else props.get("n_ctx")
            if isinstance(n_ctx, int) and n_ctx > 0:
                return n_ctx
        data = self._get_json(f"{self.url}/models")
        for entry in data.get("data", []) if isinstance(data, dict) else []:
            if not isinstance(entry, dict) or entry.get("id") not in (model, None):
                continue
            for key in ("max_model_len", "context_length", "loaded_context_length"):
                value = entry.get(key)
                if isinstance(value, int) and value > 0:
                    return value
        return DEFAULT_WINDOW

    def counter(self, model: str) -> Callable[[str], int] | None:
        """The server's own token count (llama.cpp's and vLLM's /tokenize), if it has one:
        with it the prompt fills the window exactly, whatever the model's tokenizer."""
        import httpx

        url = f"{server_root(self.url)}/tokenize"
        headers = {}
        if self.settings.llm_api_key:
            headers["Authorization"] = f"Bearer {self.settings.llm_api_key}"
        timeout = self.settings.probe_timeout

        def count(text: str) -> int:
            body = {"content": text, "prompt": text, "model": model, "add_special": False}
            resp = httpx.post(url, json=body, timeout=timeout, headers=headers)
            resp.raise_for_status()
            data = resp.json()
            if isinstance(data.get("count"), int):
                return int(data["count"])
            return len(data["tokens"])

        try:
            count("probe")
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return _guarded(count)

    # generation ----------------------------------------------------------------------------
    def _request(
        self, model: str, messages: Sequence[tuple[str, str]], *, short: bool = False
    ) -> dict[str, Any]:
        answer = self.plan.answer if self.plan is not None else 1024
        if short:  # a rewrite or a condensed question: a few lines, never a page
            answer = min(answer, SHORT_REPLY_TOKENS)
        return {
            "model": model,
            "messages": [{"role": role, "content": content} for role, content in messages],
            "temperature": TEMPERATURE,
            "max_tokens": answer,
        }

    def chat(self, model: str, messages: Sequence[tuple[str, str]], notes: list[str]) -> str:
        with self._errors(model):
            reply = self.client.chat.completions.create(
                **self._request(model, messages, short=True), stream=False
            )
            if not reply.choices:
                raise OpenAIServerError(f"the server at {self.url} returned no reply")
            self._check_usage(model, getattr(reply.usage, "prompt_tokens", None), notes)
            return str(reply.choices[0].message.content or "")

    def stream(
        self, model: str, messages: Sequence[tuple[str, str]], notes: list[str]
    ) -> Iterator[str]:
        with self._errors(model):
            chunks = self.client.chat.completions.create(
                **self._request(model, messages),
                stream=True,
                stream_options={"include_usage": True},
            )
            finished = False
            prompt_tokens: int | None = None
            try:
                for chunk in chunks:
                    if chunk.usage is not None:
                        prompt_tokens = chunk.usage.prompt_tokens
                    for choice in chunk.choices:
                        if choice.delta is not None and choice.delta.content:
                            yield choice.delta.content
                        if choice.finish_reason:
                            finished = True
            except LLMError:
                raise
            except Exception as exc:
                import openai

                if isinstance(exc, openai.APIStatusError | openai.APITimeoutError):
                    raise
                raise OpenAIServerError(
                    f"the connection to {self.url} was cut: {type(exc).__name__}: "
                    f"{one_line(str(exc))}"
                ) from None
            finally:
                with contextlib.suppress(Exception):
                    chunks.close()
            if not finished:
                raise OpenAIServerError(
                    f"the connection to {self.url} was cut: the stream ended without "
                    "finishing its reply"
                )
            self._check_usage(model, prompt_tokens, notes)

    def _check_usage(self, model: str, prompt_tokens: int | None, notes: list[str]) -> None:
        """A warning when the server counted a prompt that fills its whole window (a
        server that truncates instead of refusing, as Ollama's /v1 does)."""
        from rag.llm import truncation_warning

        window = self.plan.window if self.plan is not None else None
        if window and isinstance(prompt_tokens, int) and prompt_tokens >= window - 4:
            notes.append(truncation_warning(model, self.url, prompt_tokens, window))

    @contextlib.contextmanager
    def _errors(self, model: str) -> Iterator[None]:
        """Whatever the client raises, as one OpenAIServerError line."""
        import openai

        url = self.url
        try:
            yield
        except LLMError:
            raise
        except openai.APITimeoutError:
            raise OpenAIServerError(
                f"the OpenAI-compatible server at {url} did not answer in time; "
                "raise RAG_OLLAMA_TIMEOUT or use a smaller model"
            ) from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__
            if cause is None or "connect" in type(cause).__name__.lower():
                raise OpenAIUnavailableError(unavailable_message(url)) from None
            # reached, then dropped: the server went away while answering
            raise OpenAIServerError(
                f"the connection to {url} was cut: {type(cause).__name__}: {one_line(str(cause))}"
            ) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            text = one_line(_error_text(exc))
            lowered = text.lower()
            if status == 404 and "model" in lowered:
                raise OpenAIModelNotFoundError(model, url, self.served_models()) from None
            if status == 404:
                raise OpenAIServerError(
                    f"{url} answered HTTP 404 ({text}): check RAG_LLM_BASE_URL "
                    "(an OpenAI-compatible URL usually ends in /v1)"
                ) from None
            if status in (401, 403):
                raise OpenAIServerError(
                    f"{url} refused the request (HTTP {status}: {text}): set RAG_LLM_API_KEY "
                    "to the server's key"
                ) from None
            if status == 400 and "context" in lowered:
                raise OpenAIServerError(
                    f"the prompt does not fit the context window of {model} at {url} ({text}): "
                    "lower RAG_CONTEXT_TOKENS or set RAG_LLM_CONTEXT_WINDOW to the server's window"
                ) from None
            raise OpenAIServerError(f"{url} answered HTTP {status}: {text}") from None
        except openai.APIError as exc:  # an error event inside a stream
            raise OpenAIServerError(
                f"the server at {url} stopped with an error: {one_line(_error_text(exc))}"
            ) from None
        except Exception as exc:
            raise OpenAIServerError(
                f"generation with {model} at {url} failed: {type(exc).__name__}: "
                f"{one_line(str(exc))}"
            ) from exc


def _error_text(exc: Any) -> str:
    """The server's own words: the `error.message` of a JSON body, else the raw body."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if body.get("message"):
            return str(body["message"])
    response = getattr(exc, "response", None)
    if response is not None:
        with contextlib.suppress(Exception):
            return str(response.text)
    return str(getattr(exc, "message", exc))


def _guarded(count: Callable[[str], int]) -> Callable[[str], int]:
    """`count`, with a failure mid-way (the server went away) as an OpenAIServerError."""

    def guarded(text: str) -> int:
        try:
            return count(text)
        except Exception as exc:
            raise OpenAIServerError(
                f"counting tokens at the OpenAI-compatible server failed: {type(exc).__name__}"
            ) from None

    return guarded
