"""Evaluation against a gold set (`rag eval`): retrieval, answers, citations, abstention.

A gold set is JSONL, one question per line:
`{"id", "question", "accept": [regex, ...], "evidence": [{"file", "quote"}], "type", "lang",
"split"}`. Unanswerable questions have empty `accept` and `evidence`. `split` (optional) is
`dev` (tune on it) or `test` (report it, never tune on it); `rag eval` reports each half
next to the whole, and `--split` scores one half.

What counts as a hit: a passage *holds* an evidence item when it contains the quote
(whitespace-normalised) or when its `[start, end)` span overlaps the quote's span in the
same document's extracted text (the quote is located in the text stored in the catalog, so
a chunk boundary that cuts a quote in two still counts for both halves).

Metrics (all in [0, 1] unless they are milliseconds):
- recall@k: share of answerable questions with an evidence-holding passage among the first
  k retrieved; MRR: mean of 1/rank of the first such passage (0 beyond rank 10).
- answer accuracy: share of answerable questions whose answer matches an `accept` regex
  (case-insensitive).
- citation precision: of all passages the answers cite (answerable questions), the share
  that hold evidence. Citation recall: per answerable question whose context held evidence,
  the share of evidence-holding context passages the answer cites; averaged.
- abstention accuracy: share of unanswerable questions on which the tool abstained (mode
  `abstain`, or a model answer that cites nothing). False abstentions: the same on
  answerable questions.
- latency: p50/p95 of the whole `ask` (retrieval + answer) and of retrieval alone.

The pure functions here are shared with the benchmarks in bench/, which score stock
llama-index retrievers with exactly the same rules.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from core.errors import RagError
from core.settings import Settings
from rag.schema import Answer, Passage

DEFAULT_GOLD = Path("bench/gold.jsonl")
KS = (1, 3, 5, 10)
MRR_CUTOFF = 10
FAIL_RANK = 5  # an answerable question whose evidence is not in the top 5 is listed as failed


class GoldError(RagError):
    """The gold-set file is missing or malformed (the message names the file and line)."""


class PassageLike(Protocol):
    """What scoring needs of a retrieved passage; `rag.schema.Passage` is one."""

    @property
    def source(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


# Gold set ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    file: str
    quote: str


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    accept: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    type: str
    lang: str
    split: str = ""  # "dev" | "test" | "" (not split)

    @property
    def answerable(self) -> bool:
        return bool(self.accept or self.evidence)

    def accepts(self, answer: str) -> bool:
        return any(re.search(p, answer, re.IGNORECASE) for p in self.accept)


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise GoldError(f"{where}: field {key!r} must be a {kind.__name__}")
    return value


def parse_gold_line(line: str, where: str) -> GoldItem:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise GoldError(f"{where}: expected a JSON object")
    qid = str(obj.get("id") or "").strip()
    if not qid:
        raise GoldError(f"{where}: missing 'id'")
    question = _field(obj, "question", str, where).strip()
    if not question:
        raise GoldError(f"{where}: empty 'question'")
    accept = _field(obj, "accept", list, where) if "accept" in obj else []
    for pattern in accept:
        if not isinstance(pattern, str):
            raise GoldError(f"{where}: 'accept' must hold strings")
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise GoldError(f"{where}: bad accept regex {pattern!r}: {exc}") from None
    evidence = []
    for ev in _field(obj, "evidence", list, where) if "evidence" in obj else []:
        if not (isinstance(ev, dict) and isinstance(ev.get("file"), str)):
            raise GoldError(f"{where}: each evidence needs 'file' and 'quote' strings")
        if not isinstance(ev.get("quote"), str) or not ev["quote"].strip():
            raise GoldError(f"{where}: each evidence needs 'file' and 'quote' strings")
        evidence.append(Evidence(ev["file"], ev["quote"]))
    return GoldItem(
        id=qid,
        question=question,
        accept=tuple(accept),
        evidence=tuple(evidence),
        type=str(obj.get("type") or ("unanswerable" if not (accept or evidence) else "fact")),
        lang=str(obj.get("lang") or "?"),
        split=_split(obj, where),
    )


SPLITS = ("dev", "test")


def _split(obj: dict[str, Any], where: str) -> str:
    value = obj.get("split") or ""
    if value not in ("", *SPLITS):
        raise GoldError(f"{where}: 'split' must be 'dev' or 'test', not {value!r}")
    return str(value)


def load_gold(path: Path) -> list[GoldItem]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise GoldError(f"cannot read gold set {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise GoldError(f"gold set {path} is not UTF-8 text ({exc.reason})") from None
    items: list[GoldItem] = []
    seen: set[str] = set()
    for no, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        item = parse_gold_line(line, f"{path}:{no}")
        if item.id in seen:
            raise GoldError(f"{path}:{no}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise GoldError(f"gold set {path} holds no questions")
    return items


# Matching passages to evidence ----------------------------------------------------------


def normalise_ws(text: str) -> str:
    return " ".join(text.split())


def same_file(source: str, file: str) -> bool:
    """Does the ingested `source` path name the gold set's `file` (a trailing path)?"""
    src = Path(source.replace("\\", "/")).parts
    want = Path(file.replace("\\", "/")).parts
    return bool(want) and len(src) >= len(want) and src[-len(want) :] == want


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """The span of `quote` in `text`: exact, else with any run of whitespace matching any."""
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(map(re.escape, words)), text)
    return (m.start(), m.end()) if m else None


@dataclass(frozen=True)
class EvidenceSpan:
    """An evidence quote located in an indexed document (`start` = -1: not located)."""

    file: str
    quote: str
    norm_quote: str
    source: str | None = None
    start: int = -1
    end: int = -1


def locate_evidence(
    evidence: Iterable[Evidence], documents: Mapping[str, str]
) -> list[EvidenceSpan]:
    """Find each quote in the document text of the indexed source its `file` names."""
    out = []
    for ev in evidence:
        span = EvidenceSpan(ev.file, ev.quote, normalise_ws(ev.quote))
        for source, text in documents.items():
            if same_file(source, ev.file):
                found = find_quote(text, ev.quote)
                if found:
                    span = replace(span, source=source, start=found[0], end=found[1])
                    break
        out.append(span)
    return out


def holds(passage: PassageLike, span: EvidenceSpan) -> bool:
    if span.norm_quote and span.norm_quote in normalise_ws(passage.text):
        return True
    if span.start < 0 or span.source is None:
        return False
    if passage.source != span.source and not same_file(passage.source, span.file):
        return False
    return passage.start < span.end and span.start < passage.end


def is_relevant(passage: PassageLike, spans: Sequence[EvidenceSpan]) -> bool:
    return any(holds(passage, s) for s in spans)


def first_relevant_rank(
    passages: Sequence[PassageLike], spans: Sequence[EvidenceSpan]
) -> int | None:
    for rank, passage in enumerate(passages, 1):
        if is_relevant(passage, spans):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None], cutoff: int = MRR_CUTOFF) -> float:
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None and r <= cutoff) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]; NaN when empty."""
    if not values:
        return math.nan
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def fit_budget(
    passages: Sequence[Passage], budget_tokens: int, count: Callable[[str], int] | None = None
) -> list[Passage]:
    """The passages a context of `budget_tokens` holds, in rank order; the one that crosses
    the budget is cut to what still fits (its span shortened to match), so retrievers with
    different chunk sizes are compared on the same amount of context."""
    from index.tokens import count_tokens, encoding

    count = count or count_tokens
    out: list[Passage] = []
    left = budget_tokens
    for p in passages:
        if left <= 0:
            break
        n = count(p.text)
        if n <= left:
            out.append(p)
            left -= n
            continue
        enc = encoding()
        text = enc.decode(enc.encode(p.text, disallowed_special=())[:left])
        while text and not p.text.startswith(text):  # a multi-byte character cut in two
            text = text[:-1]
        if text:
            out.append(replace(p, text=text, end=p.start + len(text)))
        break
    return out


# Scoring one question -------------------------------------------------------------------


@dataclass
class QuestionResult:
    item: GoldItem
    retrieved: list[Passage]
    rank: int | None  # first evidence-holding passage among `retrieved` (1-based)
    answer: Answer
    ask_ms: float
    retrieve_ms: float
    accepted: bool
    abstained: bool
    cited_total: int
    cited_relevant: int
    context_relevant: int
    reasons: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    def as_json(self, snippet: int = 160) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "question": self.item.question,
            "lang": self.item.lang,
            "type": self.item.type,
            "reasons": self.reasons,
            "rank": self.rank,
            "mode": self.answer.mode,
            "answer": self.answer.answer,
            "cited": sorted(self.answer.cited),
            "retrieved": [
                {
                    "rank": i,
                    "source": p.source,
                    "start": p.start,
                    "end": p.end,
                    "score": round(p.score, 6),
                    "text": normalise_ws(p.text)[:snippet],
                }
                for i, p in enumerate(self.retrieved[:5], 1)
            ],
        }


def abstained(answer: Answer) -> bool:
    """The tool declined to answer: mode `abstain`, or a model answer citing nothing."""
    return answer.mode == "abstain" or (answer.mode == "llm" and not answer.cited)


def score_question(
    item: GoldItem,
    spans: Sequence[EvidenceSpan],
    retrieved: Sequence[Passage],
    answer: Answer,
    ask_ms: float = 0.0,
    retrieve_ms: float = 0.0,
) -> QuestionResult:
    rank = first_relevant_rank(retrieved, spans) if item.answerable else None
    relevant_n = {p.n for p in answer.passages if is_relevant(p, spans)}
    cited = {p.n for p in answer.passages if p.n in answer.cited}
    res = QuestionResult(
        item=item,
        retrieved=list(retrieved),
        rank=rank,
        answer=answer,
        ask_ms=ask_ms,
        retrieve_ms=retrieve_ms,
        accepted=item.answerable and item.accepts(answer.answer),
        abstained=abstained(answer),
        cited_total=len(cited),
        cited_relevant=len(cited & relevant_n),
        context_relevant=len(relevant_n),
    )
    if item.answerable:
        if rank is None:
            res.reasons.append(f"no evidence in the top {len(retrieved)} retrieved")
        elif rank > FAIL_RANK:
            res.reasons.append(f"evidence first at rank {rank}")
        if res.abstained:
            res.reasons.append("abstained on an answerable question")
        elif not res.accepted:
            res.reasons.append("answer matches no accept pattern")
    elif not res.abstained:
        res.reasons.append("answered an unanswerable question")
    return res


# The report -----------------------------------------------------------------------------


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def summarise(results: Sequence[QuestionResult], **info: Any) -> dict[str, Any]:
    """All metrics as one JSON-able dict (the object `rag eval --json` prints)."""
    ans = [r for r in results if r.item.answerable]
    unans = [r for r in results if not r.item.answerable]
    ranks = [r.rank for r in ans]
    out: dict[str, Any] = dict(info)
    out.update(
        {
            "questions": len(results),
            "answerable": len(ans),
            "unanswerable": len(unans),
            "modes": dict(Counter(r.answer.mode for r in results)),
        }
    )
    for k in KS:
        out[f"recall@{k}"] = round(recall_at(ranks, k), 4)
    out["mrr"] = round(mean_reciprocal_rank(ranks), 4)
    out["answer_accuracy"] = _ratio(sum(r.accepted for r in ans), len(ans))
    out["citation_precision"] = _ratio(
        sum(r.cited_relevant for r in ans), sum(r.cited_total for r in ans)
    )
    with_ctx = [r for r in ans if r.context_relevant]
    out["citation_recall"] = _ratio(
        sum(r.cited_relevant / r.context_relevant for r in with_ctx), len(with_ctx)
    )
    out["abstention_accuracy"] = _ratio(sum(r.abstained for r in unans), len(unans))
    out["false_abstention_rate"] = _ratio(sum(r.abstained for r in ans), len(ans))
    asks = [r.ask_ms for r in results]
    rets = [r.retrieve_ms for r in results]
    out["latency_ms"] = {
        "p50": round(percentile(asks, 50), 1),
        "p95": round(percentile(asks, 95), 1),
    }
    out["retrieve_ms"] = {
        "p50": round(percentile(rets, 50), 1),
        "p95": round(percentile(rets, 95), 1),
    }
    by_lang: dict[str, Any] = {}
    for lang in sorted({r.item.lang for r in results}):
        la = [r for r in ans if r.item.lang == lang]
        by_lang[lang] = {
            "questions": sum(1 for r in results if r.item.lang == lang),
            "recall@5": round(recall_at([r.rank for r in la], 5), 4) if la else None,
            "answer_accuracy": _ratio(sum(r.accepted for r in la), len(la)),
        }
    out["by_lang"] = by_lang
    splits: dict[str, Any] = {}
    for name in SPLITS:
        part = [r for r in results if r.item.split == name]
        if part and len(part) < len(results):
            sub = summarise(part)
            splits[name] = {
                key: sub[key]
                for key in (
                    "questions", "recall@1", "recall@5", "mrr", "answer_accuracy",
                    "citation_precision", "abstention_accuracy", "false_abstention_rate",
                )
            }  # fmt: skip
    if splits:
        out["splits"] = splits
    out["failures"] = [r.as_json() for r in results if r.failed]
    return out


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_report(m: dict[str, Any]) -> str:
    lines = [
        f"gold set   {m.get('gold', '?')}: {m['questions']} questions "
        f"({m['answerable']} answerable, {m['unanswerable']} unanswerable); "
        f"modes {', '.join(f'{k} {v}' for k, v in sorted(m['modes'].items()))}",
        "retrieval  "
        + "  ".join(f"recall@{k} {_fmt(m[f'recall@{k}'])}" for k in KS)
        + f"  MRR {_fmt(m['mrr'])}",
        f"answers    accuracy {_fmt(m['answer_accuracy'])}  citation precision "
        f"{_fmt(m['citation_precision'])}  citation recall {_fmt(m['citation_recall'])}",
        f"abstention accuracy {_fmt(m['abstention_accuracy'])} (unanswerable)  "
        f"false abstentions {_fmt(m['false_abstention_rate'])} (answerable)",
        f"latency    ask p50 {m['latency_ms']['p50']} ms  p95 {m['latency_ms']['p95']} ms  "
        f"(retrieval again, caches warm: p50 {m['retrieve_ms']['p50']} ms  "
        f"p95 {m['retrieve_ms']['p95']} ms)",
        "by lang    "
        + "  ".join(
            f"{lang} ({v['questions']}): recall@5 {_fmt(v['recall@5'])} "
            f"accuracy {_fmt(v['answer_accuracy'])}"
            for lang, v in m["by_lang"].items()
        ),
    ]
    for name, v in m.get("splits", {}).items():
        lines.append(
            f"{name + ' half':<10} ({v['questions']}): recall@1 {_fmt(v['recall@1'])}  "
            f"recall@5 {_fmt(v['recall@5'])}  accuracy {_fmt(v['answer_accuracy'])}  "
            f"citation precision {_fmt(v['citation_precision'])}  abstention "
            f"{_fmt(v['abstention_accuracy'])}  false abstentions "
            f"{_fmt(v['false_abstention_rate'])}"
        )
    fails = m["failures"]
    lines.append(f"failures   {len(fails)}")
    for f in fails:
        lines.append(f"  [{f['id']}] {f['question']}")
        lines.append(f"      why: {'; '.join(f['reasons'])}")
        lines.append(f"      answer ({f['mode']}): {normalise_ws(f['answer'])[:200]}")
        for p in f["retrieved"][:3]:
            name = Path(p["source"]).name
            lines.append(f"      {p['rank']}. {name} [{p['start']}:{p['end']}] {p['text'][:100]}")
    return "\n".join(lines)


# Running against the index ------------------------------------------------------------


def indexed_documents(settings: Settings) -> dict[str, str]:
    """source -> extracted text of every indexed document (from the catalog)."""
    from index.catalog import Catalog

    if not settings.catalog_path.exists():
        raise GoldError(f"nothing is indexed in {settings.data_dir}: run `rag ingest` first")
    catalog = Catalog(settings.catalog_path)
    try:
        return {d.source: catalog.document_text(d.doc_id) for d in catalog.documents()}
    finally:
        catalog.close()


def evaluate(
    settings: Settings,
    gold: Sequence[GoldItem],
    *,
    no_llm: bool = False,
    top_k: int | None = None,
    progress: Callable[[QuestionResult], None] | None = None,
) -> list[QuestionResult]:
    """Ask every gold question through the real answering pipeline and score it."""
    from rag.answer import Answerer

    documents = indexed_documents(settings)
    if not documents:
        raise GoldError(f"nothing is indexed in {settings.data_dir}: run `rag ingest` first")
    k = top_k or settings.top_k
    answerer = Answerer(settings)
    results = []
    for item in gold:
        spans = locate_evidence(item.evidence, documents)
        # the answer first: a user asks with cold caches (the sentence vectors of the rerank
        # and abstention), so it is timed before the recall@10 retrieval warms them
        t0 = time.perf_counter()
        answer = answerer.ask(item.question, no_llm=no_llm, top_k=k, id=item.id)
        t1 = time.perf_counter()
        retrieved = answerer.retrieve(item.question, max(KS[-1], k))
        t2 = time.perf_counter()
        res = score_question(
            item, spans, retrieved, answer, ask_ms=(t1 - t0) * 1000, retrieve_ms=(t2 - t1) * 1000
        )
        results.append(res)
        if progress:
            progress(res)
    return results


def unlocated(gold: Sequence[GoldItem], documents: Mapping[str, str]) -> list[str]:
    """Evidence that names no indexed document or whose quote is not in it (for warnings)."""
    return [
        f"{item.id}: {s.file}"
        for item in gold
        for s in locate_evidence(item.evidence, documents)
        if s.start < 0
    ]
