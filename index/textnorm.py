"""Text normalisation shared by indexing, querying and (later) citation checking.

Numbers are written many ways across the corpus languages: 340.000 (Indonesian),
340,000 (English, Chinese), 340 000, 340 ribu, 34万, 1,5 juta. `canonical_numbers`
rewrites each to one form (plain digits, `.` for decimals) so they compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_MULTIPLIERS: dict[str, int] = {
    # Indonesian / Malay
    "ribu": 10**3,
    "rb": 10**3,
    "juta": 10**6,
    "jt": 10**6,
    "miliar": 10**9,
    "milyar": 10**9,
    "triliun": 10**12,
    # English
    "thousand": 10**3,
    "million": 10**6,
    "millions": 10**6,
    "billion": 10**9,
    "billions": 10**9,
    "trillion": 10**12,
    # Chinese / Japanese
    "千": 10**3,
    "万": 10**4,
    "萬": 10**4,
    "亿": 10**8,
    "億": 10**8,
}

_SEP = r"[.,\u00a0\u202f\u2009 ]"
# A number: thousands-grouped (340.000 / 340,000 / 340 000) or plain with optional decimals.
_NUMBER = re.compile(
    r"(?<![^\W\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff])(?<![.,])"  # not inside a word
    r"(?P<num>\d{1,3}(?:" + _SEP + r"\d{3})+(?![\d])(?:[.,]\d+(?![\d]))?"
    r"|\d+(?:[.,]\d+)?(?![\d]))"
    r"(?P<mult>\s?(?:"
    + "|".join(sorted((m for m in _MULTIPLIERS if m.isascii()), key=len, reverse=True))
    + r")(?!\w)|[千万萬亿億])?",
    re.IGNORECASE,
)


def _parse(num: str) -> Decimal | None:
    groups = re.split(_SEP, num)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return Decimal("".join(groups))
    if len(groups) > 2 and all(len(g) == 3 for g in groups[1:-1]):
        # 1.234.567,89 or 1,234,567.89: all but the last separator group thousands
        return Decimal("".join(groups[:-1]) + "." + groups[-1])
    if len(groups) == 2:
        return Decimal(groups[0] + "." + groups[1])
    try:
        return Decimal(num)
    except InvalidOperation:
        return None


def _format(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def canonical_number(num: str, mult: str | None = None) -> str | None:
    value = _parse(num.strip())
    if value is None:
        return None
    if mult:
        value *= _MULTIPLIERS[mult.strip().lower()]
    return _format(value)


def canonical_numbers(text: str) -> str:
    """Rewrite every number in `text` to canonical digits ("340.000" -> "340000")."""

    def repl(match: re.Match[str]) -> str:
        canon = canonical_number(match.group("num"), match.group("mult"))
        return match.group(0) if canon is None else canon

    return _NUMBER.sub(repl, text)


def numbers_in(text: str) -> set[str]:
    """The canonical numbers mentioned in `text`."""
    found: set[str] = set()
    for match in _NUMBER.finditer(unicodedata.normalize("NFKC", text)):
        canon = canonical_number(match.group("num"), match.group("mult"))
        if canon is not None:
            found.add(canon)
    return found


def fold(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII) and case folding."""
    return unicodedata.normalize("NFKC", text).casefold()
