"""Choose the sentence rerank's depth, rank prior and same-language penalty (`rag.rerank`)
on development data.

    python bench/tune_rerank.py [--limit N]

For every answerable question of the dev sets (bench/gold.jsonl's dev half and the XQuAD
dev sets), the real retriever runs once without the rerank; each of its first passages
gets its best question-sentence similarity through the same code the product uses
(`SentenceSimilarity.best_per_passage`) and whether it is in the question's language.
Recall@1 is then computed for every depth, prior and penalty of the grid, against fusion's
order. The test half is never read.

It then checks the choice out of sample: the depth and prior that are best on the XQuAD
questions of even-numbered articles (sorted by name) are scored on the odd-numbered ones,
and the other way round; and it shows the chosen penalty's recall@1 per language of the
passage that answers (a penalty that helps Chinese answers must not cost English ones).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

DEPTHS = (2, 3, 4, 5, 6, 8, 10)  # rag.rerank reads RERANK_PASSAGES (10) at most
PRIORS = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04)
# one penalty for every question language: what it chose (0.04) is English questions'
# bias (`rag.sentences.SAME_LANGUAGE_BIAS`); Chinese and Vietnamese questions' larger one
# comes from bench/tune_bias.py, over the whole retrieval of those questions
PENALTIES = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06)

# article, [(best similarity, is hit, in the question's language, passage language)]
Row = tuple[str, list[tuple[float | None, bool, bool, str]]]
Params = tuple[int, float, float]  # depth, prior, penalty


def collect(sets: list[devsets.DevSet], limit: int | None) -> dict[str, list[Row]]:
    """Per set, per question: its article and [(best sentence similarity or None, is hit,
    same language, language)] for the first max(DEPTHS) passages in fusion's order."""
    from core.settings import load_settings
    from index.language import same_language
    from rag.retrieve import Retriever

    out: dict[str, list[Row]] = {}
    for ds in sets:
        if ds.split != "dev" or ds.name == devsets.NEAR_MISS:
            continue
        devsets._env(ds.data_dir, "bundled")
        retriever = Retriever(load_settings(data_dir=ds.data_dir))
        t = time.perf_counter()
        rows = []
        for case in [c for c in ds.cases if c.hit is not None][:limit]:
            got = retriever.search([case.question], rerank=False)
            head = got.passages[: max(DEPTHS)]
            if not head or got.sentences is None:
                continue
            best = got.sentences.best_per_passage(head)
            asked = retriever.question_language(case.question)
            hits = [
                (b, bool(case.hit(p)), same_language(asked, p.lang), p.lang)
                for b, p in zip(best, head, strict=True)
            ]
            rows.append((case.article, hits))
        retriever.close()
        print(f"  {ds.name}: {len(rows)} questions in {time.perf_counter() - t:.1f} s")
        out[ds.name] = rows
    return out


def recall_at_1(rows: list[Row], depth: int, prior: float, penalty: float = 0.0) -> float:
    from rag.rerank import order

    hits = 0
    for _article, row in rows:
        head = row[:depth]
        first = order([r[0] for r in head], prior, [r[2] for r in head], penalty)[0]
        hits += head[first][1]
    return hits / max(1, len(rows))


FUSION: Params = (1, 0.0, 0.0)


def _by_answer_language(rows: list[Row]) -> dict[str, list[Row]]:
    """The questions grouped by the language of the passage that answers (none: no hit)."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        lang = next((r[3] for r in row[1] if r[1]), "none")
        groups.setdefault(lang, []).append(row)
    groups.pop("none", None)
    return groups


def choose(sets: dict[str, list[Row]]) -> Params:
    """The depth, prior and penalty with the best mean recall@1 among those that leave no
    set below fusion's (no set pays for another's gain) and whose penalty costs no
    answer's language anything (an English question's English answers must not pay for
    its Chinese ones); ties: the shallower (cheaper), then the smaller prior and penalty."""
    grid = [(d, p, q) for d in DEPTHS for p in PRIORS for q in PENALTIES]
    groups = [g for rows in sets.values() for g in _by_answer_language(rows).values()]

    def gains(params: Params) -> list[float]:
        return [recall_at_1(rows, *params) - recall_at_1(rows, *FUSION) for rows in sets.values()]

    def costs_a_language(params: Params) -> bool:
        without = (params[0], params[1], 0.0)
        return any(recall_at_1(g, *params) < recall_at_1(g, *without) for g in groups)

    fair = [g for g in grid if min(gains(g)) >= 0 and not costs_a_language(g)] or [FUSION]
    return max(fair, key=lambda g: (round(sum(gains(g)), 6), -g[0], -g[1], -g[2]))


def by_language(data: dict[str, list[Row]], chosen: Params) -> None:
    """Recall@1 per language of the passage that answers, with and without the penalty."""
    depth, prior, penalty = chosen
    for name, rows in data.items():
        cells = ", ".join(
            f"{lang} ({len(g)}) {recall_at_1(g, depth, prior, 0.0):.3f} -> "
            f"{recall_at_1(g, depth, prior, penalty):.3f}"
            for lang, g in sorted(_by_answer_language(rows).items())
        )
        print(f"  {name}, by the answer's language, penalty 0 -> {penalty}: {cells}")


def halves(data: dict[str, list[Row]]) -> None:
    """Choose on half of the XQuAD articles, score on the other half."""
    xq = {n: rows for n, rows in data.items() if n.startswith("xquad")}
    articles = sorted({a for rows in xq.values() for a, _ in rows})
    for part in (0, 1):
        tune = {a for i, a in enumerate(articles) if i % 2 == part}
        best = choose({n: [r for r in rows if r[0] in tune] for n, rows in xq.items()})
        held = {n: [r for r in rows if r[0] not in tune] for n, rows in xq.items()}
        cells = ", ".join(
            f"{n} {recall_at_1(rows, *FUSION):.3f} -> {recall_at_1(rows, *best):.3f}"
            for n, rows in held.items()
        )
        print(
            f"chosen on {len(tune)} XQuAD articles: depth {best[0]}, prior {best[1]}, "
            f"penalty {best[2]}"
        )
        print(f"  the other {len(articles) - len(tune)}: {cells}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--save", type=Path, help="keep the collected similarities (JSON) here")
    ap.add_argument("--load", type=Path, help="choose on similarities saved by --save")
    args = ap.parse_args()
    if args.load:
        saved = json.loads(args.load.read_text())
        data = {
            n: [(a, [(b, h, same, lang) for b, h, same, lang in hits]) for a, hits in rows]
            for n, rows in saved.items()
        }
    else:
        data = collect(devsets.prepare("tune", "bundled"), args.limit)
    if args.save:
        args.save.write_text(json.dumps(data))
    names = list(data)
    print("depth prior  penalty  " + "  ".join(f"{n:>14s}" for n in names) + "  mean")
    base = [recall_at_1(data[n], *FUSION) for n in names]
    print(
        "fusion only           "
        + "  ".join(f"{b:14.3f}" for b in base)
        + f"  {sum(base) / len(base):.3f}"
    )
    for depth in DEPTHS:
        for prior in PRIORS:
            for penalty in PENALTIES:
                got = [recall_at_1(data[n], depth, prior, penalty) for n in names]
                cells = "  ".join(f"{g:14.3f}" for g in got)
                print(f"{depth:5d} {prior:.4f} {penalty:.3f}    {cells}  {sum(got) / len(got):.3f}")
    chosen = choose(data)
    print(
        f"chosen on all dev sets: depth {chosen[0]}, prior {chosen[1]}, penalty {chosen[2]} "
        "(rag/rerank.py)"
    )
    by_language(data, chosen)
    halves(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
