"""Generation with a language model, streamed: prompts, and the `Generator` that talks to
the configured server: Ollama (`OllamaChat`, through llama-index's Ollama LLM) or an
OpenAI-compatible server (`rag.llm_openai.OpenAIChat`, RAG_LLM_BACKEND=openai).

llama-index is imported here, lazily, on the first model call: its import costs about
1.8 s, which the model-free path (`rag ask --no-llm`, an unreachable Ollama) never pays.
Its global `Settings.llm` and `Settings.embed_model` are set explicitly the first time,
so nothing in llama-index can fall back to OpenAI.

Every call runs inside `core.ollama_api.translate_errors`, so a missing model, a refused
connection, a timeout, an HTTP 500 or a cut stream surfaces as one `OllamaError` with a
message a user can act on (`model X is not available in Ollama at HOST: run "ollama
pull X"`).

Prompts are files in `prompts/`; values are substituted in one pass (`fill`), so text
inside a passage or a question can never inject another placeholder.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import ConfigError, OllamaError
from core.ollama_api import one_line, translate_errors
from core.settings import Settings
from rag.schema import Passage, Turn
from rag.think import ThinkFilter, strip_think

if TYPE_CHECKING:
    from llama_index.llms.ollama import Ollama

    from rag.budget import Plan

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
TEMPERATURE = 0.1
HISTORY_TURNS = 4  # turns of a conversation shown when condensing a follow-up
HISTORY_ANSWER_CHARS = 600

LANGUAGE_NAMES = {
    "en": "English",
    "id": "Indonesian",
    "ms": "Malay",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "ar": "Arabic",
    "hi": "Hindi",
    "vi": "Vietnamese",
    "th": "Thai",
    "tr": "Turkish",
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TAG = re.compile(r"<\s*/?\s*(passages?|query|conversation|follow_up)\b[^>]*>", re.IGNORECASE)


def language_name(code: str) -> str:
    if code in ("", "und"):
        return "the language the question is written in"
    return LANGUAGE_NAMES.get(code, code)


@functools.cache
def prompt(name: str) -> str:
    """The template `prompts/<name>.txt`."""
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"prompt template {path} cannot be read: {exc.strerror}") from None


def fill(template: str, **values: str) -> str:
    """Substitute {name} placeholders in one pass (inserted text is not re-scanned)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def neutralise(text: str) -> str:
    """Defuse delimiter tags inside data so a document cannot close its <passage>."""
    return _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def format_passages(passages: Sequence[Passage]) -> str:
    blocks = []
    for p in passages:
        title = neutralise(p.title).replace('"', "'")
        source = neutralise(p.source).replace('"', "'")  # a file name may hold quotes
        blocks.append(
            f'<passage n="{p.n}" source="{source}" title="{title}" '
            f'lang="{p.lang}">\n{neutralise(p.text)}\n</passage>'
        )
    return "\n\n".join(blocks)


def answer_messages(
    question: str, passages: Sequence[Passage], question_language: str
) -> list[tuple[str, str]]:
    system = fill(prompt("system"), question_language=language_name(question_language))
    user = fill(prompt("answer"), passages=format_passages(passages), question=neutralise(question))
    return [("system", system), ("user", user)]


def rewrite_messages(question: str, languages: Sequence[str]) -> list[tuple[str, str]]:
    names = ", ".join(f"{language_name(code)} ({code})" for code in languages)
    return [("user", fill(prompt("rewrite"), languages=names, question=neutralise(question)))]


def condense_messages(question: str, history: Sequence[Turn]) -> list[tuple[str, str]]:
    lines = []
    for turn in list(history)[-HISTORY_TURNS:]:
        answer = turn.answer.strip()
        if len(answer) > HISTORY_ANSWER_CHARS:
            answer = answer[:HISTORY_ANSWER_CHARS] + "…"
        lines.append(f"User: {neutralise(turn.question.strip())}")
        lines.append(f"Assistant: {neutralise(answer)}")
    return [
        (
            "user",
            fill(prompt("condense"), history="\n".join(lines), question=neutralise(question)),
        )
    ]


_REWRITE_LINE = re.compile(r"^\s*[-*`]*\s*\(?([a-z]{2,3})\)?[*`]*\s*[:：]\s*(.+?)\s*`?\s*$")


def parse_rewrites(text: str, languages: Sequence[str]) -> dict[str, str]:
    """`code: query` lines of a rewrite reply, for the languages asked for."""
    wanted = set(languages)
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _REWRITE_LINE.match(line)
        if m and m.group(1) in wanted and m.group(2).strip():
            out.setdefault(m.group(1), m.group(2).strip().strip('"“”'))
    return out


def clean_condensed(text: str) -> str:
    """The first non-empty line of a condensing reply, without reasoning, a label or quotes."""
    for line in strip_think(text).strip().splitlines():
        line = line.strip()
        line = re.sub(r"^(standalone question|question)\s*[:：]\s*", "", line, flags=re.I)
        line = line.strip().strip('"“”')
        if line:
            return line
    return ""


_configured = threading.Lock()
_configured_done = False


def _configure_llama_index(settings: Settings, llm: Any) -> None:
    """Set llama-index's globals once, explicitly: never the OpenAI defaults."""
    global _configured_done
    with _configured:
        if _configured_done:
            return
        from llama_index.core import Settings as LlamaSettings
        from llama_index.embeddings.ollama import OllamaEmbedding

        LlamaSettings.llm = llm
        LlamaSettings.embed_model = OllamaEmbedding(
            model_name=settings.embed_model,
            base_url=settings.ollama_host,
            keep_alive=settings.ollama_keep_alive,
        )
        _configured_done = True


def truncation_warning(model: str, url: str, counted: int, window: int) -> str:
    return (
        f"the prompt was cut to fit the context window of {model} at {url} "
        f"({counted} of {window} tokens evaluated): passages or instructions were dropped; "
        "lower RAG_CONTEXT_TOKENS or RAG_TOP_K, or raise RAG_LLM_CONTEXT_WINDOW"
    )


class OllamaChat:
    """Chat calls to Ollama through llama-index's Ollama LLM; one object per model.

    Every request sends `think: false` (Ollama turns thinking on by default for models
    that support it, and its tokens would eat the context and the timeout), the run's fixed
    `num_ctx` (budget.plan: a changed num_ctx reloads the model), `num_predict` (room for
    the answer) and keep_alive as Ollama parses it (a number when it is one).
    """

    def __init__(self, settings: Settings, the_plan: Plan) -> None:
        self.settings = settings
        self.plan = the_plan
        self._lock = threading.Lock()
        self._llms: dict[str, Ollama] = {}

    @property
    def url(self) -> str:
        return self.settings.ollama_host

    def llm(self, model: str) -> Ollama:
        with self._lock:
            llm = self._llms.get(model)
            if llm is None:
                from core.offline import configure_offline

                configure_offline()
                from llama_index.llms.ollama import Ollama

                llm = Ollama(
                    model=model,
                    base_url=self.settings.ollama_host,
                    temperature=TEMPERATURE,
                    # given, so llama-index does not ask /api/show for it on every instance
                    context_window=self.plan.window,
                    request_timeout=self.settings.ollama_timeout,
                    keep_alive=self.settings.ollama_keep_alive,
                    thinking=False,
                    additional_kwargs={"num_predict": self.plan.answer},
                )
                _configure_llama_index(self.settings, llm)
                self._llms[model] = llm
            return llm

    def chat(self, model: str, messages: Sequence[tuple[str, str]], notes: list[str]) -> str:
        with self._errors(model):
            response = self.llm(model).chat(_messages(messages))
            self._check_cut(model, response.raw, messages, notes)
            return str(response.message.content or "")

    def stream(
        self, model: str, messages: Sequence[tuple[str, str]], notes: list[str]
    ) -> Iterator[str]:
        with self._errors(model):
            last: Any = None
            for chunk in self.llm(model).stream_chat(_messages(messages)):
                last = chunk.raw
                if chunk.delta:
                    yield chunk.delta
            self._check_cut(model, last, messages, notes)

    def _check_cut(
        self, model: str, raw: Any, messages: Sequence[tuple[str, str]], notes: list[str]
    ) -> None:
        """A one-line warning when the final chunk's prompt_eval_count shows a cut."""
        from rag.budget import prompt_tokens, was_truncated

        counted = raw.get("prompt_eval_count") if isinstance(raw, dict) else None
        if isinstance(counted, int) and was_truncated(
            counted, self.plan.window, prompt_tokens(messages)
        ):
            notes.append(truncation_warning(model, self.url, counted, self.plan.window))

    @contextlib.contextmanager
    def _errors(self, model: str) -> Iterator[None]:
        """Transport errors as `translate_errors` words them; anything else the client
        stack raises (a malformed reply, a library bug) as an OllamaError too, so that a
        question always gets the model-free answer instead of a crash."""
        try:
            with translate_errors(self.url, model):
                yield
        except OllamaError:
            raise
        except Exception as exc:
            raise OllamaError(
                f"generation with {model} at {self.url} failed: {type(exc).__name__}: "
                f"{one_line(str(exc))}"
            ) from exc


def _messages(messages: Sequence[tuple[str, str]]) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=role, content=content) for role, content in messages]


_UNSET = object()


class Backend(Protocol):
    @property
    def url(self) -> str: ...

    def chat(self, model: str, messages: Sequence[tuple[str, str]], notes: list[str]) -> str: ...

    def stream(
        self, model: str, messages: Sequence[tuple[str, str]], notes: list[str]
    ) -> Iterator[str]: ...


class Generator:
    """Chat calls to the configured server (RAG_LLM_BACKEND), shared by threads.

    Reasoning text (`<think>…</think>`) is removed from every reply, streamed or not.
    `notes` collects one-line warnings (a prompt the server cut) for the caller to show.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._backend: Backend | None = None
        self._plan: Plan | None = None
        self._counter: object = _UNSET

    @property
    def host(self) -> str:
        """The URL of the server that runs the model."""
        if self.settings.llm_backend == "openai":
            return self.settings.llm_base_url or ""
        return self.settings.ollama_host

    def plan(self) -> Plan:
        """The run's token plan (with an OpenAI-compatible server: its context window,
        asked once)."""
        self.backend()
        assert self._plan is not None
        return self._plan

    def counter(self) -> Callable[[str], int] | None:
        """The server's own token counter, when it serves one (asked once)."""
        self.backend()
        with self._lock:
            if self._counter is _UNSET:
                chat = self._backend
                counter = getattr(chat, "counter", None)
                self._counter = counter(self.settings.llm_model) if callable(counter) else None
            return self._counter  # type: ignore[return-value]

    def backend(self) -> Backend:
        with self._lock:
            if self._backend is None:
                from rag.budget import plan

                backend: Backend
                if self.settings.llm_backend == "openai":
                    from rag.llm_openai import OpenAIChat

                    chat = OpenAIChat(self.settings)
                    self._plan = plan(self.settings, chat.context_window(self.settings.llm_model))
                    chat.plan = self._plan
                    backend = chat
                else:
                    self._plan = plan(self.settings)
                    backend = OllamaChat(self.settings, self._plan)
                self._backend = backend
            return self._backend

    def chat(
        self, model: str, messages: Sequence[tuple[str, str]], notes: list[str] | None = None
    ) -> str:
        """One non-streamed reply (query rewriting, follow-up condensing)."""
        return strip_think(self.backend().chat(model, messages, [] if notes is None else notes))

    def stream(
        self, model: str, messages: Sequence[tuple[str, str]], notes: list[str] | None = None
    ) -> Iterator[str]:
        """The reply's text deltas, in order, as the server streams them."""
        think = ThinkFilter()
        for delta in self.backend().stream(model, messages, [] if notes is None else notes):
            visible = think.feed(delta)
            if visible:
                yield visible
        rest = think.flush()
        if rest:
            yield rest
