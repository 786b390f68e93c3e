"""`make bench`: our figures against stock llama-index, measured in the same run.

Sections (each prints ours, the baseline's and the ratio, then RESULTS.md is written):
  crosslingual  XQuAD dev sets and the gold halves with the bundled multilingual model:
            ours vs dense-only vs stock BM25; abstention (bench/crosslingual.py)
  quality   recall@k / MRR on bench/gold.jsonl, and recall at the same context budget in
            tokens, for ours and for stock BM25 / stock vector retrieval (bench/quality.py)
  eval      `rag eval --no-llm --json`: answer accuracy, citations, abstention (bench/quality.py)
  ingest    chunks/s against a stock IngestionPipeline with the same embedder: builtin,
            and the fake Ollama server (HTTP requests per chunk); re-ingest of an
            unchanged corpus (seconds, embedding calls) (bench/ingestion.py)
  latency   warm retrieval p50/p95 at 1k, 10k and 100k chunks of a synthetic corpus
            (bench/synth.py) against the stock retrievers over the very same chunks
            (bench/latency.py)
  cold      cold `rag ask --no-llm` wall time and peak RSS against bench/stock_ask.py
            (bench/startup.py)
  ui        `rag serve` time to ready against a minimal stock Gradio chat (bench/startup.py)

    python bench/run.py [--quick] [--only SECTION ...] [--results FILE] [--hybrid-100k]
    python bench/run.py --render [--results FILE]

`--quick` uses small sizes (for development); the full run is what RESULTS.md records.
`--render` writes RESULTS.md again from the last run's bench/out/results.json.
Ratios are ours ÷ stock: above 1 is better for rates and recall, below 1 for times and
memory. Everything runs offline; Ollama is only ever the fake server on 127.0.0.1.

This file is the entry point: the options, which sections run, saving and writing the
results. The rest: bench/results.py (Row, Bench, the saved results.json), bench/harness.py
(child processes, paths, section timing), bench/report.py (RESULTS.md and why a target
was missed), and one module per group of sections named above.
"""

from __future__ import annotations

import argparse
import os
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
from report import write_results
from results import Bench, Row, fmt, load, save


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
    from core.offline import configure_offline

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
