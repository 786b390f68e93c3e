"""A version the documents do not name: "When will Llama 4 be released?" over articles
about Llama 2, Llama 3 and Llama 3.1.

Meaning cannot tell versions apart (Llama 4 sits as near Llama 3 as Llama 3 does), and
words cannot either (llama and 4 are both in the index, apart), so such a question found
the sentence about Llama 3's release and was answered with its date. The versions a name
is given are read off the question and the index's text instead: when the question names
a product with a version ("Llama 4", "GPT-5", "iPhone 16", "Claude 3.5") and the documents
name that product only with other versions, they do not hold the answer.

A version is one to three digits with up to two decimal parts after a name, a space or
a hyphen between ("Llama 3.1", "GPT-4", "Llama3", "Python 3.12.1"), and at most one
letter after ("GPT-4o"). In the documents the name must be written as one (capitalised,
or "iPhone"): that is the evidence it is a product; the question may be typed in lower
case ("when will llama 4 be released?"). Years are no versions ("SIGGRAPH 2024"), nor
amounts ("Dari 65 juta", "Perbedaan 100x", "5年后"), nor stopwords, parts of a text
("Chapter 3", "Pasal 5", "Top 10") or spans of time ("Setelah 2 tahun", "June 3").
Versions match when one extends the other: asked Llama 3, "Llama 3.1" may answer, and
the other way.

Limits: a product is matched by its Latin name only (a Chinese text naming 骆驼3 is not
read), and the documents are searched through BM25's first chunks for the name and its
version, spaced and glued (`Retriever.lexical_texts`), not read whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from index.lexical import STOPWORDS
from index.textnorm import fold

_NAME = r"[A-Za-z][A-Za-z]{1,19}"
_VERSION = r"(?P<version>\d{1,3}(?:\.\d{1,3}){0,2})[a-wyz]?(?![0-9A-Za-z]|[.,]\d)"
# (a whole word: not the "ng" of Vietnamese "tháng 8"; after Chinese, "训练Llama3", it is)
_VERSIONED = re.compile(
    rf"(?<![A-Za-z0-9\u00c0-\u024f\u1e00-\u1eff.-])(?P<base>{_NAME})[ -]?{_VERSION}"
)
_WRITTEN_AS_NAME = re.compile(r"[A-Z]|[a-z][A-Z]")  # "Llama", "GPT", "iPhone"
# a number with these after it is an amount or a span of time, not a version (the
# multipliers of `index.textnorm`'s numbers and the units of `rag.values`' suffixes that
# can follow a bare number)
_AMOUNT = re.compile(
    r"\s*(?:%|x\b|juta|miliar|ribu|triliun|million|billion|thousand|trillion|kali|times|"
    r"persen|percent|万|亿|千|百|个|块|名|倍|年|月|天|日|岁|人|次|号)",
    re.IGNORECASE,
)
# names that number a part of a text, a rank or a span of time, not a product
_NOT_PRODUCTS = frozenset(
    """top chapter chapters section sections part parts page pages article articles item
    items step steps phase phases level levels round rounds stage stages figure table
    no number nomor bab pasal bagian halaman ayat butir langkah tahap tingkat babak
    year years day days hour hours week weeks month months minute minutes
    tahun hari jam minggu bulan menit detik setelah sebelum after before since within
    january february march april may june july august september october november december
    januari februari maret mei juni juli agustus oktober desember jan feb mar apr jun jul
    aug sep sept oct nov dec q vs versus""".split()
)


def _versioned(text: str, *, as_written: bool) -> list[tuple[str, str, str]]:
    """(name folded, version, the words as written); `as_written`: only names written as
    one (capitalised)."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits: Llama３
    out = []
    for m in _VERSIONED.finditer(text):
        base = m.group("base")
        key = fold(base)
        if key in STOPWORDS or key in _NOT_PRODUCTS or _AMOUNT.match(text, m.end()):
            continue  # "Dari 65 juta", "Perbedaan 100x", "Chapter 3": no product
        if as_written and not _WRITTEN_AS_NAME.match(base):
            continue
        out.append((key, m.group("version"), m.group(0)))
    return out


def versioned_names(text: str) -> list[tuple[str, str]]:
    """(the name folded, its version) of each product `text` names with a version, once
    each, as a question may name them (in any case)."""
    return list(dict.fromkeys((b, v) for b, v, _ in _versioned(text, as_written=False)))


_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]+(?![A-Za-z])")


def _found(texts: Iterable[str]) -> dict[str, set[str]]:
    """The versions `texts` give each name, of the names they write as names more often
    than in lower case: a word that opens sentences ("First 10 years ...") is mostly
    written in lower case ("the first 15 years"); Llama is once ("llama…")."""
    texts = list(texts)
    found: dict[str, set[str]] = {}
    for text in texts:
        for base, version, _ in _versioned(text, as_written=True):
            found.setdefault(base, set()).add(version)
    written = {base: [0, 0] for base in found}  # [as a name, in lower case]
    for text in texts:
        for word in _WORD.findall(text):
            counts = written.get(word.lower())
            if counts is not None:
                counts[word.islower()] += 1
    named = {base for base, (upper, lower) in written.items() if lower <= upper}
    return {base: versions for base, versions in found.items() if base in named}


def compatible(a: str, b: str) -> bool:
    """Do two versions name the same release, one extending the other (3 and 3.1)?"""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def unnamed_version(question: str, texts: Iterable[str]) -> str | None:
    """The product and version the question names ("Llama 4") where `texts` name that
    product only with other versions; None when they name it too, or never name the
    product with a version at all (nothing is known then)."""
    asked = _versioned(question, as_written=False)
    if not asked:
        return None
    found = _found(texts)
    for base, version, written in asked:
        others = found.get(base)
        if others and not any(compatible(version, v) for v in others):
            return written
    return None


def about_other_version(asked: Iterable[tuple[str, str]], sentence: str) -> bool:
    """Does `sentence` name a product the question asks about (`asked`:
    `versioned_names` of the question) only in versions the question asks about none
    of? ("Llama 2 was released last year" asked when Llama 3 was; asked about Llama 2
    and Llama 3 both, it is about one of them.)"""
    wanted: dict[str, list[str]] = {}
    for base, version in asked:
        wanted.setdefault(base, []).append(version)
    for base, versions in _found([sentence]).items():
        if base in wanted and not any(compatible(v, w) for v in versions for w in wanted[base]):
            return True
    return False
