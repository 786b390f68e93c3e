"""The model-free answer, answer first: the one best sentence of the top passages, quoted
verbatim with its [n]; where the question asks for a number, a name or a date, that value
pulled out of the sentence and shown before it; then at most two more sentences that say
the same thing (the same value, numbers compared in canonical form: 340.000 = 340,000 =
34万), preferably from other documents. Sentences about other quantities are left out.

Scoring a sentence (all signals general, none fitted to one question):
- coverage: the idf-weighted share of the question's terms it contains (the retrieval
  tokenizer, so numbers and names match across languages; half credit for near misses
  and affixed forms);
- answer type: it holds the kind of thing asked for (a number for "how many", a name for
  "who", a date for "when") that the question does not already hold (`rag.values`); a name most
  candidate sentences mention is the topic, not the answer; "who said" looks for the
  speaker ("Name, Org:" labels, "..., kata Huang");
- agreement: its value is stated by a good sentence of another document (the same figure
  in the Indonesian and the Chinese article);
- proximity: how close the question's terms sit to the value in the sentence;
- a year the question does not ask about marks a figure for another time (2023 shipments
  do not answer a question about a plan);
- a small prior for the passage's rank;
- dense similarity of question and sentence, when an embedder is passed in (the answer
  flow passes the retrieval's, whose sentence vectors abstention made already), weighted
  by how little the words decide: a sentence sharing no word with the question is a
  candidate only through it (an English question over Chinese text).
A sentence that sets the scene and the next one holding the value may be quoted together.
Every quote carries its exact span in the document (`text[start:end] == quote`), so the
UI can highlight the sentence and `rag ask --json` lists it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from index.chunker import asks, sentence_spans, statements
from index.language import detect_language, language_key, same_language
from index.lexical import tokenize
from index.speakers import LABEL_LINE, SECTION, speaker_at, speaker_labels
from index.textnorm import fold
from rag.binding import (
    asked_roles,
    binding,
    cjk_organisations,
    latin_names,
    names_role,
    person_surnames,
    question_names,
)
from rag.pointers import pointer_terms
from rag.schema import ATTRIBUTION, Passage, Quote
from rag.values import (
    ATTRIBUTION_RE,
    AnswerType,
    Value,
    agrees,
    answer_type,
    asked_grain,
    asks_money,
    asks_organisation,
    asks_speaker,
    asks_why,
    counted,
    counts,
    date_values,
    glossed,
    relative,
    states_money,
    values_in,
)
from rag.versions import about_other_version, versioned_names

MAX_QUOTES = 3  # the best sentence and at most two that agree with it
LABEL_CHARS = 80  # a line this short ending in ":" introduces the next sentence
MAX_PASSAGES = 6  # sentences come from the top passages only
MAX_SHOWN_CHARS = 600  # a longer "sentence" (no punctuation) is shown cut, with an ellipsis
MIN_SENTENCE_CHARS = 12
# where the words decide (no meaning added), a value's bonus is earned in proportion to
# the question's words its sentence holds, in full from this share of the best sentence's:
# asked "which Apple AI platform", "Huang memuji Zuckerberg ..." (a name, 7% of the words)
# beat the sentence naming Apple Intelligence (36%) on its name and its rank. Walk dev
# half +1 question; gold dev and XQuAD (four sets, 160 questions each) unchanged
BONUS_SHARE = 0.3
TYPE_BONUS = 0.35  # the sentence holds the kind of value asked for
NAME_BONUS = 0.15  # capitalised words are everywhere in Indonesian: weaker evidence
AGREE_BONUS = 0.15  # ... and another document's good sentence states the same value
TOPIC_SHARE = 0.2  # a name in more than this share of the candidate sentences is the topic
TOPIC_MIN = 8  # ... judged only among at least this many candidates
TOPIC_COUNT = 3  # ... and in at least this many of them (twice is a name said twice)
PROXIMITY_BONUS = 0.1  # the value sits next to the question's terms
BOUND_BONUS = 0.2  # asked a role at an organisation, the sentence gives it to that one
SPEAKER_REACH = 300  # characters after a quoted sentence where its attribution may stand
FLANK_MARGIN = 0.1  # values this much less surrounded by the question's terms are not chosen
DENSE_WEIGHT = 1.0  # question-sentence similarity, rescaled within the candidates, ...
WORDS_DECIDE = 0.35  # ... fading to nothing as the best sentence's coverage reaches this
RANK_PRIOR = 0.2
PAIR_PENALTY = 0.1  # a two-sentence quote must earn its length
YEAR_PENALTY = 0.1  # a figure "in 2023" answers a question about 2023, not an open one
NEAR_MISS_EXTRA = 3  # letters a word may add to a question term and still half-match
AFFIX_EXTRA = 10  # ... letters around it (Indonesian prefixes and suffixes)
SUPPORT_FLOOR = 0.6  # a supporting sentence scores at least this share of the best one
MONEY_WORDS_SHARE = 0.35  # asked how much was paid: a sentence naming a currency answers
GRAIN_SCORE_SHARE = 0.8  # asked which quarter: a sentence naming one, this close, answers
# if it holds this share of the question's words the best one (naming none) holds (dev: a
# research pay package 0.39 of them, answered; "miliaran dolar" saved, asked what training
# Llama 3.1 cost, 0.31, and amounts near unrelated questions 0-0.19, not)
OTHER_SUPPORT_FLOOR = 0.7  # ... without a value to agree on, it must be this close
AGREE_POOL_FLOOR = 0.5  # sentences this close to the best take part in agreement


class SentenceEmbedder(Protocol):
    """What sentence-level dense similarity needs (`rag.sentences.RetrievalSentences`):
    L2-normalised vectors for a query and for passages, the question's language, and what
    the model adds to a sentence's similarity for being in that language
    (`rag.sentences.same_language_bias`), taken off before sentences are compared."""

    language: str
    language_bias: float

    def query(self, text: str) -> Any: ...

    def queries(self, texts: list[str]) -> Any: ...

    def passage(self, texts: list[str]) -> Any: ...


class DocumentContext(Protocol):
    """The index around the retrieved passages (`rag.retrieve.Retriever`)."""

    def document_text(self, doc_id: str) -> str | None: ...

    def span_passage(self, doc_id: str, start: int, end: int, n: int) -> Passage | None: ...

    def chunk_at(self, doc_id: str, at: int, n: int) -> Passage | None: ...


# "who said that?", "siapa yang mengatakan itu?", "这是谁说的？": what was said is what the
# previous answer quoted
_SAID_THAT = re.compile(
    r"(?:and |dan )?(?:who (?:said|says|wrote|claimed) (?:that|this|it|so)"
    r"|siapa yang (?:mengatakan|berkata|menyatakan|bilang|menulis)(?:nya| itu| ini| hal itu)?"
    r"|(?:这|那)?(?:句话)?(?:是)?谁说的)",
    re.IGNORECASE,
)
# “sentence” [n], or ‘sentence’ [n] where it holds quotation marks (`quoted`)
_QUOTED = re.compile(r"“(.{12,}?)” \[\d+\]|‘(.{12,}?)’ \[\d+\]")


def asks_who_said_that(question: str) -> bool:
    """Is the question only "who said that?", pointing back at an earlier answer?"""
    return bool(_SAID_THAT.fullmatch(question.strip().rstrip("?？!.。 ")))


def who_said_quote(answer: str) -> str | None:
    """ "who said that?" about an earlier answer, as a question that stands alone: who
    said the first sentence it quoted. None when it quotes nothing."""
    m = _QUOTED.search(answer)
    if not m:
        return None
    said = (m.group(1) or m.group(2)).removesuffix("…").strip()  # a long one is shown cut
    if said[:1] in '“"':  # a sentence opening with a quotation is not quoted twice
        return f"Who said {said.rstrip('.。')}?"
    return f"Who said “{said}”?"


# sentences ------------------------------------------------------------------------------


def _credit(term: str, have: set[str], near: Sequence[str] = ()) -> float:
    """1 for a term the sentence holds; half for a near miss: a cognate the retriever
    found (`near`: context ~ konteks), also with a suffix (product ~ produk ~ produknya),
    or a longer word that starts with the term (an Indonesian suffix, a typo such as
    "Metal" for "Meta"); else 0."""
    if term in have:
        return 1.0
    if any(
        word.startswith(other) and len(word) - len(other) <= NEAR_MISS_EXTRA
        for other in near
        for word in have
    ):
        return 0.5
    if len(term) >= 4 and term.isascii():
        for word in have:
            if word.startswith(term) and len(word) - len(term) <= NEAR_MISS_EXTRA:
                return 0.5
            # an affixed form: invest ~ menginvestasikan, latih ~ dilatih
            if len(term) >= 5 and term in word and len(word) - len(term) <= AFFIX_EXTRA:
                return 0.5
    return 0.0


def _units(text: str) -> list[tuple[int, int]]:
    """Sentence spans, a short label line ending in ":" ("Martin Casado, a16z:") joined
    to the sentence after it, so a quote keeps its speaker."""
    spans = sentence_spans(text)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        a, b = spans[i]
        if text[b - 1] in ":：" and b - a <= LABEL_CHARS and i + 1 < len(spans):
            b = spans[i + 1][1]
            i += 1
        out.append((a, b))
        i += 1
    return out


def shown(text: str) -> str:
    """A quote as displayed: whitespace runs (line breaks) as one space, a very long one
    cut with an ellipsis. The exact text stays in the Quote."""
    text = " ".join(text.split())
    if len(text) > MAX_SHOWN_CHARS:
        cut = text.rfind(" ", 0, MAX_SHOWN_CHARS)
        text = text[: cut if cut > MAX_SHOWN_CHARS // 2 else MAX_SHOWN_CHARS] + "…"
    return text


_QUOTE_MARKS = '“”"「」『』„'


def holds_quotation(text: str) -> bool:
    return any(m in text for m in _QUOTE_MARKS)


def quoted(text: str) -> str:
    """A quote as displayed, in quotation marks: single ones around a sentence that holds
    double ones itself (‘“Llama 2 is the best open model,” he said.’), which doubled
    read as ““...””."""
    text = shown(text)
    return f"‘{text}’" if holds_quotation(text) else f"“{text}”"


@dataclass
class Candidate:
    """One sentence of a top passage, scored."""

    passage: Passage
    start: int  # offsets into the passage text
    end: int
    text: str  # passage.text[start:end], exact
    rank: int
    coverage: float
    values: list[Value] = field(default_factory=list)
    proximity: float = 0.0
    dense: float = 0.0
    agreement: float = 0.0
    credits: dict[str, float] = field(default_factory=dict)  # per question term, 0..1
    flanked: list[float] = field(default_factory=list)  # per value: `_flanked`
    pair: bool = False  # two sentences: the question's words, then the value
    unasked_year: bool = False  # it dates what it says to a time the question leaves open
    # its value is the label of its speaker's section above it: (name, start, end of the
    # label in the document)
    section: tuple[str, int, int] | None = None
    bound: bool = False  # it gives the role asked about to the organisation asked about
    # read in the chunk after a retrieved passage (`_continuations`): it may answer, but
    # neither supports another sentence nor agrees with its value (as a supporting quote
    # it brought a new source for little on the walk dev half; its agreeing "25" took
    # the place of an XQuAD answer's "100-150")
    follows: bool = False
    score: float = 0.0
    words: float = 0.0  # the score from the words alone (no dense similarity)

    def quote(self, value: str | None = None) -> Quote:
        p = self.passage
        return Quote(
            n=p.n,
            doc_id=p.doc_id,
            start=p.start + self.start,
            end=p.start + self.end,
            text=self.text,
            page=p.page,
            value=value,
        )


@functools.lru_cache(maxsize=64)
def lower_words(text: str) -> frozenset[str]:
    """The words `text` writes in lower case."""
    return frozenset(w for w in re.findall(r"[^\W\d_]+", text) if w.islower())


def _term_positions(text: str, terms: Sequence[str]) -> list[int]:
    folded = fold(text)
    out = []
    for t in terms:
        at = folded.find(t)
        while at >= 0:
            out.append(at)
            at = folded.find(t, at + 1)
    return out


def _proximity(value: Value, positions: Sequence[int]) -> float:
    """1 when a question term is right next to the value, falling off with distance."""
    if not positions:
        return 0.0
    gap = min(
        0 if value.start <= p < value.end else min(abs(p - value.start), abs(p - value.end))
        for p in positions
    )
    return 1.0 / (1.0 + gap / 20.0)


def _flanked(value: Value, per_term: Sequence[Sequence[int]]) -> float:
    """How closely the question's terms surround the value: the mean, over the terms the
    sentence holds, of each one's closeness. In "CEO NVIDIA Jensen Huang serta CEO Meta
    Mark Zuckerberg", asked who the CEO of Nvidia is, both names sit next to "CEO", but
    only Jensen Huang sits next to "NVIDIA" too."""
    held = [p for p in per_term if p]
    return sum(_proximity(value, p) for p in held) / len(held) if held else 0.0


ALIAS_MIN = 0.8  # bundled e5 query-query cosine of 英伟达 and NVIDIA: 0.868
ALIAS_MARGIN = 0.015  # ... over the next name (of 11 names tried: Microsoft 0.843)
MAX_ALIAS_NAMES = 40


UNRESOLVED = "<an organisation named in another script>"  # matches no word of a text


def _cross_script_aliases(
    orgs: Sequence[str],
    passages: Sequence[Passage],
    roles: Collection[str],
    embedder: SentenceEmbedder,
) -> set[str]:
    """The Latin spelling in the passages of the organisations (`orgs`) a Chinese
    who-question names in Chinese script ("英伟达" -> "nvidia" in "谁是英伟达的首席执行
    官？"): the passages' capitalised name within reach of a role (`roles`) nearest in
    meaning, when it stands out from the next one. Without it, the question had no
    organisation to bind the role to and answered Zuckerberg, the other CEO of the
    sentence naming both. With no Latin
    name found, the organisation is still asked about: a role sentence naming another one
    gives the role "elsewhere" (`rag.binding`), and none left, the question is declined
    rather than answered with another company's CEO."""
    import numpy as np

    if not orgs:
        return set()
    found: list[str] = []
    for p in passages:
        found += latin_names(p.text, lower_words(p.text), roles)
    names = list(dict.fromkeys(found))[:MAX_ALIAS_NAMES]
    # the organisation's own characters bind a Chinese sentence ("苹果的CEO"); named
    # by no Latin name, it still tells another organisation's role holder from its own
    out = {t for org in orgs for t in tokenize(org)} | {UNRESOLVED}
    if len(names) < 2:
        return out
    vectors = np.asarray(embedder.queries([*orgs, *names]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    sims = vectors[: len(orgs)] @ vectors[len(orgs) :].T
    for row in sims:
        first, second = np.argsort(-row)[:2]
        if row[first] >= ALIAS_MIN and row[first] - row[second] >= ALIAS_MARGIN:
            out.update(tokenize(names[first]))
    return out


def candidates(
    question: str,
    passages: Sequence[Passage],
    weights: Mapping[str, float] | None = None,
    near: Mapping[str, Sequence[str]] | None = None,
    embedder: SentenceEmbedder | None = None,
    context: DocumentContext | None = None,
    also: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Every sentence of the top passages that shares something with the question (with an
    embedder, every sentence), scored, best first. `context`: asked who said something, a
    sentence without a speaker of its own takes its section's (`_section_speaker`), so a
    labelled sentence is not preferred for its label alone. `weights`: idf of the question's terms;
    `near`: index terms resembling question terms it lacks; `embedder`: adds dense
    question-sentence similarity; `also`: terms of the question before a follow-up, with
    their weights ("it" in "and on how many GPUs was it trained?" is what it asked about)."""
    near = near or {}
    terms = list(dict.fromkeys(tokenize(question)))
    # the words saying which document to look in ("per the a16z article") say nothing of
    # the sentence that answers: the article's headline holds them (`rag.pointers`)
    pointer = pointer_terms(question)
    if any(t not in pointer for t in terms):
        terms = [t for t in terms if t not in pointer]
    w = {t: (weights or {}).get(t, 1.0) for t in terms}
    for t, weight in (also or {}).items():
        if t not in w:
            terms.append(t)
            w[t] = weight
    kind = answer_type(question)
    speaker = asks_speaker(question)
    names = question_names(question)
    aliases = {o for t in terms if t in names for o in near.get(t, ())}
    # asked who holds a role at an organisation: sentences giving the role to another
    # organisation are left out (`rag.binding`)
    roles = asked_roles(question) if kind == "name" and not speaker else []
    # an organisation named in Chinese script: only a sentence naming the role answers
    # (a Chinese sentence that merely names 微软 or 苹果 gave "Meta" and "Vision Pro")
    orgs = cjk_organisations(question) if roles else []
    role_only = bool(orgs)
    if orgs and embedder is not None:
        cross = _cross_script_aliases(orgs, passages[:MAX_PASSAGES], roles, embedder)
        aliases |= cross
        # its Latin spelling is a word of the question's too: a value next to it is
        # flanked by it ("CEO NVIDIA Jensen Huang serta CEO Meta Mark Zuckerberg")
        for t in sorted(cross):
            if t.isascii() and t != UNRESOLVED and t not in w:
                terms.append(t)
                w[t] = max(w.values(), default=1.0)
    asked = names | aliases
    # the question's words for the role ("首席", "执行官" of 首席执行官): a sentence naming
    # the role in another language ("CEO") holds them
    role_terms = {t for r in roles for t in tokenize(r)} & set(terms)
    bound_elsewhere = False
    versions = versioned_names(question)
    said_by = _SpeakerTerms(context, names) if context is not None and names else None
    # asked which company or brand, a person is no answer ("Mark Zuckerberg" for "Which
    # sunglasses brand ...?"): the persons the documents give a role or a speaker's label
    persons = (
        _persons(passages[:MAX_PASSAGES], context)
        if kind == "name" and not speaker and asks_organisation(question)
        else set()
    )
    out: list[Candidate] = []
    wordless: list[Candidate] = []  # sentences sharing no word with the question
    seen: set[str] = set()
    top = list(passages[:MAX_PASSAGES])
    # (and the sentence each goes on with, where the next chunk is not among them: read
    # alone, with its passage's rank)
    follow = _continuations(passages, MAX_PASSAGES, context) if context is not None else []
    readings = [(r, p, None) for r, p in enumerate(top)] + [(r, p, u) for r, p, u in follow]
    for rank, p, only in readings:
        # a line that states nothing (a page's menu) is neither quoted nor paired: two
        # menu lines together passed for a statement of four words; nor is a longer line
        # amid such lines (an app advert in the page's footer)
        units = [only] if only else statements(p.text, _units(p.text))
        spans = list(units)
        if kind != "other" and not only:
            # a sentence that sets the scene and the next one that holds the value
            # ("Say I want a Pixar picture of me. That costs a tenth of a cent."), where
            # nothing stands between them
            spans += [
                (units[i][0], units[i + 1][1])
                for i in range(len(units) - 1)
                if not p.text[units[i][1] : units[i + 1][0]].strip()
                # (nor across a speaker's label: the next sentence is another's turn)
                and not any(
                    m.start("label") > units[i][0]
                    for m in LABEL_LINE.finditer(p.text, units[i][0], units[i + 1][1])
                )
            ]
        for a, b in spans:
            text = p.text[a:b]
            if len(text) < MIN_SENTENCE_CHARS:
                continue
            key = " ".join(text.split())
            if key in seen:  # overlapping chunks repeat sentences
                continue
            pair = (a, b) not in units
            if versions and about_other_version(versions, text):
                continue  # about Llama 2 where Llama 3 is asked about (`rag.versions`)
            role_named = bool(roles) and names_role(text, roles)
            if role_only and not role_named:
                continue
            where = binding(text, roles, asked, lower_words(p.text)) if roles else None
            if where == "elsewhere":
                bound_elsewhere = True
                continue
            if pair and where == "here":
                where = None  # the name may sit in the other sentence than the value
            have = set(tokenize(text))
            if said_by is not None:
                # asked what a speaker said ("According to Daphne Koller, ..."): every
                # sentence of their turn holds their name, not only the one their label
                # opens (which otherwise won on the name alone)
                have |= said_by(p, a, b)
            if role_terms and role_named:
                have |= role_terms
            credits = {t: _credit(t, have, near.get(t, ())) for t in w}
            silent = not any(credits.values())
            if silent and (embedder is None or pair):
                continue
            cand = Candidate(p, a, b, text, rank, 0.0)
            cand.bound = where == "here"
            cand.credits = credits
            cand.pair = pair
            cand.follows = only is not None
            # a sentence that asks ("## 15 Apakah manusia masih perlu berpartisipasi?",
            # a heading; an interviewer's question) states no value, whatever it holds
            # (but someone said it: asked who, its speaker is the value)
            if kind != "other" and (speaker or not asks(text)):
                # (a term held with an affix places values too: istri in "istrinya, Lori")
                per_term = [_term_positions(text, [t]) for t in terms if credits.get(t)]
                positions = [at for found in per_term for at in found]
                # (read once: the dates date the values and the sentence, below)
                dates = date_values(text, question) if kind == "number" else []
                dated = _dated(dates)
                near_first = sorted(
                    (
                        (_flanked(v, per_term), _proximity(v, positions), v)
                        for v in values_in(text, kind, question, aliases)
                    ),
                    key=lambda fpv: (
                        not fpv[2].strong,
                        any(
                            a - DATED_REACH <= fpv[2].end <= a
                            and not _CLAUSE_BREAK.search(text, fpv[2].end, a)
                            for a in dated
                        ),
                        -fpv[0],
                        -fpv[1],
                    ),
                )
                if persons:
                    near_first = [
                        fpv for fpv in near_first if fold(fpv[2].text.split()[-1]) not in persons
                    ]
                if kind == "name" and not speaker:
                    # one capitalised word the passage also writes in lower case is a
                    # word, not a name ("• Salah satu Pendiri & CEO ...": pendiri,
                    # founder), where the sentence has a name besides (a company may be
                    # a word too: Inflection, Runway)
                    lower = lower_words(p.text)
                    named = [
                        fpv for fpv in near_first if " " in fpv[2].text or fpv[2].key not in lower
                    ]
                    near_first = named or near_first
                cand.values = [v for _, _, v in near_first]
                cand.flanked = [f for f, _, _ in near_first]
                cand.proximity = max((p for _, p, _ in near_first), default=0.0)
                if kind == "number":
                    # (a date relative to the article's time, "by the end of the year",
                    # is the present the question asks about, not another year)
                    cand.unasked_year = any(not relative(v) for v in dates)
                if (
                    speaker
                    and not cand.values
                    and context is not None
                    and not pair
                    and not text.lstrip().startswith("#")  # a heading says nothing
                ):
                    who = _section_speaker(context, p, a)
                    if who is not None:
                        cand.values, cand.flanked = [Value(who[0], 0, 0, fold(who[0]))], [0.0]
                        cand.section = who
            if cand.pair and not _pair_helps(cand, p.text, units):
                continue
            seen.add(key)
            (wordless if silent else out).append(cand)
    if bound_elsewhere and not any(_may_answer(c, asked) for c in out + wordless):
        # the passages give the role to other organisations only ("Who is the CEO of
        # Apple?" over a list of other companies' CEOs), and no sentence names a person
        # beside the organisation asked about ("Apple has been run by Tim Cook"): none
        # answers
        return []
    _add_coverage(out, w)
    # meaning counts as much as the words leave open: nothing once a sentence holds
    # WORDS_DECIDE of the question's terms (the words are the better evidence there;
    # measured on the gold dev half), fully when none does (a question over text in
    # another script: XQuAD en->zh answers found 0.30 -> 0.58 on dev questions). Only
    # then are sentences sharing no word with the question candidates at all.
    dense_weight = 0.0
    if embedder is not None:
        # (a speaker's name, credited to each sentence of their turns, says where to look,
        # not what: it does not count towards the words deciding alone)
        spoken = said_by.found if said_by is not None else set()
        top_coverage = max((_coverage(c, w, skip=spoken) for c in out), default=0.0)
        dense_weight = DENSE_WEIGHT * max(0.0, 1.0 - top_coverage / WORDS_DECIDE)
        if dense_weight > 0:
            out += wordless
    if kind == "name" and not speaker:  # a speaker is expected to speak more than once
        _drop_topic_names(out)
    top_cov = max((c.coverage for c in out), default=0.0)
    for c in out:
        c.score = c.coverage + RANK_PRIOR / (c.rank + 1)
        if c.values:
            strength = 1.0 if any(v.strong for v in c.values) else 0.5
            if dense_weight == 0 and top_cov > 0:
                strength *= min(1.0, c.coverage / (BONUS_SHARE * top_cov))
            bonus = NAME_BONUS if kind == "name" and not speaker else TYPE_BONUS
            c.score += strength * bonus + PROXIMITY_BONUS * c.proximity
        if c.unasked_year:
            c.score -= YEAR_PENALTY
        if c.pair:
            c.score -= PAIR_PENALTY
    for c in out:
        c.words = c.score  # before meaning is added: what supporting quotes are held to
        # ranks the sentence that gives the asked role to the asked organisation first,
        # without raising the bar for the quotes that support it
        c.score += BOUND_BONUS if c.bound else 0.0
    if embedder is not None and dense_weight > 0 and out:
        _add_dense(question, out, embedder)
        for c in out:
            c.score += dense_weight * c.dense
    if kind != "other":
        _add_agreement(out, kind)
    out.sort(key=lambda c: (-c.score, c.passage.n, c.start))
    return out


def _persons(passages: Sequence[Passage], context: DocumentContext | None) -> set[str]:
    """The last words (folded) of the persons the passages' documents give a role
    ("CEO perusahaan Mark Zuckerberg") or a speaker's label ("Ali Ghodsi, Databricks:")."""
    texts: dict[str, str] = {}
    whole: set[str] = set()  # documents read whole
    for p in passages:
        if p.doc_id in whole:
            continue
        doc = context.document_text(p.doc_id) if context is not None else None
        if doc is not None:
            whole.add(p.doc_id)
        texts[p.doc_id] = doc if doc is not None else texts.get(p.doc_id, "") + "\n" + p.text
    out: set[str] = set()
    for text in texts.values():
        out |= person_surnames(text)
        out.update(fold(who.split()[-1]) for _m, who in speaker_labels(text))
    return out


class _SpeakerTerms:
    """For a passage and an offset in it, the question's name terms that the speaker
    whose turn holds it is called by (`_section_speaker`), else none; `found`: every
    such term met so far."""

    def __init__(self, context: DocumentContext, names: Collection[str]) -> None:
        self.context, self.names = context, set(names)
        self.cache: dict[tuple[str, int], set[str]] = {}
        self.found: set[str] = set()
        # per passage: its labels and headings, and the speaker at its start (the document
        # is read once per passage, not once per sentence)
        self.marks: dict[str, list[tuple[int, tuple[str, int] | None]]] = {}
        self.opening: dict[str, tuple[str, int] | None] = {}

    def __call__(self, p: Passage, start: int, end: int) -> set[str]:
        marks = self._marks(p)
        inside = [(at, who) for at, who in marks if start <= at < end]
        if inside:
            # a unit opening with its speaker's label ("Mira Murati, OpenAI:\n\n...") is
            # theirs; one with a heading, or a label further in, spans two: nobody's
            at, found = inside[0]
            if len(inside) > 1 or found is None or p.text[start:at].strip(" \t\n•*-"):
                return set()
        else:
            before = [who for at, who in marks if at < start]
            found = before[-1] if before else self.opening[p.chunk_id]
        return self._terms(p.doc_id, found[1], found[0]) if found else set()

    def _marks(self, p: Passage) -> list[tuple[int, tuple[str, int] | None]]:
        """The speaker labels (name, start in the document) and headings (None) of `p`,
        by offset, read once per passage; `opening[chunk_id]`: the speaker whose turn
        holds its start (`_section_speaker`)."""
        if p.chunk_id not in self.marks:
            marks: list[tuple[int, tuple[str, int] | None]] = [
                (m.start(), None) for m in SECTION.finditer(p.text)
            ]
            for m, who in speaker_labels(p.text):
                marks.append((m.start("label"), (who, p.start + m.start("label"))))
            self.marks[p.chunk_id] = sorted(marks, key=lambda mark: mark[0])
            found = _section_speaker(self.context, p, 0)
            self.opening[p.chunk_id] = (found[0], found[1]) if found else None
        return self.marks[p.chunk_id]

    def _terms(self, doc_id: str, at: int, who: str) -> set[str]:
        """The question's terms naming `who`: their surname at least ("Mark" alone may
        be another Mark)."""
        key = (doc_id, at)
        if key not in self.cache:
            terms = tokenize(who)
            self.cache[key] = (
                set(terms) & self.names if terms[-1:] and terms[-1] in self.names else set()
            )
            self.found |= self.cache[key]
        return self.cache[key]


DATED_REACH = 45  # characters between an amount and the past date it is given for
# ... in one clause ("$1 miliar, dan pada tahun 2025 $10 miliar": 2025 is the second's)
_CLAUSE_BREAK = re.compile(r"[,;:.，；。]|\b(?:and|dan|but|tetapi|namun)\b|而|和|但")


def _dated(dates: Sequence[Value]) -> list[int]:
    """Where a sentence's dates that the question leaves open (`date_values`) start, of
    those that date an amount: a year, or "last year" ("$2 juta ... untuk dilatih tahun
    lalu, dan ... lagi dengan setengah juta dolar": asked what retraining costs, last
    year's figure is the other one)."""
    return [d.start for d in dates if not relative(d) or d.key == "~last year"]


def _may_answer(cand: Candidate, asked: Collection[str]) -> bool:
    """Asked who holds a role at an organisation: does this sentence give it the role, or
    name a person (two words or more) beside it?"""
    if cand.bound:
        return True
    if not any(t in asked for t in tokenize(cand.text)):
        return False
    return any(" " in v.text for v in cand.values)


def _pair_helps(cand: Candidate, text: str, units: Sequence[tuple[int, int]]) -> bool:
    """A two-sentence quote only where the first sentence holds no value and the second
    does: the question's words in one, the answer in the next."""
    first = next(u for u in units if u[0] == cand.start)
    split = first[1] - cand.start
    return bool(cand.values) and all(v.start >= split for v in cand.values)


def _drop_topic_names(cands: list[Candidate]) -> None:
    """A name that many candidate sentences mention is what the passages are about
    ("Zuckerberg" in an interview with him), not the name the question asks for."""
    # counted over single sentences: a two-sentence candidate repeats one of them, so a
    # name in one line of a list ("• OpenAI CTO Mira Murati") would count three times
    folded = [fold(c.text) for c in cands if not c.pair]
    if len(folded) < TOPIC_MIN:
        return
    for c in cands:
        if len(c.credits) > 1 and min(c.credits.values()) == 1.0:
            continue  # every word of the question around it: the name asked for
        kept, flanked = [], []
        for i, v in enumerate(c.values):
            # "Mark Zuckerberg" is the topic when "Zuckerberg" is everywhere
            word = max(re.findall(r"[^\W\d_]+", v.key) or [v.key], key=len)
            count = sum(1 for f in folded if word in f)
            if count / len(folded) <= TOPIC_SHARE or count < TOPIC_COUNT:
                kept.append(v)
                flanked.extend(c.flanked[i : i + 1])
        if len(kept) != len(c.values):
            c.values, c.flanked = kept, flanked
            c.proximity = c.proximity if kept else 0.0


def _coverage(c: Candidate, w: Mapping[str, float], skip: Collection[str] = ()) -> float:
    """The idf-weighted share of the question's terms (those not in `skip`) a sentence
    holds."""
    total = sum(v for t, v in w.items() if t not in skip)
    got = sum(v * c.credits.get(t, 0.0) for t, v in w.items() if t not in skip)
    return got / total if total else 0.0


def _add_coverage(cands: list[Candidate], w: Mapping[str, float]) -> None:
    """Coverage: the idf-weighted share of the question's terms a sentence holds."""
    for c in cands:
        c.coverage = _coverage(c, w)


def _add_dense(question: str, cands: list[Candidate], embedder: SentenceEmbedder) -> None:
    """Cosine similarity of question and each sentence, less the embedder's bias for the
    question's own language, rescaled to 0..1 across the candidates (an embedder's raw
    cosines sit in a narrow band). A two-sentence quote takes the better of its sentences'
    (they are embedded already; the pair is not)."""
    import numpy as np

    single = [c for c in cands if not c.pair]
    if not single:
        return
    q = np.asarray(embedder.query(question), dtype=np.float32)
    m = np.asarray(embedder.passage([" ".join(c.text.split()) for c in single]), dtype=np.float32)

    def bias(c: Candidate) -> float:
        same = same_language(embedder.language, c.passage.lang)
        return embedder.language_bias if same else 0.0

    sims = {id(c): float(x) - bias(c) for c, x in zip(single, m @ q, strict=True)}
    for c in cands:
        if c.pair:
            inside = [
                sims[id(o)]
                for o in single
                if o.passage is c.passage and c.start <= o.start and o.end <= c.end
            ]
            sims[id(c)] = max(inside, default=min(sims.values()))
    lo, hi = min(sims.values()), max(sims.values())
    for c in cands:
        c.dense = (sims[id(c)] - lo) / (hi - lo) if hi > lo else 0.0


def _add_agreement(cands: list[Candidate], kind: AnswerType) -> None:
    """A sentence whose value another good sentence of another document states too."""
    if not cands:
        return
    best = max(c.score for c in cands)
    pool = [c for c in cands if c.values and c.score >= best * AGREE_POOL_FLOOR]
    for c in pool:
        others = {
            o.passage.doc_id
            for o in pool
            if o.passage.doc_id != c.passage.doc_id
            and not o.follows
            and any(agrees(v, o.values, kind) for v in c.values[:1])
        }
        c.agreement = min(1.0, float(len(others)))
        c.score += AGREE_BONUS * c.agreement
        c.words += AGREE_BONUS * c.agreement


# the answer -----------------------------------------------------------------------------


@dataclass
class Extraction:
    """The model-free answer: its text, the quotes (best first) and the value shown."""

    text: str
    quotes: list[Quote]
    value: str | None = None
    # sources cited beyond the retrieved passages (the chunk holding a speaker's label)
    extra: list[Passage] = field(default_factory=list)

    @property
    def cited(self) -> set[int]:
        return {q.n for q in self.quotes}


def _best_value(
    best: Candidate, cands: Sequence[Candidate], kind: AnswerType, noun: str | None = None
) -> Value | None:
    """The value of the best sentence that other good sentences agree on, else the one
    nearest the question's terms (values_in lists the likeliest first). Asked how many of
    something, only values counting that thing are chosen where the sentence has one
    ("405 miliar parameter dan dilatih pada 16.000 GPU H100": 16.000 H100s)."""
    if not best.values:
        return None
    if noun is not None:
        counting = [i for i, v in enumerate(best.values) if counts(v, best.text, noun)]
        if counting and len(counting) < len(best.values):
            best = replace(
                best,
                values=[best.values[i] for i in counting],
                flanked=[best.flanked[i] for i in counting if i < len(best.flanked)],
            )
    others = [
        o for o in cands if o.passage.doc_id != best.passage.doc_id and o.values and not o.follows
    ]
    # agreement only chooses among values the question's terms surround about as closely
    # as the first: a name another document repeats is often the topic, not the answer
    closest = best.flanked[0] if best.flanked else 0.0
    close = [
        v
        for i, v in enumerate(best.values)
        if i >= len(best.flanked) or best.flanked[i] >= closest - FLANK_MARGIN
    ]
    agreed = [v for v in close if any(agrees(v, o.values, kind) for o in others[:8])]
    return agreed[0] if agreed else best.values[0]


def choose(
    question: str, cands: Sequence[Candidate], language: str | None = None
) -> tuple[list[Candidate], Value | None]:
    """The best sentence and up to two others that agree with it (the same value), other
    documents first; one in the question's `language` leads when the best is in another
    and it states the same value (the asker checks it in their own language)."""
    if not cands:
        return [], None
    kind = answer_type(question)
    best = cands[0]
    noun = counted(question) if kind == "number" else None
    value = _best_value(best, cands, kind, noun) if kind != "other" else None
    chosen = [best]
    if asks_speaker(question):
        return chosen, value  # another sentence by the same speaker says something else
    ratio = SUPPORT_FLOOR if value else OTHER_SUPPORT_FLOOR
    # where the best sentence shares words with the question, supporting ones are held to
    # the words' score: meaning picks the best sentence but is too loose to add quotes
    by_words = best.coverage > 0
    floor = (best.words if by_words else best.score) * ratio
    support = [
        c
        for c in cands[1:]
        if (c.words if by_words else c.score) >= floor
        and (value is None or agrees(value, c.values, kind))
        and (value is not None or kind == "other")
        # a sentence sharing no word with the question supports only a best one that
        # shares none either (across scripts); else meaning alone is too weak a reason
        and (c.coverage > 0 or best.coverage == 0)
        and not c.follows
    ]
    support.sort(key=lambda c: (c.passage.doc_id == best.passage.doc_id, -c.score))
    for c in support:
        if len(chosen) >= MAX_QUOTES:
            break
        if any(_overlaps(c, o) or _restates(c, o) for o in chosen):
            # the same sentence again: from an overlapping chunk, as a pair, or written
            # twice in the document (a pull quote, a headline repeated over its article)
            continue
        chosen.append(c)
    if language and value is not None and not same_language(language, best.passage.lang):
        mine = next((c for c in chosen[1:] if same_language(language, c.passage.lang)), None)
        if mine is not None:
            chosen.remove(mine)
            chosen.insert(0, mine)
            # the value as that sentence writes it (340.000, not 340,000)
            value = next((v for v in mine.values if agrees(v, [value], kind)), value)
    return chosen, value


_LABEL_OPENS = re.compile(r"\W{0,3}[A-Z][^:：\n.!?]{0,60}[:：]\s")


def _with_next(best: Candidate) -> Candidate:
    """Asked why, the best sentence and the one after it in its paragraph: the reason is
    often the next sentence ("... moved FAIR next to the product group. The aim was to
    reach its billions of users sooner."), where the best one restates the question."""
    p = best.passage
    if best.pair or asks(best.text):
        return best
    for a, b in statements(p.text, _units(p.text)):
        if a < best.end:
            continue
        gap = p.text[best.end : a]
        text = p.text[a:b]
        if (
            gap.strip()
            or "\n" in gap
            or len(text) < MIN_SENTENCE_CHARS
            or asks(text)
            or LABEL_LINE.match(text)
            or _LABEL_OPENS.match(text)  # "Huang: ..." the next speaker's turn
            or text.lstrip().startswith("#")
        ):
            return best
        return replace(best, end=b, text=p.text[best.start : b], pair=True)
    return best


def _gist(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


RESTATES_SHARE = 0.9  # ... and is no shorter than this share of it


def _restates(a: Candidate, b: Candidate) -> bool:
    """Does one sentence hold the other's words whole (punctuation aside), and little
    else? ("The model is safe." is no restatement of "No study shows the model is
    safe.")"""
    x, y = sorted((_gist(a.text), _gist(b.text)), key=len)
    return bool(x) and x in y and len(x) >= RESTATES_SHARE * len(y)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    """Do two candidates quote overlapping text of the same document?"""
    if a.passage.doc_id != b.passage.doc_id:
        return False
    a0, a1 = a.passage.start + a.start, a.passage.start + a.end
    b0, b1 = b.passage.start + b.start, b.passage.start + b.end
    return a0 < b1 and b0 < a1


# the answer's own words, in the question's language as the abstention's are (en, id,
# zh, vi; English for any other)
SAID_BY_IN = {  # the attribution of a quoted sentence, under it
    "en": "Said by:",
    "id": "Dikatakan oleh:",
    "zh": "说话人：",
    "vi": "Người nói:",
}
ALSO_IN = {  # the sentences that agree with the best one
    "en": "Also stated in:",
    "id": "Juga disebutkan dalam:",
    "zh": "其他来源也提到：",
    "vi": "Cũng được nêu trong:",
}


def said_by_label(lang: str) -> str:
    return SAID_BY_IN.get(language_key(lang), SAID_BY_IN["en"])


def also_label(lang: str) -> str:
    return ALSO_IN.get(language_key(lang), ALSO_IN["en"])


def compose(quotes: Sequence[Quote], value: str | None, lang: str = "en") -> str:
    """The answer text: the value in bold, the best sentence quoted with its [n], the
    sentence naming who said it (if that was asked), then the sentences that agree with
    it as a list; its own words in `lang`."""
    if not quotes:
        return "No sentence of the retrieved passages matches the question."
    first = f"{quoted(quotes[0].text)} [{quotes[0].n}]"
    lines = [f"**{value}** — {first}" if value else first]
    said = [q for q in quotes[1:] if q.role == ATTRIBUTION]
    rest = [q for q in quotes[1:] if q.role != ATTRIBUTION]
    lines += [f"{said_by_label(lang)} {quoted(q.text)} [{q.n}]" for q in said]
    if rest:
        lines += ["", also_label(lang)]
        lines += [f"- {quoted(q.text)} [{q.n}]" for q in rest]
    return "\n".join(lines)


def _speaker_after(best: Candidate, passages: Sequence[Passage]) -> tuple[str, Quote] | None:
    """Asked who said a sentence that names nobody: the attribution that closes its
    quotation ("..., kata Huang.") within SPEAKER_REACH characters after it, in a
    retrieved passage of the same document (a chunk often ends mid-quotation), with the
    sentence that holds it as the quote that shows it."""
    doc, end = best.passage.doc_id, best.passage.start + best.end
    # the next speaker's label ends the search ("..., kata X" after it is about another)
    labels = [
        p.start + m.start("label")
        for p in passages
        if p.doc_id == doc
        for m, _ in speaker_labels(p.text)
    ]
    stop = min((at for at in labels if at >= end), default=end + SPEAKER_REACH + 1)
    found: list[tuple[int, str, Quote]] = []
    for p in passages:
        if p.doc_id != doc:
            continue
        for a, b in _units(p.text):
            at = p.start + a
            if p.start + b <= end or at > end + SPEAKER_REACH:
                continue
            text = p.text[a:b]
            for m in ATTRIBUTION_RE.finditer(text):
                where = at + m.start("who")
                before = text[: m.start()]
                # the attribution must close this quotation, not open another
                if end <= where <= min(end + SPEAKER_REACH, stop) and "“" not in before:
                    who = m.group("who").rstrip(".")
                    quote = Quote(p.n, doc, at, p.start + b, text, p.page, role=ATTRIBUTION)
                    found.append((where - end, who, quote))
                    break
    if not found:
        return None
    _, who, quote = min(found, key=lambda f: f[0])
    return who, quote


_SPACE = re.compile(r"\s*")


def _continuations(
    passages: Sequence[Passage], top: int, context: DocumentContext
) -> list[tuple[int, Passage, tuple[int, int]]]:
    """For each of the `top` passages whose document goes on in a chunk not among them:
    (the passage's rank, that chunk, the span in it of the sentence that follows the
    passage). The chunk is a retrieved passage further down, else a new source numbered
    after `passages`. A chunk ends where its tokens run out, not where its thought does:
    "Saya pikir hal-hal ini akan terus relevan untuk 3 atau 4 tahun ke depan" opened the
    next chunk after the scaling law it is about."""
    out: list[tuple[int, Passage, tuple[int, int]]] = []
    new = len(passages) + 1
    for rank, p in enumerate(passages[:top]):
        text = context.document_text(p.doc_id)
        if text is None or text[p.start : p.end] != p.text:
            continue  # re-ingested since: the offsets do not hold
        at = _SPACE.match(text, p.end).end()  # type: ignore[union-attr]  # (always matches)
        holder = next(
            (i for i, q in enumerate(passages) if q.doc_id == p.doc_id and q.start <= at < q.end),
            None,
        )
        if at >= len(text) or (holder is not None and holder < top):
            continue
        nxt = passages[holder] if holder is not None else context.chunk_at(p.doc_id, at, new)
        if nxt is None or any(o[1].chunk_id == nxt.chunk_id for o in out):
            continue
        units = statements(nxt.text, _units(nxt.text))
        first = next((u for u in units if u[0] >= at - nxt.start), None)
        if first is not None and first[0] == at - nxt.start:
            out.append((rank, nxt, first))
            if holder is None:
                new += 1
    return out


def _section_speaker(
    context: DocumentContext, p: Passage, offset: int
) -> tuple[str, int, int] | None:
    """(name, start, end of the label in the document) of the speaker whose section holds
    passage `p`'s character `offset` (`index.speakers.speaker_at`)."""
    text = context.document_text(p.doc_id)
    if text is None or text[p.start : p.end] != p.text:
        return None  # re-ingested since: the offsets do not hold
    return speaker_at(text, p.start + offset)


def _speaker_before(
    best: Candidate, passages: Sequence[Passage], context: DocumentContext
) -> tuple[str, Quote, Passage | None] | None:
    """The speaker of the best sentence's section (`_section_speaker`), with the label
    quoted from the retrieved passage that holds it, else as a new source: the label's
    own span of the chunk that holds it (no overlap with the retrieved passages)."""
    found = best.section or _section_speaker(context, best.passage, best.start)
    text = context.document_text(best.passage.doc_id)
    if found is None or text is None:
        return None
    who, a, b = found
    doc = best.passage.doc_id
    holder = next((p for p in passages if p.doc_id == doc and p.start <= a and b <= p.end), None)
    extra = None
    if holder is None:  # a source of its own: the label's span, numbered after the others
        extra = context.span_passage(doc, a, b, len(passages) + 1)
        if extra is None or (extra.start, extra.end) != (a, b):
            return None
        holder = extra
    quote = Quote(holder.n, doc, a, b, text[a:b], holder.page, role=ATTRIBUTION)
    return who, quote, extra


def answer_first(
    question: str,
    passages: Sequence[Passage],
    *,
    weights: Mapping[str, float] | None = None,
    near: Mapping[str, Sequence[str]] | None = None,
    embedder: SentenceEmbedder | None = None,
    context: DocumentContext | None = None,
    also: Mapping[str, float] | None = None,
) -> Extraction:
    """The model-free answer to `question` from `passages`. `context`: the documents
    around them, for a speaker's label above a quoted sentence; `also`: a follow-up's
    earlier terms (`candidates`)."""
    cands = candidates(question, passages, weights, near, embedder, context, also)
    if cands and not cands[0].values and asked_grain(question) is not None:
        # asked which quarter, decade or month, a sentence naming none does not answer
        # where one nearly as good does ("扎克伯格是在哪个季度的分析师电话会上暗示...?":
        # the sentence on his blog post, 0.896, over "...pada kuartal pertama tahun ini",
        # 0.887, which meaning alone ranked second across scripts)
        floor = GRAIN_SCORE_SHARE * cands[0].score
        dated = next((c for c in cands[1:] if c.values and c.score >= floor), None)
        if dated is not None:
            cands = [dated, *(c for c in cands if c is not dated)]
    # the question's language as retrieval read it; without dense search, read here
    language = embedder.language if embedder else detect_language(question)
    chosen, value = choose(question, cands, language)
    if (
        chosen
        and value is None
        and answer_type(question) == "number"
        and asks_money(question)
        and not states_money(chosen[0].text)
    ):
        # asked how much was paid, and the best sentence names no currency at all: a
        # sentence that does and holds the question's words about as well answers
        # ("顶尖AI研究人员的薪酬包是多少钱?": "...高达百万美元以上的薪酬包", 0.16 of the words
        # against the best one's 0.41); else the passages do not hold it ("How much did
        # Meta pay Nvidia for its H100s?" quoted the sentence on their number, and the
        # only amount near was Reality Labs' spending, 0.07 against 0.36). Every money
        # question of the dev sets that the documents answer had its amount in the best
        # sentence. A currency the value reader missed ("一百亿美元") keeps the quote.
        floor = MONEY_WORDS_SHARE * chosen[0].coverage
        paid = [c for c in cands if c.coverage > 0 and c.coverage >= floor and states_money(c.text)]
        if not paid:
            return Extraction(compose([], None), [])
        first = paid[0]
        chosen, value = choose(question, [first, *(c for c in cands if c is not first)], language)
    if chosen and value is None and asks_why(question):
        # (asked who or when something happened "and why", the value answers)
        chosen[0] = _with_next(chosen[0])
        chosen[1:] = [c for c in chosen[1:] if not _overlaps(c, chosen[0])]
    # a sentence read in the chunk after a retrieved one (`_continuations`) cites that
    # chunk: a source of its own, numbered after the others
    extra: list[Passage] = []
    for c in chosen:
        if c.passage.n > len(passages):
            known = next((e for e in extra if e.chunk_id == c.passage.chunk_id), None)
            c.passage = known or replace(c.passage, n=len(passages) + len(extra) + 1)
            if known is None:
                extra.append(c.passage)
    shown_value = value.text if value else None
    if value is not None and not same_language(language, chosen[0].passage.lang):
        shown_value = glossed(value, language_key(language))  # 今年年底 (the end of the year)
    quotes = [c.quote(shown_value if i == 0 else None) for i, c in enumerate(chosen)]
    # asked who said it: the attribution closing the quotation, else (the value is none,
    # or its section's label) that label, quoted
    if chosen and asks_speaker(question) and (value is None or chosen[0].section):
        speaker = _speaker_after(chosen[0], passages)
        if speaker is None and context is not None:
            before = _speaker_before(chosen[0], [*passages, *extra], context)
            if before is not None:
                speaker = before[:2]
                extra += [before[2]] if before[2] is not None else []
        # (`choose` adds no supporting quotes to a speaker question's best sentence)
        if speaker is None:
            shown_value = None
            quotes = [replace(quotes[0], value=None)]
        else:
            shown_value, said = speaker
            quotes = [replace(quotes[0], value=shown_value), said]
    return Extraction(compose(quotes, shown_value, language), quotes, shown_value, extra)


def enable_hint(model: str) -> str:
    return (
        f'To get a written answer, install Ollama, run "ollama pull {model}" and ask again '
        "(README: Using a local model)."
    )


def model_free_note(reason: str, model: str) -> str:
    """The one line that says no model wrote the answer, why, and how to get one."""
    return f"No language model was used ({reason}): the answer quotes the sources. " + (
        enable_hint(model)
    )
