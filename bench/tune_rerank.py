"""Choose the sentence rerank's depth and rank prior (`rag.rerank`) on development data.

    python bench/tune_rerank.py [--limit N]

For every answerable question of the dev sets (bench/gold.jsonl's dev half and the XQuAD
dev sets), the real retriever runs once without the rerank; each of its first passages
gets its best question-sentence similarity through the same code the product uses
(`SentenceSimilarity.best_per_passage`). Recall@1 is then computed for every depth and
prior of the grid, against fusion's order. The test half is never read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

DEPTHS = (3, 5, 8)
PRIORS = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04)


def collect(sets: list[devsets.DevSet], limit: int | None) -> dict[str, list[list[tuple]]]:
    """Per set, per question: [(best sentence similarity or None, is hit)] for the first
    max(DEPTHS) passages in fusion's order."""
    from core.settings import load_settings
    from rag.retrieve import Retriever

    out: dict[str, list[list[tuple]]] = {}
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
            rows.append([(b, bool(case.hit(p))) for b, p in zip(best, head, strict=True)])
        retriever.close()
        print(f"  {ds.name}: {len(rows)} questions in {time.perf_counter() - t:.1f} s")
        out[ds.name] = rows
    return out


def recall_at_1(rows: list[list[tuple]], depth: int, prior: float) -> float:
    hits = 0
    for row in rows:
        head = row[:depth]
        order = sorted(
            range(len(head)),
            key=lambda i: -(head[i][0] - prior * i) if head[i][0] is not None else float("inf"),
        )
        hits += head[order[0]][1]
    return hits / max(1, len(rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    data = collect(devsets.prepare("tune", "bundled"), args.limit)
    names = list(data)
    print("depth prior  " + "  ".join(f"{n:>14s}" for n in names) + "  mean")
    base = [sum(r[0][1] for r in data[n]) / max(1, len(data[n])) for n in names]
    print(
        "fusion only  " + "  ".join(f"{b:14.3f}" for b in base) + f"  {sum(base) / len(base):.3f}"
    )
    for depth in DEPTHS:
        for prior in PRIORS:
            got = [recall_at_1(data[n], depth, prior) for n in names]
            cells = "  ".join(f"{g:14.3f}" for g in got)
            print(f"{depth:5d} {prior:.4f} {cells}  {sum(got) / len(got):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
