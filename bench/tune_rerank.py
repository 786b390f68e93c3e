"""Choose the sentence rerank's depth and rank prior (`rag.rerank`) on development data.

    python bench/tune_rerank.py [--limit N]

For every answerable question of the dev sets (bench/gold.jsonl's dev half and the XQuAD
dev sets), the real retriever runs once without the rerank; each of its first passages
gets its best question-sentence similarity through the same code the product uses
(`SentenceSimilarity.best_per_passage`). Recall@1 is then computed for every depth and
prior of the grid, against fusion's order. The test half is never read.

It then checks the choice out of sample: the depth and prior that are best on the XQuAD
questions of even-numbered articles (sorted by name) are scored on the odd-numbered ones,
and the other way round.
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

DEPTHS = (2, 3, 4, 5)  # rag.rerank reads TOP_PASSAGES (5) at most
PRIORS = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04)


Row = tuple[str, list[tuple[float | None, bool]]]  # article, [(best similarity, is hit)]


def collect(sets: list[devsets.DevSet], limit: int | None) -> dict[str, list[Row]]:
    """Per set, per question: its article and [(best sentence similarity or None, is hit)]
    for the first max(DEPTHS) passages in fusion's order."""
    from core.settings import load_settings
    from rag.retrieve import Retriever

    out: dict[str, list[Row]] = {}
    for ds in sets:
        if ds.split != "dev":
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
            hits = [(b, bool(case.hit(p))) for b, p in zip(best, head, strict=True)]
            rows.append((case.article, hits))
        retriever.close()
        print(f"  {ds.name}: {len(rows)} questions in {time.perf_counter() - t:.1f} s")
        out[ds.name] = rows
    return out


def recall_at_1(rows: list[Row], depth: int, prior: float) -> float:
    from rag.rerank import order

    hits = 0
    for _article, row in rows:
        head = row[:depth]
        hits += head[order([b for b, _ in head], prior)[0]][1]
    return hits / max(1, len(rows))


def choose(sets: dict[str, list[Row]]) -> tuple[int, float]:
    """The depth and prior with the best mean recall@1 among those that leave no set below
    fusion's (no set pays for another's gain); ties: the shallower (cheaper)."""
    grid = [(d, p) for d in DEPTHS for p in PRIORS]

    def gains(dp: tuple[int, float]) -> list[float]:
        return [recall_at_1(rows, *dp) - recall_at_1(rows, 1, 0.0) for rows in sets.values()]

    fair = [dp for dp in grid if min(gains(dp)) >= 0] or [(1, 0.0)]
    return max(fair, key=lambda dp: (round(sum(gains(dp)), 6), -dp[0], -dp[1]))


def halves(data: dict[str, list[Row]]) -> None:
    """Choose on half of the XQuAD articles, score on the other half."""
    xq = {n: rows for n, rows in data.items() if n.startswith("xquad")}
    articles = sorted({a for rows in xq.values() for a, _ in rows})
    for part in (0, 1):
        tune = {a for i, a in enumerate(articles) if i % 2 == part}
        best = choose({n: [r for r in rows if r[0] in tune] for n, rows in xq.items()})
        held = {n: [r for r in rows if r[0] not in tune] for n, rows in xq.items()}
        cells = ", ".join(
            f"{n} {recall_at_1(rows, 1, 0.0):.3f} -> {recall_at_1(rows, *best):.3f}"
            for n, rows in held.items()
        )
        print(f"chosen on {len(tune)} XQuAD articles: depth {best[0]}, prior {best[1]}")
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
            n: [(a, [(b, h) for b, h in hits]) for a, hits in rows] for n, rows in saved.items()
        }
    else:
        data = collect(devsets.prepare("tune", "bundled"), args.limit)
    if args.save:
        args.save.write_text(json.dumps(data))
    names = list(data)
    print("depth prior  " + "  ".join(f"{n:>14s}" for n in names) + "  mean")
    base = [recall_at_1(data[n], 1, 0.0) for n in names]
    print(
        "fusion only  " + "  ".join(f"{b:14.3f}" for b in base) + f"  {sum(base) / len(base):.3f}"
    )
    for depth in DEPTHS:
        for prior in PRIORS:
            got = [recall_at_1(data[n], depth, prior) for n in names]
            cells = "  ".join(f"{g:14.3f}" for g in got)
            print(f"{depth:5d} {prior:.4f} {cells}  {sum(got) / len(got):.3f}")
    depth, prior = choose(data)
    print(f"chosen on all dev sets: depth {depth}, prior {prior} (rag/rerank.py)")
    halves(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
