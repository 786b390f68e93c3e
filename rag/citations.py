"""Citation checking, by our code rather than by trusting the model.

1. Markers: `[n]`, `[n, m]`, `[n][m]`, `【n】`, `【n, m】` (full-width digits too). A number
   that indexes no passage is removed from the text and reported; a marker left empty
   disappears entirely.
2. Support: the answer is split into sentences; each sentence's numbers (canonical:
   340,000 = 340.000 = 340 ribu = 34万) and capitalised names must occur in the passages
   the sentence cites, otherwise it is listed as unsupported. A sentence without markers
   borrows those of the next cited sentence of its paragraph (models often cite once per
   paragraph); one that still has none but states numbers or names is unsupported.
3. Quotes: each cited sentence of a model's answer is matched to the sentence of the cited
   passage that best supports it (shared numbers first, then names, then words), so the UI
   highlights that sentence, exactly as for a model-free answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.chunker import sentence_spans
from index.lexical import STOPWORDS, tokenize
from index.textnorm import fold, numbers_in
from rag.schema import Passage, Quote

# A passage number has 1-3 digits: "[2023]" in an answer is a year, not a citation.
_NUM = r"(?<![0-9０-９])[0-9０-９]{1,3}(?![0-9０-９])"
_ITEM = rf"{_NUM}(?:\s*[-–]\s*{_NUM})?"  # 3 or a range 1-3
_LIST = rf"{_ITEM}(?:\s*[,，、;]\s*{_ITEM})*"
# [1], ［1］ (full-width), 【1】, [1, 3], [1-3]; one named group for every bracket style
MARKER = re.compile(rf"[\[［【]\s*(?P<body>{_LIST})\s*[\]］】]")
_SPLIT_ITEMS = re.compile(rf"({_NUM})(?:\s*[-–]\s*({_NUM}))?")
MAX_RANGE = 20  # a wider "range" is read as its two ends
# sentence ends: Latin punctuation before whitespace/end, CJK punctuation anywhere; the
# markers right after an end belong to the sentence before it ("... 340,000 GPUs. [1]")
_SENTENCE = re.compile(
    r"[^\n]*?(?:[.!?…]+(?=\s|$)|[。！？]+|$)(?:\s*(?:\[[^\]\n]*\]|【[^】\n]*】))*", re.MULTILINE
)
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*")
# "340k", "$15B": shorthand a model may write for numbers the passages spell out
_SHORT_NUMBER = re.compile(r"(\d)\s?([kKmMbB])\b")
_SHORT = {"k": " thousand", "m": " million", "b": " billion"}


@dataclass(frozen=True)
class Marker:
    """One marker as written, its position in the text, and the numbers it lists."""

    text: str
    start: int
    end: int
    numbers: tuple[int, ...]


@dataclass
class CitationCheck:
    text: str  # the answer with invalid markers removed
    cited: set[int] = field(default_factory=set)  # valid passage numbers cited
    invalid: list[str] = field(default_factory=list)  # markers (or parts) removed, as written
    unsupported: list[str] = field(default_factory=list)  # sentences not backed


def _to_int(digits: str) -> int:
    return int(unicodedata.normalize("NFKC", digits))


def marker_numbers(body: str) -> list[int]:
    """The passage numbers a marker's body lists, ranges expanded ("1-3, 5" -> 1 2 3 5)."""
    out: list[int] = []
    for first, last in _SPLIT_ITEMS.findall(body):
        a = _to_int(first)
        b = _to_int(last) if last else a
        out.extend(range(a, b + 1) if 0 <= b - a <= MAX_RANGE else (a, b))
    return list(dict.fromkeys(out))


def find_markers(text: str) -> list[Marker]:
    """Every citation marker in `text`, in order."""
    return [
        Marker(m.group(0), m.start(), m.end(), tuple(marker_numbers(m.group("body"))))
        for m in MARKER.finditer(text)
    ]


def clean_markers(text: str, n_passages: int) -> tuple[str, set[int], list[str]]:
    """Remove numbers that index no passage (1..n_passages). Returns the cleaned text,
    the valid numbers cited and the invalid ones as written (`[7]`)."""
    cited: set[int] = set()
    invalid: list[str] = []

    def repl(m: re.Match[str]) -> str:
        nums = marker_numbers(m.group("body"))
        good = [n for n in nums if 1 <= n <= n_passages]
        invalid.extend(f"[{n}]" for n in nums if not 1 <= n <= n_passages)
        cited.update(good)
        if len(good) == len(nums):
            return m.group(0)
        if not good:
            return ""
        return "[" + ", ".join(str(n) for n in dict.fromkeys(good)) + "]"

    cleaned = MARKER.sub(repl, text)
    if invalid:
        # a removed marker may leave a space before punctuation, or two spaces
        cleaned = re.sub(r"[ \t]+([.,;:!?。，；])", r"\1", cleaned)
        cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    return cleaned, cited, invalid


def sentences(text: str) -> list[tuple[str, int]]:
    """(sentence, paragraph index) pairs; list bullets and numbering stripped."""
    out: list[tuple[str, int]] = []
    for para_i, para in enumerate(re.split(r"\n\s*\n", text)):
        for line in para.splitlines():
            line = _LIST_PREFIX.sub("", line)
            for m in _SENTENCE.finditer(line):
                s = m.group(0).strip()
                if s:
                    out.append((s, para_i))
    return out


def _name_like(text: str) -> set[str]:
    """Words written capitalised somewhere other than at a sentence start."""
    out = set()
    for s, _ in sentences(text):
        for w in list(_WORD.finditer(MARKER.sub(" ", s)))[1:]:
            if w.group(0)[0].isupper():
                out.add(w.group(0))
    return out


def _expand_short(text: str) -> str:
    """405B -> 405 billion, 32K -> 32 thousand: applied to answers and passages alike."""
    return _SHORT_NUMBER.sub(lambda m: m.group(1) + _SHORT[m.group(2).lower()], text)


def _claims(sentence: str, known_names: set[str]) -> tuple[set[str], list[str]]:
    """The canonical numbers and the capitalised names a sentence states. The first
    word counts as a name when it also appears capitalised mid-sentence (`known_names`)."""
    bare = _expand_short(MARKER.sub(" ", sentence))
    numbers = numbers_in(bare)
    names: list[str] = []
    words = list(_WORD.finditer(bare))
    for i, w in enumerate(words):
        word = w.group(0)
        if not word[0].isupper() and not any(c.isdigit() for c in word[1:]):
            continue
        if not any(c.isalpha() for c in word) or word.isdigit():
            continue
        if len(word) <= 2 and word.isupper():
            continue  # "AI", "US": generic, and often how a model translates a phrase
        acronym_or_model = sum(c.isupper() for c in word) > 1 or any(c.isdigit() for c in word)
        # the first word of a sentence is capitalised anyway: a name only if it looks like one
        if i == 0 and not acronym_or_model and word not in known_names:
            continue
        if fold(word) in STOPWORDS:
            continue
        names.append(word)
    return numbers, names


def _supported_name(name: str, folded_text: str, tokens: set[str]) -> bool:
    if fold(name) in folded_text:
        return True
    parts = tokenize(name)
    return bool(parts) and all(p in tokens for p in parts)


def check(answer: str, passages: Sequence[Passage]) -> CitationCheck:
    """Validate markers and check each sentence against the passages it cites."""
    by_n = {p.n: p for p in passages}
    n_max = max(by_n, default=0)
    # markers index positions 1..len(passages); passages are numbered 1..n in order
    cleaned, cited, invalid = clean_markers(answer, n_max)
    cited &= set(by_n)
    result = CitationCheck(text=cleaned, cited=cited, invalid=invalid)

    sents = sentences(cleaned)
    own: list[set[int]] = []
    for s, _para in sents:
        nums: set[int] = set()
        for marker in find_markers(s):
            nums.update(n for n in marker.numbers if n in by_n)
        own.append(nums)
    known_names = _name_like(cleaned + "\n\n" + "\n\n".join(p.text for p in passages))
    cache: dict[frozenset[int], tuple[str, set[str], set[str]]] = {}
    for i, (s, para) in enumerate(sents):
        refs = own[i]
        if not refs:  # borrow from the next cited sentence of the same paragraph
            for j in range(i + 1, len(sents)):
                if sents[j][1] != para:
                    break
                if own[j]:
                    refs = own[j]
                    break
        numbers, names = _claims(s, known_names)
        if not numbers and not names:
            continue
        if not refs:
            result.unsupported.append(s)
            continue
        key = frozenset(refs)
        if key not in cache:
            joined = "\n".join(by_n[n].text for n in sorted(refs))
            numbers_held = numbers_in(joined) | numbers_in(_expand_short(joined))
            cache[key] = (fold(joined), numbers_held, set(tokenize(joined)))
        folded, have_numbers, tokens = cache[key]
        missing_number = any(n not in have_numbers for n in numbers)
        missing_name = any(not _supported_name(name, folded, tokens) for name in names)
        if missing_number or missing_name:
            result.unsupported.append(s)
    return result


NUMBER_WEIGHT = 3.0  # a shared number says more than a shared name, a name than a word
NAME_WEIGHT = 2.0


def _support(claim: str, sentence: str) -> float:
    """How well `sentence` (from a passage) backs `claim` (an answer sentence)."""
    claim_numbers = numbers_in(_expand_short(claim))
    have_numbers = numbers_in(sentence) | numbers_in(_expand_short(sentence))
    claim_tokens = set(tokenize(claim))
    have = set(tokenize(sentence))
    _numbers, names = _claims(claim, set())
    folded = fold(sentence)
    score = NUMBER_WEIGHT * len(claim_numbers & have_numbers)
    score += NAME_WEIGHT * sum(1 for n in names if _supported_name(n, folded, have))
    if claim_tokens:
        score += len(claim_tokens & have) / len(claim_tokens)
    return score


def supporting_quotes(answer: str, passages: Sequence[Passage]) -> list[Quote]:
    """For each sentence of `answer` and each passage it cites, the passage sentence that
    best supports it, as a Quote with its exact document span (none when nothing is
    shared). In answer order, each passage sentence once."""
    by_n = {p.n: p for p in passages}
    spans = {p.n: sentence_spans(p.text) for p in passages}
    out: list[Quote] = []
    seen: set[tuple[int, int]] = set()
    for sentence, _para in sentences(answer):
        claim = MARKER.sub(" ", sentence)
        refs = [n for m in find_markers(sentence) for n in m.numbers if n in by_n]
        for n in dict.fromkeys(refs):
            p = by_n[n]
            scored = [(_support(claim, p.text[a:b]), a, b) for a, b in spans[n]]
            if not scored:
                continue
            score, a, b = max(scored, key=lambda t: t[0])
            if score <= 0 or (n, a) in seen:
                continue
            seen.add((n, a))
            out.append(Quote(n, p.doc_id, p.start + a, p.start + b, p.text[a:b], p.page))
    return out
