"""Questions that ask two things at once: "How many H100s will Meta have by the end of
the year, and on how many was the biggest Llama trained?"

A model answers both parts from the passages itself. The model-free answer quotes one
sentence, so such a question got one part answered: here it is split into its parts,
each part is searched for as well, and each gets its own best sentence and value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.extractive import SAID_BY, Extraction, shown
from rag.schema import PART, Passage, Quote

NOT_FOUND = "no sentence of the retrieved passages answers this part."

_ASKS = (
    r"(?:how|what|who|whom|whose|when|which|where|why|berapa|apa|siapa|kapan|mana|"
    r"bagaimana|mengapa)\b"
)
_PREPOSITION = r"(?:on|in|at|for|by|to|from|with|of|pada|di|dalam|untuk|dengan|dari|sejak)\s+"
# "..., and on how many ...", "... dan berapa ...": a second question joined by "and"
_JOIN = re.compile(
    rf"(?:\s*[,;]\s*|\s+)(?:and|dan|serta)\s+(?=(?:{_PREPOSITION})?{_ASKS})", re.IGNORECASE
)
_NEXT_QUESTION = re.compile(r"[?？]\s*")  # "How many ...? And who ...?"
_HAN_ASKS = re.compile(r"多少|什么|谁|哪|几|何时|怎么|为什么|是否")
_HAN_JOIN = re.compile(r"[，,；;]\s*(?:以及|并且|还有|而且|和)?")
MAX_PARTS = 3
MIN_PART_CHARS = 12  # a part shorter than this is no question of its own


def _asks(text: str) -> bool:
    return bool(re.search(rf"\b{_ASKS}", text, re.IGNORECASE) or _HAN_ASKS.search(text))


def split_question(question: str) -> list[str]:
    """The parts of a question that asks several things, each ending in "?"; a question
    asking one thing is its only part."""
    text = question.strip()
    pieces = [p for p in _NEXT_QUESTION.split(text) if p.strip()]
    parts: list[str] = []
    for piece in pieces:
        sub = _JOIN.split(piece)
        if len(sub) == 1 and _HAN_ASKS.search(piece):
            han = _HAN_JOIN.split(piece)
            if all(_HAN_ASKS.search(h) for h in han):
                sub = han
        parts += [s.strip(" ,;，；") for s in sub if s.strip(" ,;，；")]
    parts = [re.sub(r"^(?:and|dan|serta)\s+", "", p, flags=re.IGNORECASE) for p in parts]
    if (
        len(parts) < 2
        or len(parts) > MAX_PARTS
        or any(len(p) < MIN_PART_CHARS or not _asks(p) for p in parts)
    ):
        return [question]
    mark = "？" if "？" in question else "?"
    return [p if p.endswith(("?", "？")) else p + mark for p in parts]


def merge(parts: Sequence[str], answers: Sequence[Extraction]) -> Extraction:
    """One answer from the answers to each part: per part, its value and best sentence
    (and who said it, if asked), in the question's order; a part no sentence answers is
    named as such. The first part's supporting quotes are dropped: the answer stays
    short, one line per part."""
    quotes: list[Quote] = []
    lines: list[str] = []
    extra: list[Passage] = []
    for part, got in zip(parts, answers, strict=True):
        if not got.quotes:
            lines.append(f"{part} — {NOT_FOUND}")
            continue
        # the first answered part leads (value and best sentence); later ones follow
        head = replace(got.quotes[0], role=PART) if quotes else got.quotes[0]
        said = [q for q in got.quotes[1:] if q.role == "attribution"]
        value = head.value
        quoted = f"“{shown(head.text)}” [{head.n}]"
        lines.append(f"**{value}** — {quoted}" if value else f"{part} — {quoted}")
        lines += [f"{SAID_BY} “{shown(q.text)}” [{q.n}]" for q in said]
        quotes += [head, *said]
        extra += [p for p in got.extra if all(p.n != e.n for e in extra)]
    return Extraction("\n".join(lines), quotes, quotes[0].value if quotes else None, extra)
