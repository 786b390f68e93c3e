"""`make bench` section `latency`: warm retrieval p50/p95 at 1k, 10k and 100k chunks of a
synthetic corpus (bench/synth.py), ours against the stock retrievers (BM25, vector and
their QueryFusionRetriever) over the very same chunks. The largest tier is built with
vectors only when its projected build fits what is left of the time budget.
"""

from __future__ import annotations

import shutil
import time

from harness import BENCH, BUDGET_S, OUT, PY, RAG, child_env, fresh, run
from results import Bench, Row, fmt

LATENCY_CHUNK = (128, 16)  # chunk size/overlap of the synthetic latency tiers


def latency(bench: Bench) -> None:
    import synth

    # None: hybrid if the build fits in what is left of the budget, else lexical only
    tiers: list[tuple[int, bool | None]] = (
        [(300, True), (1000, True), (3000, None)]
        if bench.quick
        else [(1_000, True), (10_000, True), (100_000, None)]
    )
    size, overlap = LATENCY_CHUNK
    chunk_env = {"RAG_CHUNK_SIZE": str(size), "RAG_CHUNK_OVERLAP": str(overlap)}
    per_chunk = 0.0  # seconds per chunk of the last `rag ingest` tier
    projected = 0.0
    for n, auto in tiers:
        hybrid = bool(auto)
        if auto is None:
            # HNSW inserts slow down a little as the index grows: allow 40% more per chunk,
            # plus the queries and the stock side; keep 90 s for the cold-start and UI runs
            projected = per_chunk * n * 1.4 + 120
            left = BUDGET_S - (time.perf_counter() - bench.t0) - 90
            hybrid = bench.force_hybrid or 0 < projected <= left
            choice = "hybrid" if hybrid else "lexical only"
            print(
                f"  {n:,} chunks: hybrid build projected {projected:.0f} s, "
                f"{left:.0f} s left: {choice}"
            )
        corpus = OUT / f"synth-{n}"
        shutil.rmtree(corpus, ignore_errors=True)
        synth.generate_chunks(corpus, n, size, overlap)
        data = fresh(OUT / f"latency-{n}")
        if hybrid:
            built = run(
                [RAG, "ingest", str(corpus), "--json"],
                child_env(RAG_DATA_DIR=str(data), **chunk_env),
            ).json()
        else:
            built = run(
                [PY, str(BENCH / "tasks.py"), "build-lexical", str(data), str(corpus),
                 "--chunk-size", str(size), "--overlap", str(overlap)], child_env()
            ).json()  # fmt: skip
        chunks = built["chunks"]
        if hybrid:
            per_chunk = built["seconds"] / max(chunks, 1)
        else:
            bench.notes.append(
                f"The {chunks:,}-chunk latency tier is lexical only (catalog + BM25, compared "
                "with the stock BM25Retriever): at the "
                f"{per_chunk * 1000:.1f} ms per chunk `rag ingest` took on the previous tier "
                "(mostly Chroma's `add`, which fills the HNSW index and also full-text-indexes "
                f"each chunk's text) the hybrid build was projected at {projected:.0f} s, more "
                "than was left of the 15-minute budget on this (shared) machine. Dense and "
                "hybrid retrieval are measured at the smaller tiers."
            )
        ours = run(
            [PY, str(BENCH / "tasks.py"), "latency-ours", str(data)],
            child_env(RAG_DATA_DIR=str(data), **chunk_env),
        ).json()
        cmd = [PY, str(BENCH / "tasks.py"), "latency-stock", str(data)]
        base = run(cmd if hybrid else [*cmd, "--no-vector"], child_env()).json()
        kind = (
            "hybrid vs stock QueryFusionRetriever(BM25, vector)"
            if hybrid
            else "lexical only vs stock BM25Retriever"
        )
        ref = base["hybrid"] if hybrid else base["bm25"]
        label = f"{chunks:,} chunks"
        target = "<= 10 ms" if n >= 100_000 else ""
        met = ours["p50"] <= 10 if target else None
        metric = f"warm retrieval p50, {label} ({kind})"
        bench.add(Row("latency", metric, ours["p50"], ref["p50"], " ms", target, met))
        bench.add(Row("latency", f"warm retrieval p95, {label}", ours["p95"], ref["p95"], " ms"))

        def pp(d: dict[str, float] | None) -> str:
            return f"{fmt(d['p50'])} / {fmt(d['p95'])}" if d else "-"

        table = bench.tables.setdefault(
            "latency",
            [
                "| chunks | ours | stock hybrid (QueryFusionRetriever) | stock BM25Retriever "
                "| stock vector retriever |",
                "|---|---|---|---|---|",
            ],
        )
        table.append(
            f"| {chunks:,} ({'hybrid' if hybrid else 'lexical only'}) | {pp(ours)} | "
            f"{pp(base.get('hybrid'))} | {pp(base['bm25'])} | {pp(base.get('vector'))} |"
        )
        how = (
            "`rag ingest`, builtin embedder"
            if hybrid
            else "catalog + BM25 only, bench/tasks.py build-lexical"
        )
        bench.tables.setdefault("facts", []).append(
            f"Latency tier {label}: built in {built['seconds']:.0f} s "
            f"({how}); "
            f"stock BM25Retriever build over the same chunks {base['bm25_build_s']:.0f} s; "
            f"our first query {ours['first_query_ms']:.0f} ms."
        )
        if n >= 10_000:
            shutil.rmtree(corpus, ignore_errors=True)
