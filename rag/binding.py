"""Whose role a sentence names: "CEO Antropis Dario Amodei", "OpenAI CTO Mira Murati",
"Meta的CEO马克·扎克伯格", "the CEO of Roblox, David Baszucki".

Asked who holds a role at one organisation ("Who is the CEO of Apple?"), a sentence that
gives the role to another organisation does not answer, however many of the question's
words it holds; and when the documents give the role only to other organisations, they
do not hold the answer. This is the model-free answer's check of the one relation its
word and meaning scores cannot see: which organisation a role belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from index.lexical import STOPWORDS, tokenize
from index.textnorm import fold

# roles a person holds at an organisation, each with its other names (English,
# Indonesian, Chinese, Vietnamese): a question asks in one language, the documents may
# name the role in another
ROLE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ceo", "chief executive", "首席执行官", "执行长", "tổng giám đốc"),
    ("cto", "chief technology officer", "首席技术官", "giám đốc công nghệ"),
    ("cfo", "chief financial officer", "首席财务官", "giám đốc tài chính"),
    ("coo", "chief operating officer", "首席运营官"),
    ("founder", "co-founder", "cofounder", "pendiri", "创始人", "联合创始人", "创办人",
     "người sáng lập", "nhà sáng lập"),
    ("president", "presiden", "总裁", "总统", "主席", "tổng thống", "chủ tịch"),
    ("chairman", "chairwoman", "chair", "ketua", "董事长", "主席", "chủ tịch"),
    ("director", "direktur", "董事", "主任", "giám đốc"),
    ("head", "leader", "chief", "kepala", "pemimpin", "负责人", "领导人", "领头人", "领袖",
     "lãnh đạo", "người đứng đầu"),
)  # fmt: skip
_ALL_ROLES = frozenset(r for group in ROLE_GROUPS for r in group)
ROLES_LATIN = frozenset(r for r in _ALL_ROLES if r.isascii() and " " not in r)

_CAP = r"[A-Z][A-Za-z0-9.&'’-]*[A-Za-z0-9]"
# after the role: "CEO of Roblox", "CEO Antropis Dario Amodei" (an organisation, then a
# name of two words or more: one capitalised word alone may be the person's first name)
_AFTER = re.compile(
    rf"\s*(?:(?P<prep>of|at|dari|di|from)\s+(?:the\s+)?)?(?P<x>{_CAP})(?P<rest>(?:\s+{_CAP}){{2,}})?"
)
# before it: "OpenAI CTO", "Apple's CEO", "Meta的CEO"
_BEFORE = re.compile(rf"(?P<x>{_CAP})(?:'s|’s|\s*的)?\s*$")
_PROPER = re.compile(
    r"(?<![A-Za-z0-9.])(?:[A-Z][A-Za-z0-9.&'’-]*[A-Za-z0-9]|[A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*)"
)
_LATIN = r"[A-Za-z0-9\u00c0-\u024f\u1e00-\u1eff-]"  # a letter of a Latin-script word
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_WHO = re.compile(r"\bwho(?:m|se)?\b|\bsiapa\b|谁|\bai\s+là\b|\blà\s+ai\b", re.IGNORECASE)

Binding = Literal["here", "elsewhere"]


def generic(word: str) -> bool:
    """An acronym of three letters or fewer (CEO, AI, EVP) or a stopword: no name."""
    return (word.isupper() and len(word) <= 3 and word.isalpha()) or fold(word) in STOPWORDS


def question_names(question: str) -> set[str]:
    """The question's terms written as names (Apple, OpenAI, Character.AI), folded; not
    its question words, acronyms such as CEO, or the capital a Latin sentence opens with."""
    out: set[str] = set()
    latin = not _CJK.search(question)
    for m in _PROPER.finditer(question):
        word = m.group(0)
        if generic(word) or fold(word) in ROLES_LATIN:
            continue
        if m.start() == 0 and word[1:].islower() and latin:
            continue  # "Seberapa ...": every sentence starts with a capital
        out.update(t for t in tokenize(word) if t.isascii())
    return out


def asked_roles(question: str) -> list[str]:
    """The roles a question asks about, with their other names ("ceo", "首席执行官", ...).
    Only a question that asks for a person (who, siapa, 谁) asks who holds a role."""
    if not _WHO.search(question):
        return []
    folded = fold(question)
    out: list[str] = []
    for group in ROLE_GROUPS:
        for role in group:
            if role.isascii():
                pattern = rf"(?<![a-z0-9-]){re.escape(role)}(?![a-z0-9-])"
                found = re.search(pattern, folded) is not None
            else:
                found = role in folded
            if found:
                out += [r for r in group if r not in out]
                break
    return out


def _role_spans(sentence: str, roles: Collection[str]) -> list[tuple[int, int]]:
    spans = []
    for role in roles:
        if _CJK.search(role):
            spans += [m.span() for m in re.finditer(re.escape(role), sentence)]
        else:
            pattern = rf"(?<!{_LATIN}){re.escape(role)}(?!{_LATIN})"
            spans += [m.span() for m in re.finditer(pattern, sentence, re.IGNORECASE)]
    return spans


def _same(org: str, names: Collection[str]) -> bool:
    return any(t in names for t in tokenize(org))


def binding(sentence: str, roles: Collection[str], names: Collection[str]) -> Binding | None:
    """ "here" when the sentence gives an asked role to an asked name (`names`: the
    question's names and their other spellings, folded) or holds both; "elsewhere" when
    it gives the role only to other organisations; None when it says neither."""
    if not roles or not names:
        return None
    spans = _role_spans(sentence, roles)
    if not spans:
        return None
    if any(t in names for t in tokenize(sentence)):
        return "here"
    for start, end in spans:
        after = _AFTER.match(sentence, end)
        if after and (after.group("prep") or after.group("rest")):
            org = after.group("x")
            if not generic(org) and fold(org) not in ROLES_LATIN and not _same(org, names):
                return "elsewhere"
        before = _BEFORE.search(sentence, 0, start)
        if before:
            org = before.group("x")
            if not generic(org) and fold(org) not in ROLES_LATIN and not _same(org, names):
                return "elsewhere"
    return None
