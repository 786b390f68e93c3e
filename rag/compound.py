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

from index.lexical import STOPWORDS, tokenize
from index.textnorm import fold
from rag.binding import PROPER, cjk_organisations, no_name, question_names
from rag.extractive import Extraction, quoted, said_by_label
from rag.schema import ATTRIBUTION, PART, Passage, Quote, Turn
from rag.values import counted, counted_word, date_values

NOT_FOUND = "no sentence of the retrieved passages answers this part."

_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)"
# a second question, in question word order: "how many ...", "what did ...", "who is
# ...", "berapa ...", "siapa ..."; not a clause inside one question ("... and what Meta
# builds", "... dan apa yang dibangun Meta")
_ASKS = (
    rf"(?:how\s+(?:many|much|long|often|far|old|big|{_AUX})"
    rf"|(?:what|who|whom|whose|when|which|where|why)\s+(?:\w+\s+)?{_AUX}"
    r"|berapa|siapa|kapan|mengapa|bagaimana)\b"
)
_PREPOSITION = r"(?:on|in|at|for|by|to|from|with|of|pada|di|dalam|untuk|dengan|dari|sejak)\s+"
# "..., and on how many ...", "... dan berapa ...": a second question joined by "and"
_JOIN = re.compile(
    rf"(?:\s*[,;]\s*|\s)(?:and|dan|serta)\s(?=(?:{_PREPOSITION})?{_ASKS})", re.IGNORECASE
)
_NEXT_QUESTION = re.compile(r"[?？]\s*")  # "How many ...? And who ...?"
_HAN_ASKS = re.compile(
    r"多少|什么|谁|哪里|哪个|哪些|哪家|哪位|哪一|哪年|几[个年次位家]|何时|怎么|为什么|是否"
)
_HAN_JOIN = re.compile(r"[，,；;]\s*(?:以及|并且|还有|而且|和)?")
# a later part whose subject is only a pronoun ("when was it founded?") cannot be
# searched for on its own
_PRONOUN = re.compile(
    r"\b(?:it|its|they|them|their|he|she|his|her|itu|ia|dia|mereka)\b|(?<!其)[它他她]", re.I
)  # (其他 is "other", not 他)
# a question going on from the one before: "and on how many GPUs was it trained?",
# "dan kapan?", "那它呢?"
_GOES_ON = re.compile(
    r"^\s*(?:and|but|also|what about|how about|dan|lalu|terus|kemudian|bagaimana dengan|"
    r"那|还有|而)(?:\b|(?=[\u3400-\u9fff]))",
    re.IGNORECASE,
)


# ... or pointing back at what the one before was about: a pronoun (not "itu" of "apa
# itu", what is), a demonstrative ("these", "those"; "this" and "that" where they point:
# "was that trained", "that model?", not "said that all ..." nor "What is this document
# about?"), Indonesian "-nya" closing a clause (its: "melatihnya?", "Menurutnya, ...";
# not an adverb such as "Sayangnya, ..." nor "Apa dampaknya perubahan iklim"), 这/该
# before what they point at (not 这么, 该如何), Vietnamese này/đó/ấy
_NOT_ITS = (
    "hanya punya tanya bertanya nyanya bahwasanya sebenarnya sebetulnya sesungguhnya "
    "biasanya umumnya khususnya terutamanya misalnya akhirnya selanjutnya sebelumnya "
    "sesudahnya setelahnya berikutnya lainnya semuanya seluruhnya tentunya seharusnya "
    "sepertinya rupanya tampaknya nampaknya agaknya kiranya mestinya harusnya sayangnya "
    "setidaknya katanya dasarnya intinya sebaliknya karenanya dulunya kenyataannya "
    "nyatanya pokoknya"
).split()
_REFERS = re.compile(
    r"\b(?:it|its|they|them|their|he|she|his|her|him|these|those|ia|dia|mereka|"
    r"tersebut|nó|họ|này|đó|ấy)\b|(?<!apa )\bitu\b|(?<!其)[它他她]"
    # ("hari ini", today, "saat ini", now: no pointing back)
    + r"|(?<!hari )(?<!saat )(?<!kali )(?<!tahun )(?<!bulan )(?<!minggu )(?<!masa )\bini\b"
    + rf"|\b{_AUX}\s+that\b"
    + r"|\b(?:that|this)(?!\s+(?:year|month|week|quarter|time|morning|evening|season)\b)"
    + r"(?:\s+\w+)?\s*[?？.!]?\s*$"
    + r"|\b(?!(?:"
    + "|".join(_NOT_ITS)
    + r")\b)[a-z]{2,}nya(?=\s*(?:[?？,，.!]|$))"
    + r"|这(?=[个家款些位种是])|该(?=[个家款位种]|公司|模型|产品|项目|技术|方法)",
    re.IGNORECASE,
)
# a question with no word of its own but the question words and the thing a how-many
# question counts ("How many GPUs?", "When?", "Why not?", "为什么？") names no subject
_ASKING_HAN = re.compile(
    r"为什么|什么时候|什么|多少|哪里|哪个|哪些|几[个年次]?|何时|怎么样?|如何|是|的|呢|吗|了|谁"
)


_ASKING_VI = {"khi", "nào", "gì", "ai", "sao", "bao", "nhiêu", "đâu", "thế", "là"}


def asks_nothing(question: str) -> bool:
    """Does the question hold no word but question words ("When?", "Why?", "为什么？",
    "Khi nào?")? Asked first, it says nothing to search for. A capitalised word after
    the first, or one in capitals, is a name of its own ("What is IT?", "Who is Will?")."""
    words = question.split()
    if any(w[:1].isupper() for w in words[1:]) or any(w.isupper() and len(w) > 1 for w in words):
        return False
    own = tokenize(_ASKING_HAN.sub(" ", question))
    return bool(question.strip()) and not [
        t for t in own if t not in STOPWORDS and t not in _ASKING_VI
    ]


def _names_nothing(question: str) -> bool:
    own = [t for t in tokenize(_ASKING_HAN.sub(" ", question)) if t not in STOPWORDS]
    return not [t for t in own if t != counted(question) and t not in ("not", "tidak")]


# ... or pointing at a thing the one before named, whatever else it names: "that
# company" in "How much money had that company received from Microsoft?" (Microsoft is
# named, and still the company is the one asked about before), "perusahaan tersebut",
# 该公司, "công ty đó"; a demonstrative before a common noun, not "this year" nor a
# clause after a verb of saying ("Who said that companies ...?")
_THING = (
    "company firm startup model chip gpu cluster product platform device project technology "
    "tool app deal plan target figure number person man woman ceo founder report study "
    "article interview conversation talk event"
).split()
_THINGS = [t[:-1] + "ies" if t.endswith("y") else t + "s" for t in _THING] + ["men", "women"]
_POINTS_AT = re.compile(
    # "that"/"this" with one thing, "these"/"those" with several: "confirm that chips
    # were ..." is a clause, not chips pointed at
    r"(?<!\bsaid )(?<!\bsays )(?<!\bsay )(?<!\bthink )(?<!\bthinks )(?<!\bbelieve )"
    r"(?<!\bbelieves )(?<!\bclaimed )(?<!\bclaims )(?<!\bargued )(?<!\bnoted )"
    r"(?<!\bpredicted )(?<!\bmentioned )(?<!\bstated )(?<!\bknow )(?<!\bmeans )"
    rf"\b(?:(?:that|this)\s+(?:{'|'.join(_THING)})|(?:these|those)\s+(?:{'|'.join(_THINGS)}))\b"
    r"|\b(?:perusahaan|model|chip|produk|platform|perangkat|proyek|teknologi|rencana|"
    r"target|angka|tokoh|orang|laporan|wawancara|acara)\s+(?:itu|tersebut|ini)\b"
    r"|这(?=[个家款位种])|该(?=[个家款位种]|公司|模型|产品|项目|技术|方法)"
    r"|\b(?:công ty|mô hình|sản phẩm|con chip|người)\s+(?:này|đó|ấy)\b",
    re.IGNORECASE,
)


# the person a who-question's answer named: "**Noam Shazeer** — “...” [1]"
_ANSWERED_NAME = re.compile(
    r"^\*\*(?P<name>[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3}|[\u3400-\u9fff·]{2,8})\*\* — "
)
# "he", "she", "him", "his"/"her" (possessives), "dia", "ia", "beliau" (in lower case:
# "IA" is AI in French), 他, 她 (not 他们/她们, they, nor 其他, other), "anh ấy", ...
_PERSON = re.compile(
    r"\b(?P<own>[Hh]is|[Hh]er)\b|\b(?:[Hh]e|[Ss]he|[Hh]im|[Dd]ia|ia|[Bb]eliau)\b"
    r"|(?<!其)[他她](?!们)|\b(?:anh|cô|ông|bà)\s+ấy\b"
)


def with_person(question: str, previous: Turn) -> str | None:
    """A follow-up about the person the last answer named, with the name in place of its
    pronoun: "What does he say about AI friends?" after "**Noam Shazeer** — ..." is
    "What does Noam Shazeer say about AI friends?". Model-free, the earlier question's
    words did not say who "he" is (its answer does), and a pronoun finds nothing. None
    unless the earlier question asked who (its value is a name, not 今年年底 or a
    company's "Meta" asked which), the question has such a pronoun and names no one
    itself."""
    named = _ANSWERED_NAME.match(previous.answer)
    if named is None or any(ch.isdigit() for ch in named.group("name")):
        return None
    name = named.group("name")
    if not _ASKS_WHO.search(previous.question) or date_values(name, ""):
        return None
    found = _PERSON.search(question)
    if found is None or question_names(question) - {counted(question)}:
        # a question naming someone may mean them ("What did Tesla say of his father?":
        # XQuAD questions on one topic lost answers to the earlier answer's name)
        return None
    said = f"{name}'s" if found.group("own") else name
    return question[: found.start()] + said + question[found.end() :]


# "What about Meta?", "Bagaimana dengan Meta?", "那Meta呢？", "Còn Meta thì sao?": the
# question before, asked of another subject
_WHAT_ABOUT = re.compile(
    # (matched on the question with its closing mark and spaces taken off; each subject
    # starts at a non-space, so no run of spaces is tried two ways)
    # (and the shortest: "And Meta?", "Dan Meta?", "Kalau Meta?", "Còn Meta?")
    r"^(?:(?:and\s+|but\s+)?(?:what|how)\s+about|and(?:\s+for)?)\s+(?P<en>\S.*)$"
    r"|^(?:(?:dan\s+|lalu\s+|terus\s+)?bagaimana\s+dengan|kalau|dan(?:\s+untuk)?)\s+(?P<id>\S.*)$"
    r"|^(?:那么?|还有)?(?P<zh>[^\s，,。？?]+?)呢$"
    r"|^còn\s+(?P<vi>\S.*?)(?:\s+thì\s+sao)?$",
    re.IGNORECASE,
)
# a name as a question writes it: a run of capitalised words, with its version ("Jensen
# Huang", "Llama 3.1", "GPT-4o")
_NAMED = re.compile(
    PROPER + r"(?:\s+[A-Z][A-Za-z0-9.&'’-]*[A-Za-z0-9])*(?:\s+\d+(?:\.\d+)*[A-Za-z]?(?![\w.]))?"
)
_YEAR_IN = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_NOT_A_SUBJECT = re.compile(
    r"^(?:it|its|they|them|that|this|these|those|he|she|him|her|itu|ini|dia|ia|mereka|"
    r"它|他|她|它们|他们|这个|那个|这|那|nó|họ)$|^(?:in|on|at|for|by|pada|di|dalam|untuk|在)\b",
    re.IGNORECASE,
)
MAX_WHAT_ABOUT = 120  # characters: "What about Meta?" is short; longer is a question of its own


def swapped_subject(question: str, previous: str) -> str | None:
    """A follow-up asking the question before of another subject, as one question:
    "What about Meta?" after "Who is the CEO of NVIDIA?" is "Who is the CEO of Meta?".
    Model-free, "What about Meta?" held no question word (no value was looked for)
    and its search leaned on NVIDIA's passages. The earlier question's last name is
    the subject swapped (a Chinese who-question's organisation, 英伟达); None when the
    follow-up names no subject ("What about in 2023?", "那它呢？") or the earlier
    question names none."""
    asked = question.strip().rstrip("?？.!。 ")
    if len(asked) > MAX_WHAT_ABOUT or _WHAT_ABOUT.match(previous.strip().rstrip("?？.!。 ")):
        return None  # (after another "What about ...?", its own question is not known here)
    m = _WHAT_ABOUT.match(asked)
    if m is None:
        return None
    subject = re.sub(r"^(?:the|a|an)\s+", "", next(g for g in m.groups() if g).strip(), flags=re.I)
    if not subject or len(subject) > 40 or _NOT_A_SUBJECT.search(subject):
        return None
    if m.group("zh") and not re.search(r"[A-Za-z]", subject):
        return None  # "为什么呢？", "那么价格呢？": no name (a Chinese name is not told here)
    if not all(w[0].isupper() or w[0].isdigit() for w in subject.split()):
        # "how about training it?", "What about Meta's plans for AGI?": no name alone
        return None
    if subject.isdigit():
        # "What about 2023?": another year of the question before, if it names one
        years = list(_YEAR_IN.finditer(previous))
        if not _YEAR_IN.fullmatch(subject) or not years:
            return None
        a, b = years[-1].span()
        return previous[:a] + subject + previous[b:]
    # (start, end, text) of each name run, less the role words and the opening capital
    # before it: "CEO NVIDIA" is NVIDIA, "Siapa" no name
    names: list[tuple[int, int, str]] = []
    for n in _NAMED.finditer(previous):
        words = re.finditer(r"\S+", n.group(0))
        first = next((w for w in words if not no_name(w[0], n.start() + w.start() == 0)), None)
        if first is not None:
            a = n.start() + first.start()
            names.append((a, n.end(), previous[a : n.end()]))
    digits = any(c.isdigit() for c in subject)
    count = counted(previous)
    # the thing a how-many question counts ("GPUs") is no subject, unless it is a model
    # as the new subject is: "What about the H200?" swaps the H100s, not Meta
    names = [
        n
        for n in names
        if not (count and tokenize(n[2])[:1] == [count])
        or (digits and any(c.isdigit() for c in n[2]))
    ]
    if names:
        alike = [n for n in names if any(c.isdigit() for c in n[2]) == digits]
        a, b, _ = (alike or names)[-1]
    else:
        orgs = cjk_organisations(previous)
        if not orgs:
            return None
        a = previous.rfind(orgs[-1])
        b = a + len(orgs[-1])
    if fold(previous[a:b]) == fold(subject):
        return None
    return previous[:a] + subject + previous[b:]


# who asked about: "who", "siapa", 谁, "ai" (Vietnamese), "whom", "whose"
_ASKS_WHO = re.compile(r"\b(?:who|whom|whose|siapa|ai là|là ai)\b|谁", re.IGNORECASE)


def follows_on(question: str) -> bool:
    """Does the question lean on the one before: opening with "and ...", pointing at a
    thing it named ("that company", 该公司, whatever else it names), or pointing
    back at it (a pronoun, "that model", "-nya", 这个) or asking with no word of its own
    ("How many GPUs?", "When?"), where it names nothing of its own ("when was it
    founded?", not "How many GPUs did xAI train its Grok on?")? Model-free, the earlier
    question's words then help."""
    if _GOES_ON.search(question) or _POINTS_AT.search(question):
        return True
    # ("Apa itu CUDA?", what is CUDA, names its own subject; the thing a how-many
    # question counts, "GPUs", is no subject; 英伟达 of "谁是英伟达的CEO" is a name)
    if question_names(question) - {counted(question)} or cjk_organisations(question):
        return False
    return _names_nothing(question) or bool(_REFERS.search(question))


CONTEXT_TURNS = 3  # a follow-up leans on at most this many questions before it


def leaned_on(history: Sequence[Turn]) -> str:
    """What a follow-up (`follows_on`) leans on: the last question, with the ones before
    it back to the last that stands on its own. "By when?" after "Kapan targetnya?" after
    the H100 question leans on both: with the last alone it was answered "1990an" from
    another article."""
    questions: list[str] = []
    for turn in reversed(history[-CONTEXT_TURNS:]):
        questions.append(turn.question)
        if not follows_on(turn.question):
            break
    return " ".join(reversed(questions))


# "how many" right before its verb counts what an earlier part counted: "How many H100s
# will Meta have, and on how many was the biggest Llama trained?" (H100s)
_BARE_COUNT = re.compile(rf"\bhow\s+many(?=\s+{_AUX}\b)", re.IGNORECASE)
MAX_PARTS = 3
MIN_PART_CHARS = 12  # a Latin-script part shorter than this is no question of its own
MIN_WORDS = 3  # ... or of fewer words
MIN_HAN_CHARS = 6  # ... a Chinese one shorter than this
MAX_CHARS = 1000  # a longer text is not split (nor scanned)


def _asks(text: str) -> bool:
    return bool(
        re.match(rf"(?:{_PREPOSITION})?{_ASKS}", text, re.IGNORECASE)
        or re.search(r"\b(?:how|what|who|whom|whose|when|which|where|why|berapa|apa|siapa|kapan|"
                     r"mana|bagaimana|mengapa)\b", text, re.IGNORECASE)
        or _HAN_ASKS.search(text)
    )  # fmt: skip


def _short(part: str) -> bool:
    """Too short to be a question of its own ("Which companies")."""
    if re.search(r"[\u3400-\u9fff]", part):
        return len(part) < MIN_HAN_CHARS
    return len(part) < MIN_PART_CHARS or len(part.split()) < MIN_WORDS


def _question_marks(text: str) -> list[str]:
    """`text` split after each "?" outside quotation marks ("the talk "What is AI?" ...")."""
    pieces, start, quoted = [], 0, False
    for i, ch in enumerate(text):
        if ch in '"“”「」':
            quoted = ch in "“「" or (ch == '"' and not quoted)
        elif ch in "?？" and not quoted:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def split_question(question: str) -> list[str]:
    """The parts of a question that asks several things, each ending in "?"; a question
    asking one thing is its only part."""
    text = " ".join(question.split())
    if len(text) > MAX_CHARS:
        return [question]
    parts: list[str] = []
    for piece in _question_marks(text):
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
        or any(_short(p) or not _asks(p) for p in parts)
        or any(_PRONOUN.search(p) for p in parts[1:])
    ):
        return [question]
    mark = "？" if "？" in question else "?"
    return _carry_counted([p if p.endswith(("?", "？")) else p + mark for p in parts])


def _carry_counted(parts: list[str]) -> list[str]:
    """A later part's bare "how many" given the thing an earlier part counts, so the part
    searched for and answered alone still says what it counts."""
    out: list[str] = []
    noun: str | None = None
    for part in parts:
        bare = _BARE_COUNT.search(part)
        if noun and bare:
            part = f"{part[: bare.end()]} {noun}{part[bare.end() :]}"
        noun = counted_word(part) or noun
        out.append(part)
    return out


def merge(parts: Sequence[str], answers: Sequence[Extraction], lang: str = "en") -> Extraction:
    """One answer from the answers to each part: per part, its value and best sentence
    (and who said it, if asked, in `lang`), in the question's order; a part no sentence
    answers is named as such. The first part's supporting quotes are dropped: the answer
    stays short, one line per part."""
    quotes: list[Quote] = []
    lines: list[str] = []
    extra: list[Passage] = []
    for part, got in zip(parts, answers, strict=True):
        if not got.quotes:
            lines.append(f"{part} — {NOT_FOUND}")
            continue
        # the first answered part leads (value and best sentence); later ones follow
        head = replace(got.quotes[0], role=PART) if quotes else got.quotes[0]
        if any(_same(head, q) for q in quotes):
            continue  # the same sentence and value answer an earlier part
        said = [q for q in got.quotes[1:] if q.role == ATTRIBUTION]
        value = head.value
        line = f"{quoted(head.text)} [{head.n}]"
        lines.append(f"**{value}** — {line}" if value else f"{part} — {line}")
        lines += [f"{said_by_label(lang)} {quoted(q.text)} [{q.n}]" for q in said]
        quotes += [head, *said]
        extra += [p for p in got.extra if all(p.n != e.n for e in extra)]
    # the answer's value is the first part's: none when no sentence answers it
    first = answers[0].quotes[0].value if answers and answers[0].quotes else None
    return Extraction("\n".join(lines), quotes, first, extra)


def _same(a: Quote, b: Quote) -> bool:
    return (a.doc_id, a.start, a.end, a.value) == (b.doc_id, b.start, b.end, b.value)


def missing_parts(text: str) -> list[str]:
    """The lines of a merged answer that name a part no sentence answers."""
    return [line for line in text.splitlines() if line.endswith(NOT_FOUND)]
