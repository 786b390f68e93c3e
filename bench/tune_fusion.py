"""Choose the fusion parameters (`rag.fusion.PARAMS`) on development data only.

    python bench/tune_fusion.py [--embedder bundled] [--quick]

For every answerable question of the dev sets (bench/gold.jsonl's dev half and the XQuAD
sets of bench/xquad.py), the retriever's ranked lists are computed once (BM25 and dense,
global and per language, at the largest depths tried); then every parameter combination of
the grid fuses them and is scored by the mean over sets of (recall@1 + recall@5) / 2, the
hit rule being the benchmark's. The test half of bench/gold.jsonl is never read here.
Prints the best parameters and the table around them; copy them into rag/fusion.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

GRID = {
    "k": [1.0, 3.0, 5.0, 10.0, 30.0, 60.0],
    "lexical": [0.5, 1.0, 2.0],
    "dense": [1.0, 2.0],
    "per_lang": [0.0, 0.5, 1.0, 1.5],
    "lex_conf": [0.0, 1.0, 2.0, 4.0],
}
CACHE = devsets.OUT / "tune" / "lists.pkl"
MAX_DEPTH = 50
MAX_LANG_DEPTH = 20
SLOTS = 8  # RAG_TOP_K's default: the primary rankers' top hits stay within it


def collect(sets: list[devsets.DevSet], limit: int | None) -> list[tuple[str, list]]:
    """(set name, [(lists, relevant chunk ids)]) for every answerable case."""
    from core.settings import load_settings
    from rag.retrieve import Retriever

    out = []
    for ds in sets:
        if ds.split != "dev" or ds.name in devsets.ABSTENTION_ONLY:  # tune_abstain.py
            continue
        devsets._env(ds.data_dir, "bundled")
        retriever = Retriever(load_settings(data_dir=ds.data_dir))
        cases = [c for c in ds.cases if c.hit is not None][:limit]
        rows = []
        t = time.perf_counter()
        for case in cases:
            ranking = retriever.rank_lists([case.question], MAX_DEPTH, lang_depth=MAX_LANG_DEPTH)
            ids = {cid for lst in ranking.lists for cid, _ in lst.hits}
            with retriever._lock:
                views = retriever.catalog().chunk_views(sorted(ids))
            relevant = {cid for cid, v in views.items() if case.hit(v)}
            rows.append((ranking.lists, relevant))
        print(f"  {ds.name}: {len(rows)} questions in {time.perf_counter() - t:.1f} s")
        retriever.close()
        out.append((ds.name, rows))
    return out


def score(rows: list, params) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from rag.fusion import fuse

    r1 = r5 = 0
    for lists, relevant in rows:
        cut = [
            replace(
                lst,
                hits=lst.hits[: params.depth if lst.lang is None else params.lang_depth],
            )
            for lst in lists
        ]
        fused = fuse(cut, params, slots=SLOTS)
        top = [cid for cid, _ in fused[:5]]
        r1 += bool(top[:1] and top[0] in relevant)
        r5 += any(cid in relevant for cid in top)
    n = max(1, len(rows))
    return r1 / n, r5 / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--embedder", default="bundled")
    ap.add_argument("--quick", action="store_true", help="60 questions per set")
    args = ap.parse_args()
    import pickle

    from rag.fusion import FusionParams, params_for

    if CACHE.exists() and not args.quick:
        data = pickle.loads(CACHE.read_bytes())
    else:
        sets = devsets.prepare("tune", args.embedder)
        data = collect(sets, 60 if args.quick else None)
        if not args.quick:
            CACHE.write_bytes(pickle.dumps(data))
    results = []
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        params = FusionParams(**dict(zip(keys, values, strict=True)))
        if params.lexical == 0 and params.dense == 0:
            continue
        per_set = {name: score(rows, params) for name, rows in data}
        objective = sum((a + b) / 2 for a, b in per_set.values()) / len(per_set)
        results.append((objective, params, per_set))
    results.sort(key=lambda r: -r[0])
    current = params_for(args.embedder)
    now = {name: score(rows, current) for name, rows in data}
    print(f"current {current}:")
    print("   " + json.dumps({k: [round(x, 3) for x in v] for k, v in now.items()}))
    for objective, params, per_set in results[:10]:
        print(f"{objective:.4f} {params}")
        print("   " + json.dumps({k: [round(x, 3) for x in v] for k, v in per_set.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
