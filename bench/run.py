"""`make bench`: our figures against stock llama-index, measured in the same run.

Sections (each prints ours, the baseline's and the ratio, then RESULTS.md is written):
  crosslingual  XQuAD dev sets and the gold halves with the bundled multilingual model:
            ours vs dense-only vs stock BM25; abstention (bench/crosslingual.py)
  quality   recall@k / MRR on bench/gold.jsonl, and recall at the same context budget in
            tokens, for ours and for stock BM25 / stock vector retrieval
  eval      `rag eval --no-llm --json`: answer accuracy, citations, abstention
  ingest    chunks/s against a stock IngestionPipeline with the same embedder: builtin,
            and the fake Ollama server (HTTP requests per chunk); re-ingest of an
            unchanged corpus (seconds, embedding calls)
  latency   warm retrieval p50/p95 at 1k, 10k and 100k chunks of a synthetic corpus
            (bench/synth.py) against the stock retrievers over the very same chunks
  cold      cold `rag ask --no-llm` wall time and peak RSS against bench/stock_ask.py
  ui        `rag serve` time to ready against a minimal stock Gradio chat

    python bench/run.py [--quick] [--only SECTION ...] [--results FILE]

`--quick` uses small sizes (for development); the full run is what RESULTS.md records.
Ratios are ours ÷ stock: above 1 is better for rates and recall, below 1 for times and
memory. Everything runs offline; Ollama is only ever the fake server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the modules beside this one

import ingestion
import latency
import quality
import startup
from harness import BENCH, OUT, ROOT, section
from latency import LATENCY_CHUNK
from results import Bench, Row, fmt, load, save

# report --------------------------------------------------------------------------------

# Why a target can be missed: from profiling on this machine (bench/out holds the data).
# Shown in RESULTS.md under each missed target whose metric contains the key.
WHY: dict[str, str] = {
    "recall@": (
        "The misses are listed with what was retrieved in bench/out/eval.json. They are mostly "
        "English questions whose answer sits in Indonesian or Chinese text with no shared "
        "name or number (e.g. 'eyewear maker' vs 'pembuat kacamata', 'context windows' vs "
        "'jendela konteks'): without a model the lexical side cannot bridge them and the "
        "builtin hashed n-gram vectors are not cross-lingual. With Ollama, the question is "
        "rewritten into the corpus languages first (issue 3), which this model-free figure "
        "does not include."
    ),
    "chunks/s": (
        "Both pipelines share the two largest costs: the same builtin embedder (about 45% "
        "of our ingest of the 1,068-chunk corpus) and Chroma's `add` through llama-index's "
        "ChromaVectorStore (about 25%: ~0.8 ms per chunk for the vectors plus ~0.5 ms for "
        "the full-text index of the chunk text stored as the Chroma document, which we keep "
        "so any llama-index app can read the collection). On top, ours does strictly more per "
        "chunk: BM25 tokenisation with Chinese segmentation (its tokens are reused by the "
        "builtin embedder), language detection (a one-off ~0.45 s model load per process), "
        "exact tiktoken spans and the SQLite catalog that makes citations exact and re-ingest "
        "free. Batching Chroma writes per embedding group (one delete by id and one add "
        "instead of two calls per document) took ours from 68 to 121 chunks/s on the same "
        "corpus; a 2x margin over a pipeline that shares the embedder and the store is out of "
        "reach without dropping that extra work or the llama-index collection format."
    ),
    "wall time vs stock script": (
        "The ingest work itself is the in-process figure above; the rest is Python start-up "
        "and the CLI's imports (`python -X importtime`: index.ingest ~1.0 s cumulative, "
        "rag.settings/pydantic-settings ~0.4 s, httpx via rag.ollama_api ~0.3 s on this "
        "loaded machine). Deferring pydantic-settings and httpx until they are needed is "
        "what remains to get the whole command under 1 s."
    ),
    "warm retrieval p50": (
        "cProfile of our retrieval on the 110,291-chunk hybrid tier (40 gold questions): of "
        "~38 ms per query, ~24 ms is Chroma's `collection.count()`, called twice per query "
        "(rag/dense_cache.py, to decide whether the collection is small enough for the "
        "in-memory matrix, and index/vectors.py, before the search) at ~12 ms each at this "
        "size; the HNSW query itself is ~3 ms and BM25 + catalog ~5 ms. Remembering the "
        "count per catalog generation would bring the p50 near the stock "
        "QueryFusionRetriever over the same collection."
    ),
    "cold `rag ask": (
        "Most of the cold time is imports before the first query; see "
        "`python -X importtime -m rag.cli ask --no-llm ...`."
    ),
}


def why(metric: str) -> str:
    return next((text for key, text in WHY.items() if key in metric), "")


def machine() -> str:
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {mem} RAM, "
        f"Python {platform.python_version()}, {platform.platform()}; load average at the end "
        f"{load} (the machine is shared with other jobs)"
    )


def write_results(bench: Bench, path: Path, started: datetime, total: float) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Generated by bench/run.py{' --quick' if bench.quick else ''} (`make bench`) on "
        f"{started:%Y-%m-%d %H:%M} UTC in {total / 60:.1f} minutes.",
        f"Machine: {machine()}.",
        "",
        "Every figure below was measured in this one run, ours and the baseline's side by side.",
        "Ratio = ours / stock: above 1 is better for recall and rates, below 1 is better for",
        "times and memory. Stock = llama-index as a user would assemble it (bench/stock.py).",
        "",
        "## Summary",
        "",
        "| section | benchmark | ours | stock llama-index | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in bench.rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "n/a"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        ours = fmt(r.ours) + r.unit
        extra = f" ({r.note})" if r.note else ""
        lines.append(
            f"| {r.section} | {r.metric}{extra} | {ours} | {fmt(r.stock)}{r.unit} | {ratio} | "
            f"{r.target} | {met} |"
        )
    if "quality" in bench.tables:
        lines += [
            "",
            "## Retrieval quality on bench/gold.jsonl (80 answerable questions, en/id/zh)",
            "",
            "R@k counts a question when a passage holding an evidence quote (or overlapping its",
            "span) is among the first k; 'R in N tok' when it is inside the first N tokens of",
            "context (the passage that crosses N is cut), which compares retrievers with",
            "different chunk sizes on the same amount of context.",
            "",
            *bench.tables["quality"],
        ]
    if "latency" in bench.tables:
        lines += [
            "",
            "## Warm retrieval latency, p50 / p95 in ms (top 10, the 88 gold questions twice)",
            "",
            "Synthetic corpus from bench/synth.py, chunks of at most "
            f"{LATENCY_CHUNK[0]} tokens; the stock retrievers run over the very same chunks "
            "(and, for hybrid tiers, the very same Chroma collection), with the same embedder.",
            "",
            *bench.tables["latency"],
        ]
    if "eval" in bench.tables:
        lines += ["", "## `rag eval --no-llm` (model-free answers)", "", *bench.tables["eval"]]
    if bench.tables.get("facts"):
        lines += ["", "## Setup", "", *(f"- {f}" for f in bench.tables["facts"])]
    missed = [r for r in bench.rows if r.met is False]
    lines += ["", "## Targets missed", ""]
    if not missed:
        lines.append("None.")
    for r in missed:
        lines.append(f"- **{r.metric}**: {fmt(r.ours)}{r.unit} against {r.target}. {why(r.metric)}")
    notes = list(bench.notes)
    extra = BENCH / "RESULTS-latency-100k-hybrid.md"
    if path.resolve() != extra.resolve() and extra.exists():
        notes.append(
            f"{extra.name}: a separate run of the latency section with the largest tier "
            "built with vectors too (`python bench/run.py --only latency --hybrid-100k "
            "--results bench/RESULTS-latency-100k-hybrid.md`, ~10 minutes on its own)."
        )
    lines += ["", "## Notes", ""]
    lines += [f"- {n}" for n in notes] or ["None."]
    lines += [
        "",
        "Section durations: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in bench.durations.items())
        + ".",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def crosslingual(bench: Bench) -> None:
    import crosslingual as xl

    xl.run(bench, Row, fmt)


SECTIONS: dict[str, Callable[[Bench], None]] = {
    "crosslingual": crosslingual,
    "quality": quality.quality,
    "eval": quality.evaluation,
    "ingest": ingestion.ingestion,
    "latency": latency.latency,
    "cold": startup.cold,
    "ui": startup.ui,
}


def main() -> int:
    ap = argparse.ArgumentParser(description="Benchmarks against stock llama-index.")
    ap.add_argument("--quick", action="store_true", help="small sizes, for development")
    ap.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    ap.add_argument(
        "--results", type=Path, default=None, help="default: bench/RESULTS.md (full run)"
    )
    ap.add_argument(
        "--hybrid-100k",
        action="store_true",
        help="build the largest latency tier with vectors even if it overruns the budget",
    )
    ap.add_argument(
        "--render", action="store_true", help="rewrite RESULTS.md from bench/out/results.json"
    )
    args = ap.parse_args()
    if args.render:
        bench, started, total = load(OUT / "results.json")
        results = args.results or (BENCH / "RESULTS.md")
        write_results(bench, results, started, total)
        print(f"wrote {results}")
        return 0
    from rag.offline import configure_offline

    configure_offline()
    os.environ.pop("OPENAI_API_KEY", None)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "children.log").write_text("", encoding="utf-8")
    bench = Bench(quick=args.quick, force_hybrid=args.hybrid_100k)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    for name, fn in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        with section(bench, name):
            fn(bench)
    total = time.perf_counter() - t0
    save(bench, OUT / "results.json", started, total)
    results = args.results or (OUT / "RESULTS.quick.md" if args.quick else BENCH / "RESULTS.md")
    write_results(bench, results, started, total)
    print(f"\nwrote {results.relative_to(ROOT) if results.is_relative_to(ROOT) else results} "
          f"in {total / 60:.1f} minutes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
