"""The shapes that cross module boundaries: retrieved passages, answers, and the typed
events an answer is streamed as (sources first, then tokens, then the finished answer).

The CLI (`rag ask --json`), the evaluation harness and the Gradio UI all consume these;
`Answer.as_json()` is the documented JSON answer format (fields may be added, never
renamed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

AnswerMode = Literal["llm", "extractive", "abstain"]


# a question, not a document: longer ones are refused before any work (a pasted
# 360,000-character document took four minutes to answer); the page and the command line
# say so alike
MAX_QUESTION_CHARS = 4000


def too_long(question: str) -> str | None:
    """Why `question` is refused for its length (None: it is not too long)."""
    if len(question) <= MAX_QUESTION_CHARS:
        return None
    return (
        f"the question is {len(question):,} characters long; ask in at most "
        f"{MAX_QUESTION_CHARS:,} (to ask about a long text, add it to the documents)"
    )


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk, numbered by rank (`n` starts at 1: the answer's [n])."""

    n: int
    chunk_id: str
    doc_id: str
    source: str  # the path as ingested
    title: str
    lang: str
    start: int  # character offsets into the document's extracted text
    end: int
    text: str  # == document text[start:end]
    score: float
    page: int | None = None

    def as_json(self, *, cited: bool) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "source": self.source,
            "title": self.title,
            "lang": self.lang,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(self.score, 6),
            "cited": cited,
        }


ATTRIBUTION = "attribution"  # `Quote.role` of the sentence naming who said the quoted one
PART = "part"  # `Quote.role` of the answer to a later part of a question asking several


@dataclass(frozen=True)
class Quote:
    """One quoted sentence: its exact span in the document (`text == document
    text[start:end]`, inside passage `n`), so a citation highlights the sentence itself.

    `page`: the page of the sentence itself in a PDF (`Catalog.page_of` its start), not
    the page its chunk starts on. `value`: the number, name
    or date the answer pulled out of this sentence, if any. `role`: ATTRIBUTION for
    the sentence that names who said the quoted one (shown as "Said by:"), PART for the
    best sentence of a question's second or third part (`rag.compound`), else None."""

    n: int
    doc_id: str
    start: int
    end: int
    text: str
    page: int | None = None
    value: str | None = None
    role: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "page": self.page,
            "value": self.value,
            "role": self.role,
        }


@dataclass
class Answer:
    """A finished answer. `passages` are every passage given as context, in rank order."""

    question: str
    answer: str
    mode: AnswerMode
    model: str | None
    passages: list[Passage]
    cited: set[int] = field(default_factory=set)  # the n of passages the answer cites
    unsupported: list[str] = field(default_factory=list)  # answer sentences not backed
    invalid_markers: list[str] = field(default_factory=list)  # markers removed (no passage)
    notice: str | None = None  # e.g. why no language model was used
    # retrieve, generate, total; first_token (since the question) when a model streamed
    timings_ms: dict[str, float] = field(default_factory=dict)
    id: str | None = None
    standalone_question: str | None = None  # a follow-up, condensed with the history
    quotes: list[Quote] = field(default_factory=list)  # the cited sentences, exact spans
    value: str | None = None  # the number, name or date a model-free answer leads with

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out.update(
            {
                "question": self.question,
                "answer": self.answer,
                "mode": self.mode,
                "model": self.model,
                "citations": [p.as_json(cited=p.n in self.cited) for p in self.passages],
                "unsupported": list(self.unsupported),
                "invalid_markers": list(self.invalid_markers),
                "notice": self.notice,
                "standalone_question": self.standalone_question,
                "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
                "quotes": [q.as_json() for q in self.quotes],
                "value": self.value,
            }
        )
        return out


# Streamed events ------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcesEvent:
    """Sent first: the numbered passages the answer will cite."""

    passages: Sequence[Passage]
    mode: AnswerMode
    model: str | None
    notice: str | None = None
    # a follow-up as searched for ("What about Meta?" -> "Who is the CEO of Meta?")
    standalone_question: str | None = None


@dataclass(frozen=True)
class TokenEvent:
    """A piece of answer text, in order; their concatenation is the raw answer."""

    text: str


@dataclass(frozen=True)
class DoneEvent:
    """Sent last: the checked answer (markers validated, unsupported sentences listed)."""

    answer: Answer


Event = SourcesEvent | TokenEvent | DoneEvent


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, for follow-up condensing."""

    question: str
    answer: str
