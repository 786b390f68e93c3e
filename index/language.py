"""Language of a document (ISO 639-1), with py3langid: its model ships in the wheel,
it is deterministic, and it classifies the corpus (Indonesian, Chinese) correctly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
# a character that is a word of its own in counting words (no spaces between them):
# Chinese and Japanese characters, kana, Hangul syllables
IDEOGRAPH = re.compile("|".join(p.pattern for p in (_CJK, _KANA, _HANGUL)))
# one language to a short question: Malay and Indonesian; Cantonese, Wu and Mandarin
# written in Chinese characters ("Meta 有多少 GPU?" reads as Cantonese)
_ALIASES = {"ms": "id", "yue": "zh", "wuu": "zh"}


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


def same_language(asked: str, found: str) -> bool:
    """Is text in `found` in the language of a question in `asked` (neither unknown)?"""
    asked, found = language_key(asked), language_key(found)
    return asked not in UNKNOWN and found not in UNKNOWN and asked == found


def latin_script(lang: str) -> bool:
    """Is `lang` written in the Latin script (an unknown language: taken to be)?"""
    return _SCRIPTS.get(language_key(lang), "Latn") == "Latn"


def crossing(asked: str, found: str) -> tuple[float, float]:
    """(cross, cross_script) of a question in language `asked` over text in `found`: 1.0
    when the languages differ, and when the scripts differ too (English over Chinese);
    (0, 0) when either language is unknown."""
    asked, found = language_key(asked), language_key(found)
    if asked in UNKNOWN or found in UNKNOWN or asked == found:
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


@functools.cache
def _rank() -> Any:
    import py3langid

    return py3langid.rank


def question_language(text: str, corpus: Collection[str]) -> str:
    """The language of a question, as `language_key` gives it, among the `corpus`
    languages and English: a few words fool a general classifier ("H100 total?" reads as
    Catalan, "Who is Yann LeCun?" as Irish), and a question is asked in a language its
    reader has documents in, or in English. "und" when there is too little to tell."""
    found = language_key(detect_language(text))
    allowed = {language_key(lang) for lang in corpus} | {"en"}
    if found in UNKNOWN or found in allowed:
        return found
    for lang, _score in _rank()(text[:5_000]):
        if language_key(str(lang)) in allowed:
            return language_key(str(lang))
    return found
