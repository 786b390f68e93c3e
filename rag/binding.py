"""Whose role a sentence names: "CEO Antropis Dario Amodei", "OpenAI CTO Mira Murati",
"Meta的CEO马克·扎克伯格", "the CEO of Roblox, David Baszucki".

Asked who holds a role at one organisation ("Who is the CEO of Apple?"), a sentence that
gives the role to another organisation does not answer, however many of the question's
words it holds; and when the documents give the role only to other organisations, they
do not hold the answer. This is the model-free answer's check of the one relation its
word and meaning scores cannot see: which organisation a role belongs to.

Limits: organisations are matched by their Latin spelling (and the index's other
spellings of it, Antropis for Anthropic). Across scripts, only a Chinese question's
organisation before the role ("英伟达的首席执行官") is matched, to the Latin name in the
passages nearest in meaning (`cjk_organisations`, `rag.extractive`): an English question
about Apple over Chinese text naming it 苹果 finds no "here", and abstains if another
company's role holder is in the passages. Only person questions (who, siapa, 谁, ai là)
are checked, and only the model-free answer: a model reads the passages itself.
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
_ROLE_GROUP = {r: group for group in ROLE_GROUPS for r in group}
NEAR_CHARS = 40  # an asked name this close to the role gives it the role
# capitalised words before a role that name no organisation
_NOT_ORGANISATIONS = frozenset(
    "former ex interim acting deputy vice new then under as mantan wakil baru "
    "january february march april may june july august september october november "
    "december januari februari maret mei juni juli agustus oktober desember".split()
)
_LIST_LINE = re.compile(r"\s*[•*·–—-]\s")  # "• Salah satu pendiri & CEO Roblox David Baszucki"
ROLES_LATIN = frozenset(r for r in _ALL_ROLES if r.isascii() and " " not in r)

_CAP = r"[A-Z][A-Za-z0-9.&'’-]*[A-Za-z0-9]"
# after the role: "CEO of Roblox", "CEO Antropis Dario Amodei" (an organisation, then a
# name of two words or more: one capitalised word alone may be the person's first name)
_AFTER = re.compile(
    rf"\s*(?:(?P<prep>of|dari)\s+(?:the\s+)?)?(?P<x>{_CAP})(?P<rest>(?:\s+{_CAP}){{2,}})?"
)
# before it: "OpenAI CTO", "Apple's CEO", "Meta的CEO"
_BEFORE = re.compile(rf"(?P<x>{_CAP})(?:'s|’s|\s*的)?\s*$")
# a word written as a name: capitalised ("Apple", "Character.AI") or with an inner capital
# ("iPhone", "xAI")
PROPER = (
    r"(?<![A-Za-z0-9.])(?:[A-Z][A-Za-z0-9.&'’-]*[A-Za-z0-9]|[A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*)"
)
_PROPER = re.compile(PROPER)
_LATIN = r"[A-Za-z0-9\u00c0-\u024f\u1e00-\u1eff-]"  # a letter of a Latin-script word
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_WHO = re.compile(r"\bwho(?:m|se)?\b|\bsiapa\b|谁|\bai\s+là\b|\blà\s+ai\b", re.IGNORECASE)

Binding = Literal["here", "elsewhere"]


def generic(word: str) -> bool:
    """An acronym of three letters or fewer (CEO, AI, EVP) or a stopword: no name."""
    return (word.isupper() and len(word) <= 3 and word.isalpha()) or fold(word) in STOPWORDS


def no_name(word: str, opens: bool) -> bool:
    """Is a capitalised word of a question no name: an acronym such as CEO, a role, a
    stopword, or the capital a Latin sentence opens with (`opens`: it starts the
    question, "Seberapa ...")?"""
    return generic(word) or fold(word) in ROLES_LATIN or (opens and word[1:].islower())


def question_names(question: str) -> set[str]:
    """The question's terms written as names (Apple, OpenAI, Character.AI), folded; not
    its question words, acronyms such as CEO, or the capital a Latin sentence opens with."""
    out: set[str] = set()
    latin = not _CJK.search(question)
    for m in _PROPER.finditer(question):
        word = m.group(0)
        if no_name(word, m.start() == 0 and latin):
            continue
        out.update(t for t in tokenize(word) if t.isascii())
    return out


_CJK_ROLE = re.compile(
    "|".join(
        map(re.escape, sorted((r for r in _ALL_ROLES if _CJK.search(r)), key=len, reverse=True))
    )
    + r"|(?<![A-Za-z])(?:CEO|CTO|CFO|COO)(?![A-Za-z])",
    re.IGNORECASE,
)
# between the organisation and the role: "英伟达的首席执行官", "微软现任CEO"
_BETWEEN = re.compile(r"(?:的|现任|前任|\s)*$")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+$")
_JOINED_ROLE = re.compile("(?:" + _CJK_ROLE.pattern + r")\s*(?:兼|和|与|及|、)$", re.IGNORECASE)
_ASKING_PREFIX = re.compile(r"^(?:请问)?(?:谁是|谁|是)")


def cjk_organisations(question: str) -> list[str]:
    """The organisations a who-question in Chinese names in Chinese script right before
    the role it asks about ("英伟达" of "谁是英伟达的首席执行官？"); the documents may spell
    them in the Latin script (NVIDIA), which `question_names` cannot see."""
    if not _WHO.search(question):
        return []
    out: list[str] = []
    for m in _CJK_ROLE.finditer(question):
        head = question[: m.start()]
        head = head[: len(head) - len(_BETWEEN.search(head).group(0))]  # type: ignore[union-attr]
        if _JOINED_ROLE.search(head):
            continue  # "联合创始人兼CEO": a second role of the same person
        run = _HAN_RUN.search(head)
        org = _ASKING_PREFIX.sub("", run.group(0).rsplit("的", 1)[-1]) if run else ""
        org = _ORG_EDGES.sub("", org)
        if _POINTS_BACK.match(org):
            continue  # "该公司", "这家公司": the one named before (a model reads it)
        if len(org) >= 2 and org not in _ALL_ROLES and org not in out:
            out.append(org)
    return out


# "和微软" (and Microsoft), "亚马逊公司" (Amazon company): the name without them
_ORG_EDGES = re.compile(r"^(?:和|与|及|跟|、)+|(?:有限公司|公司|集团|股份|科技)+$")
_POINTS_BACK = re.compile(r"^(?:该|这|那|此|本)")


def latin_names(text: str, lower: Collection[str] = (), roles: Collection[str] = ()) -> list[str]:
    """The capitalised words of `text` that may name an organisation (`_organisation`),
    in order, once each; given `roles`, only those within NEAR_CHARS of one of them."""
    spans = _role_spans(text, roles) if roles else [(0, len(text))]
    out: list[str] = []
    for start, end in spans:
        a, b = (max(0, start - NEAR_CHARS), end + NEAR_CHARS) if roles else (start, end)
        for m in _PROPER.finditer(text, a, b):
            word = m.group(0)
            if len(word) > 2 and _organisation(word, lower) and word not in out:
                out.append(word)
    return out


def asked_roles(question: str) -> list[str]:
    """The roles a question asks about, with their other names ("ceo", "首席执行官", ...).
    Only a question that asks for a person (who, siapa, 谁) asks who holds a role. The
    longest role named wins its words ("chief executive" is no "chief", "tổng giám đốc" no
    "giám đốc")."""
    if not _WHO.search(question):
        return []
    folded = fold(question)
    out: list[str] = []
    for role, group in sorted(_ROLE_GROUP.items(), key=lambda rg: -len(rg[0])):
        if _CJK.search(role):
            found = re.search(re.escape(role), folded)
        else:
            found = re.search(rf"(?<!{_LATIN}){re.escape(role)}(?!{_LATIN})", folded)
        if found:
            a, b = found.span()
            folded = folded[:a] + " " * (b - a) + folded[b:]  # its words are taken
            out += [r for r in group if r not in out]
    return out


def names_role(sentence: str, roles: Collection[str]) -> bool:
    """Does `sentence` name one of `roles` (in any of its languages: "CEO" for 首席执行官)?"""
    return bool(_role_spans(sentence, roles))


def _role_spans(sentence: str, roles: Collection[str]) -> list[tuple[int, int]]:
    spans = []
    for role in roles:
        if _CJK.search(role):
            spans += [m.span() for m in re.finditer(re.escape(role), sentence)]
        else:
            pattern = rf"(?<!{_LATIN}){re.escape(role)}(?!{_LATIN})"
            spans += [m.span() for m in re.finditer(pattern, sentence, re.IGNORECASE)]
    return spans


# a person a role is given to: two to four capitalised words after the role, the
# organisation first where there are more than two ("CEO NVIDIA Jensen Huang", "CEO
# perusahaan Mark Zuckerberg", "OpenAI CTO Mira Murati")
_ROLE_WORD = "|".join(
    re.escape(r) for r in sorted((r for r in _ALL_ROLES if r.isascii()), key=len, reverse=True)
)
# (between the role and the name only words that say whose role it is: "CEO of
# Roblox, David Baszucki", "pendiri sekaligus CEO NVIDIA Jensen Huang"; not a verb: "The
# CEO wore Ray-Ban Meta glasses")
_GIVEN_ROLE = re.compile(
    rf"(?<!{_LATIN})(?i:{_ROLE_WORD})(?!{_LATIN})"
    r"(?:\s+(?i:of|at|from|dari|di|perusahaan|sekaligus|dan|and|&|the))*"
    rf"(?:\s+{_CAP},)?\s+(?P<run>{_CAP}(?:\s+{_CAP}){{1,3}})"
)


_ORG_ENDINGS = frozenset(
    "inc corp corporation ltd llc co company group labs platforms technologies tbk".split()
)


def person_surnames(text: str) -> set[str]:
    """The last words (folded) of the persons `text` gives a role ("CEO Meta Mark
    Zuckerberg": zuckerberg): a name ending in one is a person, not an organisation.
    Only a run of two capitalised words or more after a role counts (one word may be the
    organisation: "CEO Meta mengatakan"), and an acronym (CEO) in it is skipped."""
    out: set[str] = set()
    for m in _GIVEN_ROLE.finditer(text):
        words = [w for w in m.group("run").split() if not generic(w) and fold(w) not in ROLES_LATIN]
        if (
            len(words) >= 2
            and not any(c.isdigit() for w in words for c in w)
            and fold(words[-1]) not in _ORG_ENDINGS
        ):
            out.add(fold(words[-1]))
    return out


def _organisation(word: str, lower: Collection[str]) -> bool:
    """Can `word` be an organisation a role belongs to? Not an acronym such as CEO, a
    role, a word the text also writes in lower case ("Under CEO", "Head of Research"), a
    title modifier ("Former CEO") or a month."""
    key = fold(re.sub(r"['’]s$", "", word))
    return not (generic(word) or key in ROLES_LATIN or key in lower or key in _NOT_ORGANISATIONS)


def _near(sentence: str, start: int, end: int, names: Collection[str]) -> bool:
    """An asked name within NEAR_CHARS of the role ("Apple CEO", "CEO of Apple")."""
    window = sentence[max(0, start - NEAR_CHARS) : end + NEAR_CHARS]
    return any(t in names for t in tokenize(window))


def binding(
    sentence: str,
    roles: Collection[str],
    names: Collection[str],
    lower: Collection[str] = (),
) -> Binding | None:
    """ "here" when the sentence gives an asked role to an asked name (`names`: the
    question's names and their other spellings, folded; a role within NEAR_CHARS of one);
    "elsewhere" when it gives the role only to other organisations ("CEO of Roblox",
    "Roblox CEO", "Meta的CEO", and in a list line "CEO Roblox David Baszucki"); None when
    it says neither. `lower`: words the text writes in lower case, which name no
    organisation."""
    # ("ai" of Character.AI names nothing; a Chinese name of two characters does: 苹果)
    names = {t for t in names if len(t) > 2 or not t.isascii()}
    if not roles or not names:
        return None
    listed = bool(_LIST_LINE.match(sentence))
    elsewhere = False
    for start, end in _role_spans(sentence, roles):
        slots = []  # the words the role is attached to: before it, after it
        before = _BEFORE.search(sentence, 0, start)
        if before:
            slots.append(before.group("x"))
        after = _AFTER.match(sentence, end)
        if after and (after.group("prep") or (after.group("rest") and listed)):
            slots.append(after.group("x"))
        if any(t in names for word in slots for t in tokenize(word)):
            return "here"  # "Apple CEO", "CEO of Apple"
        if any(_organisation(word, lower) for word in slots):
            elsewhere = True  # "Microsoft CEO ... Apple": the role is Microsoft's
        elif _near(sentence, start, end, names):
            return "here"
    return "elsewhere" if elsewhere else None
