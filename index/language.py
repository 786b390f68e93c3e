"""Language of a document (ISO 639-1), with py3langid: its model ships in the wheel,
it is deterministic, and it classifies the corpus (Indonesian, Chinese) correctly.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_ALIASES = {"ms": "id"}  # Malay and Indonesian: one language to a short question


# the script a language is written in (any other: Latin)
_SCRIPTS = {
    **dict.fromkeys(["zh", "ja"], "Han"),
    **dict.fromkeys(["ru", "uk", "bg", "sr", "mk", "kk"], "Cyrl"),
    **dict.fromkeys(["ar", "fa", "ur"], "Arab"),
    **{"ko": "Hang", "hi": "Deva", "th": "Thai", "el": "Grek", "he": "Hebr"},
}
UNKNOWN = ("und", "zxx")


def language_key(lang: str) -> str:
    """A language code as questions and documents are compared (Malay is Indonesian)."""
    return _ALIASES.get(lang, lang)


def crossing(asked: str, found: str) -> tuple[float, float]:
    """(cross, cross_script) of a question in language `asked` over text in `found`: 1.0
    when the languages differ, and when the scripts differ too (English over Chinese);
    (0, 0) when the question's language is unknown."""
    asked, found = language_key(asked), language_key(found)
    if asked in UNKNOWN or asked == found:
        return 0.0, 0.0
    return 1.0, float(_SCRIPTS.get(asked, "Latn") != _SCRIPTS.get(found, "Latn"))


@functools.cache
def _classify() -> Any:
    import py3langid  # loads its bundled model on first use (~0.1 s)

    return py3langid.classify


def detect_language(text: str, sample_chars: int = 5_000) -> str:
    """Best-guess language code of `text`, or "und" when there is too little to tell."""
    sample = text[:sample_chars]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 3:
        return "und"
    # Script shortcuts are more reliable than n-gram models for short CJK samples.
    if len(_KANA.findall(sample)) > letters * 0.05:
        return "ja"
    if len(_HANGUL.findall(sample)) > letters * 0.3:
        return "ko"
    if len(_CJK.findall(sample)) > letters * 0.3:
        return "zh"
    lang, _score = _classify()(sample)
    return str(lang)
