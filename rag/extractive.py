"""The model-free answer: the most relevant sentences of the top passages, quoted
verbatim with their [n], preferring sentences that hold what the question asks for (a
number for "how many", a name for "who", a date for "when").

Scoring a sentence: the idf-weighted share of the question's terms it contains (the same
tokenizer as retrieval, so numbers and names match across languages), plus a bonus when
it holds the kind of thing asked for and that thing is not already in the question, plus
a small prior for the passage's rank. Sentences are picked best first, at most two per
document, so that each source that answers gets quoted (the Indonesian and the Chinese
article both state the H100 figure).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from index.chunker import sentence_spans
from index.lexical import tokenize
from index.textnorm import fold, numbers_in
from rag.schema import Passage

AnswerType = Literal["number", "name", "date", "other"]

MAX_SENTENCES = 5
PER_DOCUMENT = 4  # after one per document: a single answering source may give several
LABEL_CHARS = 80  # a line this short ending in ":" introduces the next sentence
MAX_PASSAGES = 6  # sentences come from the top passages only
MAX_QUOTE_CHARS = 600  # a longer "sentence" (no punctuation) is cut, with an ellipsis
RELATIVE_FLOOR = 0.5  # keep sentences scoring at least this share of the best one
DIVERSE_FLOOR = 0.85  # ... and quote each document once whose best is this close
TYPE_BONUS = 0.35
RANK_PRIOR = 0.2
NEAR_MISS_EXTRA = 3  # letters a word may add to a question term and still half-match

_TYPE_PATTERNS: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        "date",
        re.compile(
            r"\bwhen\b|\bwhat year\b|\bwhich year\b|\bwhat date\b|\bkapan\b|tahun berapa|"
            r"\bpada tahun\b.*\?|何时|什么时候|哪一年|哪年|几年|哪一天",
            re.IGNORECASE,
        ),
    ),
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|big|large|long|old)\b|\bwhat (?:percentage|share|size)\b|"
            r"\bberapa\b|\bjumlah\b|多少|几|多大|多长|百分之",
            re.IGNORECASE,
        ),
    ),
    (
        "name",
        re.compile(
            r"\bwho(?:m|se)?\b|\bwhich (?:company|person|ceo|model|framework|app|city|maker)\b|"
            r"\bsiapa\b|\bperusahaan apa\b|谁|哪位|哪家|哪个公司|什么公司|哪个城市",
            re.IGNORECASE,
        ),
    ),
]
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)|\d{1,4}\s*年")
_MONTHS = re.compile(
    r"\b(?:jan(?:uary|uari)?|feb(?:ruary|ruari)?|mar(?:ch|et)?|apr(?:il)?|may|mei|"
    r"june?|juni|july?|juli|aug(?:ust)?|agustus|sep(?:tember)?|oct(?:ober)?|okt(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|des(?:ember)?)\b|\d{1,2}\s*月",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<![\w])[A-Z][\w'’.-]*[A-Za-z0-9]")


def answer_type(question: str) -> AnswerType:
    """What the question asks for, from its question words (English, Indonesian, Chinese)."""
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return kind
    return "other"


def _has_type(sentence: str, kind: AnswerType, question: str) -> bool:
    if kind == "number":
        return bool(numbers_in(sentence) - numbers_in(question))
    if kind == "date":
        years = {m.group(0) for m in _YEAR.finditer(sentence)}
        asked = {m.group(0) for m in _YEAR.finditer(question)}
        return bool(years - asked) or bool(_MONTHS.search(sentence))
    if kind == "name":
        folded = fold(question)
        return any(
            fold(m.group(0)) not in folded
            for m in _CAPITALISED.finditer(sentence)
            if m.start() > 0  # not the capital every sentence starts with
        )
    return False


def _credit(term: str, have: set[str], near: Sequence[str] = ()) -> float:
    """1 for a term the sentence holds; half for a near miss: a cognate the retriever
    found (`near`: context ~ konteks) or a longer word that starts with the term (an
    Indonesian suffix, a typo such as "Metal" for "Meta"); else 0."""
    if term in have:
        return 1.0
    if any(other in have for other in near):
        return 0.5
    if len(term) >= 4 and term.isascii():
        for word in have:
            if word.startswith(term) and len(word) - len(term) <= NEAR_MISS_EXTRA:
                return 0.5
    return 0.0


def _units(text: str) -> list[tuple[int, int]]:
    """Sentence spans, a short label line ending in ":" ("Martin Casado, a16z:") joined
    to the sentence after it, so a quote keeps its speaker."""
    spans = sentence_spans(text)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        a, b = spans[i]
        if text[b - 1] in ":：" and b - a <= LABEL_CHARS and i + 1 < len(spans):
            b = spans[i + 1][1]
            i += 1
        out.append((a, b))
        i += 1
    return out


@dataclass(frozen=True)
class Quote:
    n: int  # the passage it comes from
    doc_id: str
    start: int  # offsets into the passage's document text
    end: int
    text: str
    score: float


def score_sentences(
    question: str,
    passages: Sequence[Passage],
    weights: Mapping[str, float] | None = None,
    near: Mapping[str, Sequence[str]] | None = None,
) -> list[Quote]:
    """Every sentence of the top passages with its score, best first. `weights`: idf of
    the question's terms; `near`: index terms resembling question terms it lacks."""
    near = near or {}
    terms = list(dict.fromkeys(tokenize(question)))
    w = {t: (weights or {}).get(t, 1.0) for t in terms}
    total = sum(w.values())
    kind = answer_type(question)
    quotes: list[Quote] = []
    for rank, p in enumerate(passages[:MAX_PASSAGES]):
        for a, b in _units(p.text):
            text = p.text[a:b]
            if len(text) < 12 or not any(c.isalnum() for c in text):
                continue
            have = set(tokenize(text))
            got = sum(v * _credit(t, have, near.get(t, ())) for t, v in w.items())
            share = got / total if total else 0.0
            if share <= 0.0:
                continue
            score = share + RANK_PRIOR / (rank + 1)
            if kind != "other" and _has_type(text, kind, question):
                score += TYPE_BONUS
            text = " ".join(text.split())  # verbatim up to whitespace (line breaks)
            if len(text) > MAX_QUOTE_CHARS:
                cut = text.rfind(" ", 0, MAX_QUOTE_CHARS)
                text = text[: cut if cut > MAX_QUOTE_CHARS // 2 else MAX_QUOTE_CHARS] + "…"
            quotes.append(Quote(p.n, p.doc_id, p.start + a, p.start + b, text, score))
    quotes.sort(key=lambda q: (-q.score, q.n, q.start))
    return quotes


def select(quotes: Sequence[Quote]) -> list[Quote]:
    """The best sentences: within RELATIVE_FLOOR of the best, at most PER_DOCUMENT per
    document, in score order; first one per document among those close to the best, so
    every source that answers is heard before a second sentence of the same one."""
    if not quotes:
        return []
    floor = quotes[0].score * RELATIVE_FLOOR
    good = [q for q in quotes if q.score >= floor]
    chosen: list[Quote] = []
    per_doc: dict[str, int] = {}
    near_best = [q for q in good if q.score >= quotes[0].score * DIVERSE_FLOOR]
    for limit, pool in ((1, near_best), (PER_DOCUMENT, good)):
        for q in pool:
            if len(chosen) >= MAX_SENTENCES:
                break
            if q in chosen or per_doc.get(q.doc_id, 0) >= limit:
                continue
            chosen.append(q)
            per_doc[q.doc_id] = per_doc.get(q.doc_id, 0) + 1
    chosen.sort(key=lambda q: (-q.score, q.n, q.start))
    return chosen


def enable_hint(model: str) -> str:
    return (
        f'To get a written answer, install Ollama, run "ollama pull {model}" and ask again '
        "(README: Using a local model)."
    )


def compose(question: str, quotes: Sequence[Quote], reason: str, model: str) -> str:
    """The extractive answer text: a plain statement that no model was used, the quotes
    with their [n], and how to enable a model."""
    head = f"No language model was used ({reason})."
    if not quotes:
        return f"{head} No sentence of the retrieved passages matches the question.\n\n" + (
            enable_hint(model)
        )
    lines = [f"{head} The most relevant sentences of the sources, quoted verbatim:", ""]
    lines += [f"- “{q.text}” [{q.n}]" for q in quotes]
    lines += ["", enable_hint(model)]
    return "\n".join(lines)


def extract(
    question: str,
    passages: Sequence[Passage],
    *,
    reason: str,
    model: str,
    weights: Mapping[str, float] | None = None,
    near: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, set[int]]:
    """The extractive answer for `question` and the passage numbers it cites."""
    quotes = select(score_sentences(question, passages, weights, near))
    return compose(question, quotes, reason, model), {q.n for q in quotes}
