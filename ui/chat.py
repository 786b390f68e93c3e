"""The chat's backend, free of Gradio: one conversation turn as it streams in, and the
backend that answers questions (thread-safe: the web server calls it from many threads)
and finds a cited passage inside its document.

The app (ui/app.py) turns these into HTML with ui/render.py; tests drive this module
directly, the same way the page does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from core.errors import RagError
from core.settings import Settings
from index.catalog import Catalog
from rag.schema import DoneEvent, Passage, Quote, SourcesEvent, TokenEvent, Turn, too_long


def file_name(source: str) -> str:
    """What the user sees of a source path: its file name, never the folders it sits in
    (an upload lives in the data directory, an internal path)."""
    return PurePath(source.replace("\\", "/")).name or source


if TYPE_CHECKING:
    from rag.answer import Answerer


@dataclass
class ChatTurn:
    """One question and its answer, filled in as the answer streams."""

    question: str
    text: str = ""  # the answer so far; once done, the checked answer
    passages: list[Passage] = field(default_factory=list)
    mode: str | None = None  # "llm" | "extractive" | "abstain"
    model: str | None = None
    notice: str | None = None
    cited: set[int] = field(default_factory=set)
    unsupported: list[str] = field(default_factory=list)
    invalid_markers: list[str] = field(default_factory=list)
    standalone_question: str | None = None
    error: str | None = None
    done: bool = False
    quotes: list[Quote] = field(default_factory=list)  # the quoted sentences, exact spans
    value: str | None = None  # the number, name or date a model-free answer leads with

    def passage(self, n: int) -> Passage | None:
        return next((p for p in self.passages if p.n == n), None)

    def quotes_in(self, n: int) -> list[Quote]:
        """The sentences this answer quotes from passage [n]."""
        return [q for q in self.quotes if q.n == n]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, for keeping the conversation in the browser across reloads."""
        out = asdict(self)
        out["cited"] = sorted(self.cited)
        return out

    @classmethod
    def from_json(cls, data: Any) -> ChatTurn | None:
        """The turn `to_json` wrote, or None for anything else (an old or edited copy)."""
        if not isinstance(data, dict) or not isinstance(data.get("question"), str):
            return None
        try:
            fields = dict(data)
            fields["passages"] = [Passage(**p) for p in data.get("passages") or []]
            fields["quotes"] = [Quote(**q) for q in data.get("quotes") or []]
            fields["cited"] = {int(n) for n in data.get("cited") or []}
            turn = cls(**fields)
        except (TypeError, ValueError):
            return None
        if not turn.done:  # a reload cut this answer short
            turn.done, turn.error = (
                True,
                turn.error or "the page was reloaded before this answer finished",
            )
        return turn


def turns_to_json(turns: Sequence[ChatTurn]) -> list[dict[str, Any]]:
    return [t.to_json() for t in turns if t.done]


def turns_from_json(data: Any) -> list[ChatTurn]:
    if not isinstance(data, list):
        return []
    return [t for t in (ChatTurn.from_json(d) for d in data) if t is not None]


@dataclass(frozen=True)
class DocumentView:
    """A cited passage located inside its document's extracted text."""

    passage: Passage
    text: str  # the document text (possibly a window of it, see `offset`)
    start: int  # the cited span, relative to `text`
    end: int
    offset: int = 0  # where `text` starts in the full document
    total: int = 0  # length of the full document
    note: str | None = None  # e.g. the document changed since the answer
    quotes: tuple[tuple[int, int], ...] = ()  # quoted sentences inside the span, relative


def history_of(turns: Sequence[ChatTurn]) -> list[Turn]:
    """The finished exchanges of a conversation, for follow-up condensing."""
    return [Turn(t.question, t.text) for t in turns if t.done and not t.error and t.text]


class ChatBackend:
    """Answers questions for every browser session of one server.

    One Answerer serves all sessions (it is thread-safe) and notices index changes by
    itself (an upload or a delete from the Documents tab, or `rag ingest` in another
    process, bumps the catalog's generation and retrieval reloads), so new documents are
    searchable without a restart.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._answerer: Answerer | None = None

    def answerer(self) -> Answerer:
        from rag.answer import Answerer

        with self._lock:
            if self._answerer is None:
                self._answerer = Answerer(self.settings)
            return self._answerer

    def close(self) -> None:
        with self._lock:
            if self._answerer is not None:
                self._answerer.close()
                self._answerer = None

    def ask(
        self,
        question: str,
        history: Sequence[ChatTurn] = (),
        *,
        model: str | None = None,
        no_llm: bool = False,
        min_interval: float = 0.0,
    ) -> Iterator[ChatTurn]:
        """Stream one turn: yields the same ChatTurn at once, after the sources arrive,
        after tokens (at most every `min_interval` seconds), and once more when it is
        done. Errors end the turn with `error` set; they are never raised."""
        turn = ChatTurn(question=question)
        question = question.strip()
        if not question:
            turn.error = "type a question first"
            turn.done = True
            yield turn
            return
        refused = too_long(question)  # (said as the command line says it)
        if refused:
            turn.error = refused
            turn.done = True
            yield turn
            return
        yield turn  # shown at once ("searching…") while retrieval runs
        last = 0.0
        try:
            events = self.answerer().stream(
                question, history=history_of(history), model=model or None, no_llm=no_llm
            )
            for event in events:
                if isinstance(event, SourcesEvent):
                    turn.passages = list(event.passages)
                    turn.mode = event.mode
                    turn.model = event.model
                    turn.notice = event.notice
                    yield turn
                elif isinstance(event, TokenEvent):
                    turn.text += event.text
                    now = time.monotonic()
                    if now - last >= min_interval:
                        last = now
                        yield turn
                elif isinstance(event, DoneEvent):
                    answer = event.answer
                    turn.text = answer.answer
                    turn.passages = list(answer.passages) or turn.passages
                    turn.mode = answer.mode
                    turn.model = answer.model
                    turn.notice = answer.notice
                    turn.cited = set(answer.cited)
                    turn.unsupported = list(answer.unsupported)
                    turn.invalid_markers = list(answer.invalid_markers)
                    turn.standalone_question = answer.standalone_question
                    turn.quotes = list(answer.quotes)
                    turn.value = answer.value
        except RagError as exc:
            turn.error = str(exc)
        turn.done = True
        yield turn

    def document_view(
        self, passage: Passage, quotes: Sequence[Quote] = (), *, window: int = 40_000
    ) -> DocumentView:
        """The passage inside its document, windowed around the span for huge documents,
        with the sentences the answer quotes from it located inside the span.

        Raises RagError when the document is no longer in the index."""
        if not self.settings.catalog_path.exists():
            raise RagError("the index is empty: the document is gone")
        catalog = Catalog(self.settings.catalog_path)
        try:
            full = catalog.document_text(passage.doc_id)
        except KeyError:
            raise RagError(
                f"{file_name(passage.source)} is no longer in the index (deleted or re-ingested)"
            ) from None
        finally:
            catalog.close()
        start, end, note = passage.start, passage.end, None
        if full[start:end] != passage.text:
            found = full.find(passage.text) if passage.text else -1
            if found < 0:
                raise RagError(f"{file_name(passage.source)} changed since this answer; ask again")
            start, end = found, found + len(passage.text)
            note = "the document was re-ingested since this answer; the span was found again"
        shift = start - passage.start  # non-zero when the document was re-ingested
        spans: list[tuple[int, int]] = []
        for q in quotes:
            a, b = q.start + shift, q.end + shift
            if not (start <= a < b <= end and full[a:b] == q.text):
                found = full.find(q.text, start, end) if q.text else -1
                if found < 0:
                    continue
                a, b = found, found + len(q.text)
            spans.append((a, b))
        offset = 0
        text = full
        if len(full) > window:
            offset = max(0, min(start - window // 2, len(full) - window))
            offset = min(offset, start)
            text = full[offset : max(offset + window, end)]
        return DocumentView(
            passage=passage,
            text=text,
            start=start - offset,
            end=end - offset,
            offset=offset,
            total=len(full),
            note=note,
            quotes=tuple(sorted((a - offset, b - offset) for a, b in set(spans))),
        )
