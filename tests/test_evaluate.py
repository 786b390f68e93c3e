"""rag/evaluate.py: the scoring rules on hand-made passages, and `rag eval` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import Settings
from rag.cli import main
from rag.evaluate import (
    Evidence,
    GoldError,
    GoldItem,
    find_quote,
    first_relevant_rank,
    fit_budget,
    holds,
    load_gold,
    locate_evidence,
    mean_reciprocal_rank,
    percentile,
    recall_at,
    same_file,
    score_question,
    summarise,
)
from rag.schema import Answer, Passage

ROOT = Path(__file__).resolve().parents[1]

DOC = (
    "Meta akan memiliki lebih dari 340.000 GPU Nvidia H100.\n"
    "Termasuk A100, hampir 600.000 GPU.\n"
    "Kalimat lain yang tidak relevan sama sekali."
)
SOURCE = "corpus/interview.id.txt"


def passage(n: int, start: int, end: int, source: str = SOURCE, text: str | None = None) -> Passage:
    return Passage(
        n=n,
        chunk_id=f"c{n}",
        doc_id="d1",
        source=source,
        title="t",
        lang="id",
        start=start,
        end=end,
        text=DOC[start:end] if text is None else text,
        score=1.0 / n,
    )


def item(qid: str = "q", accept: tuple[str, ...] = (r"340[.,]000",), quote: str = "") -> GoldItem:
    quote = quote or "lebih dari 340.000 GPU Nvidia H100"
    ev = (Evidence("interview.id.txt", quote),) if accept else ()
    return GoldItem(
        qid, "how many H100s?", accept, ev, "number" if accept else "unanswerable", "en"
    )


def spans_for(gold: GoldItem) -> list:  # type: ignore[type-arg]
    return locate_evidence(gold.evidence, {SOURCE: DOC})


# matching --------------------------------------------------------------------------------


def test_find_quote_exact_and_with_different_whitespace() -> None:
    assert find_quote(DOC, "340.000 GPU") == (DOC.index("340.000"), DOC.index("340.000") + 11)
    start, end = find_quote("a  340.000\n GPU b", "340.000 GPU") or (0, 0)
    assert "a  340.000\n GPU b"[start:end] == "340.000\n GPU"
    assert find_quote(DOC, "750.000 GPU") is None


def test_same_file_matches_trailing_path_components_only() -> None:
    assert same_file("corpus/interview.id.txt", "interview.id.txt")
    assert same_file("/abs/corpus/interview.id.txt", "corpus/interview.id.txt")
    assert not same_file("corpus/other-interview.id.txt", "interview.id.txt")
    assert not same_file("corpus/interview.id.txt", "other/interview.id.txt")


def test_passage_holds_evidence_by_containment_or_span_overlap() -> None:
    (span,) = spans_for(item())
    q0 = DOC.index("lebih dari 340")
    assert (span.start, span.end) == (q0, q0 + len("lebih dari 340.000 GPU Nvidia H100"))
    # containment, even with other whitespace and another source path spelling
    reflowed = "Meta akan memiliki lebih  dari\n340.000 GPU Nvidia H100."
    assert holds(passage(1, 0, 10, source="elsewhere.txt", text=reflowed), span)
    # overlap: a chunk holding only the first half of the quote
    assert holds(passage(1, 0, q0 + 12), span)
    # a chunk starting exactly where the quote ends does not overlap
    assert not holds(passage(1, span.end, len(DOC)), span)
    # same offsets in another document do not count
    assert not holds(passage(1, 0, q0 + 12, source="corpus/x.txt", text="x"), span)


def test_rank_recall_and_mrr() -> None:
    spans = spans_for(item())
    unrelated = DOC.index("Kalimat")
    ranked = [passage(1, unrelated, len(DOC)), passage(2, 0, 20), passage(3, 0, 60)]
    assert first_relevant_rank(ranked, spans) == 2
    assert first_relevant_rank(ranked[:1], spans) is None
    ranks = [1, 2, None, 7]
    assert recall_at(ranks, 1) == 0.25
    assert recall_at(ranks, 3) == 0.5
    assert recall_at(ranks, 10) == 0.75
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 0.5 + 1 / 7) / 4)
    assert mean_reciprocal_rank([11], cutoff=10) == 0.0
    assert recall_at([], 5) == 0.0


def test_percentile_interpolates_like_numpy() -> None:
    values = [10.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(8.8)
    assert percentile([5.0], 95) == 5.0


def test_fit_budget_keeps_rank_order_and_cuts_the_last_passage_exactly() -> None:
    ps = [passage(1, 0, 55), passage(2, 55, 90), passage(3, 90, len(DOC))]
    words = lambda s: len(s.split())  # noqa: E731
    fitted = fit_budget(ps, budget_tokens=words(ps[0].text) + 2, count=words)
    assert [p.n for p in fitted] == [1, 2]
    cut = fitted[1]
    assert cut.end < ps[1].end and cut.text == DOC[cut.start : cut.end]
    assert fit_budget(ps, budget_tokens=10_000, count=words) == ps
    assert fit_budget(ps, budget_tokens=0) == []


# scoring answers -----------------------------------------------------------------------


def answer(text: str, passages: list[Passage], cited: set[int], mode: str = "extractive") -> Answer:
    return Answer("q", text, mode, None, passages, cited=cited)  # type: ignore[arg-type]


def test_score_question_answer_citations_and_failure_reasons() -> None:
    gold = item()
    spans = spans_for(gold)
    good = passage(1, 0, 55)
    bad = passage(2, DOC.index("Kalimat"), len(DOC))
    ok = score_question(
        gold, spans, [good, bad], answer("Lebih dari 340.000 [1]", [good, bad], {1})
    )
    assert (ok.rank, ok.accepted, ok.cited_total, ok.cited_relevant) == (1, True, 1, 1)
    assert ok.reasons == [] and not ok.failed

    wrong = score_question(
        gold, spans, [bad, good], answer("Sekitar 600.000 [1][2]", [bad, good], {1, 2})
    )
    assert wrong.rank == 2 and not wrong.accepted
    assert (wrong.cited_total, wrong.cited_relevant, wrong.context_relevant) == (2, 1, 1)
    assert wrong.reasons == ["answer matches no accept pattern"]

    missed = score_question(gold, spans, [bad], answer("", [bad], set(), mode="abstain"))
    assert missed.rank is None and missed.abstained
    assert missed.reasons == [
        "no evidence in the top 1 retrieved",
        "abstained on an answerable question",
    ]


def test_abstention_on_unanswerable_questions() -> None:
    gold = item("u", accept=())
    p = passage(1, 0, 55)
    declined = score_question(gold, [], [p], answer("The passages do not say.", [p], set(), "llm"))
    assert declined.abstained and not declined.failed
    answered = score_question(gold, [], [p], answer("340.000 [1]", [p], {1}))
    assert not answered.abstained
    assert answered.reasons == ["answered an unanswerable question"]


def test_summarise_aggregates_per_question_scores() -> None:
    gold = item()
    spans = spans_for(gold)
    good, bad = passage(1, 0, 55), passage(2, DOC.index("Kalimat"), len(DOC))
    results = [
        score_question(gold, spans, [good, bad], answer("340.000 [1]", [good, bad], {1}), 10, 2),
        score_question(gold, spans, [bad, good], answer("600.000 [2]", [bad, good], {2}), 30, 4),
        score_question(item("u", ()), [], [bad], answer("", [bad], set(), "abstain"), 20, 3),
    ]
    m = summarise(results, gold="g.jsonl")
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (3, 2, 1)
    assert (m["recall@1"], m["recall@3"], m["mrr"]) == (0.5, 1.0, 0.75)
    assert m["answer_accuracy"] == 0.5
    assert m["citation_precision"] == 0.5  # one of the two cited passages holds evidence
    assert m["citation_recall"] == 0.5  # q1 cites its evidence passage, q2 does not
    assert m["abstention_accuracy"] == 1.0 and m["false_abstention_rate"] == 0.0
    assert m["latency_ms"] == {"p50": 20.0, "p95": 29.0}
    assert [f["id"] for f in m["failures"]] == ["q"]  # the second q: wrong answer
    assert m["modes"] == {"extractive": 2, "abstain": 1}
    json.dumps(m)


# the gold-set reader -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "a", "question": "q?", "accept": ["("], "evidence": []}', "bad accept regex"),
        ('{"question": "q?"}', "missing 'id'"),
        ('{"id": "a", "question": "q?", "evidence": [{"file": "x"}]}', "'file' and 'quote'"),
    ],
)
def test_load_gold_names_file_and_line_of_bad_input(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "ok", "question": "fine?", "accept": [], "evidence": []}\n' + line)
    with pytest.raises(GoldError, match=message) as err:
        load_gold(path)
    assert f"{path}:2" in str(err.value)


def test_load_gold_rejects_duplicates_and_reads_the_shipped_set(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    row = '{"id": "a", "question": "q?", "accept": [], "evidence": []}\n'
    path.write_text(row + row)
    with pytest.raises(GoldError, match="duplicate id 'a'"):
        load_gold(path)
    shipped = load_gold(ROOT / "bench" / "gold.jsonl")
    assert len(shipped) >= 50 and sum(not g.answerable for g in shipped) >= 6


# end to end ------------------------------------------------------------------------------


def test_rag_eval_no_llm_json_on_the_corpus(
    corpus_index: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wanted = {"en-h100-plan", "zh-h100-plan", "id-gdp", "en-lori", "en-unans-llama4"}
    lines = (ROOT / "bench" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    subset = [ln for ln in lines if json.loads(ln)["id"] in wanted]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(subset) + "\n", encoding="utf-8")

    assert main(["eval", "--gold", str(gold), "--no-llm", "--json", "--top-k", "5"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    m = json.loads(out[-1])
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (5, 4, 1)
    assert "llm" not in m["modes"]
    recalls = [m[f"recall@{k}"] for k in (1, 3, 5, 10)]
    assert recalls == sorted(recalls) and all(0.0 <= r <= 1.0 for r in recalls)
    # the canonical question must be found (its evidence exists in two documents)
    h100 = {f["id"]: f for f in m["failures"]}.get("en-h100-plan")
    assert h100 is None or h100["rank"] is not None
    assert m["recall@10"] >= 0.75
    assert m["latency_ms"]["p50"] > 0 and m["latency_ms"]["p95"] >= m["latency_ms"]["p50"]
    for f in m["failures"]:
        assert f["id"] in wanted and f["reasons"] and f["retrieved"]


def test_rag_eval_text_report_and_bad_gold_file(
    corpus_index: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--gold", str(tmp_path / "missing.jsonl"), "--no-llm"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.jsonl" in err[0]

    gold = tmp_path / "g.jsonl"
    gold.write_text(
        json.dumps(
            {
                "id": "lori",
                "question": "Who gave Jensen Huang his leather jacket?",
                "accept": ["Lori"],
                "evidence": [
                    {"file": "zuckerberg-huang-siggraph-2024.id.txt", "quote": "istrinya, Lori"}
                ],
            }
        )
        + "\n"
    )
    assert main(["eval", "--gold", str(gold), "--no-llm"]) == 0
    text = capsys.readouterr().out
    assert "recall@5" in text and "abstention accuracy" in text and "1 questions" in text
