"""A version the documents do not name: "When will Llama 4 be released?" over articles
about Llama 2, Llama 3 and Llama 3.1.

Meaning cannot tell versions apart (Llama 4 sits as near Llama 3 as Llama 3 does), and
words cannot either (llama and 4 are both in the index, apart), so such a question found
the sentence about Llama 3's release and was answered with its date. The versions a name
is given are read off the question and the index's text instead: when the question names
a product with a version ("Llama 4", "GPT-5", "iPhone 16", "Claude 3.5") and the documents
name that product only with other versions, they do not hold the answer.

A version is one to three digits with at most one decimal part after a capitalised name,
a space or a hyphen between ("Llama 3.1", "GPT-4", "Llama3"), and at most one letter
after ("GPT-4o"). Years are no versions ("SIGGRAPH 2024"), nor amounts ("Dari 65 juta",
"Perbedaan 100x"), nor a stopword ("Dari 2 ..."). Versions match
when one extends the other: asked Llama 3, "Llama 3.1" may answer, and the other way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from index.lexical import STOPWORDS
from index.textnorm import fold

_VERSIONED = re.compile(
    r"(?<![A-Za-z0-9.-])(?P<base>[A-Z][A-Za-z]{1,19}|[a-z][A-Z][A-Za-z]{0,18})[ -]?"
    r"(?P<version>\d{1,3}(?:\.\d{1,2})?)[a-wyz]?(?![0-9A-Za-z]|[.,]\d)"
)
# a number with these after it is an amount, not a version
_AMOUNT = re.compile(
    r"\s*(?:%|x\b|juta|miliar|ribu|triliun|million|billion|thousand|trillion|kali|times|"
    r"persen|percent|万|亿|千|百|个|块|名|倍)",
    re.IGNORECASE,
)


def _versioned(text: str) -> list[tuple[str, str, str]]:
    out = []
    for m in _VERSIONED.finditer(text):
        base = m.group("base")
        if fold(base) in STOPWORDS or _AMOUNT.match(text, m.end()):
            continue  # "Dari 65 juta", "Perbedaan 100x": an amount
        out.append((fold(base), m.group("version"), m.group(0)))
    return out


def versioned_names(text: str) -> list[tuple[str, str]]:
    """(the name folded, its version) of each product `text` names with a version."""
    return [(base, version) for base, version, _ in _versioned(text)]


def compatible(a: str, b: str) -> bool:
    """Do two versions name the same release, one extending the other (3 and 3.1)?"""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def unnamed_version(question: str, texts: Iterable[str]) -> str | None:
    """The product and version the question names ("Llama 4") where `texts` name that
    product only with other versions; None when they name it too, or never name the
    product with a version at all (nothing is known then)."""
    asked = _versioned(question)
    if not asked:
        return None
    found: dict[str, set[str]] = {}
    for text in texts:
        for base, version in versioned_names(text):
            found.setdefault(base, set()).add(version)
    for base, version, written in asked:
        others = found.get(base)
        if others and not any(compatible(version, v) for v in others):
            return written
    return None
