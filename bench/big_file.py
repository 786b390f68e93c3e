"""A 100 MB text file through `rag ingest`: wall time and peak RSS, with other files beside
it, and a check that it is all searchable afterwards.

    python bench/big_file.py [--mb 100] [--chunk-size 300] [--base PATH]

RAG_MAX_FILE_MB defaults to 50, so the run raises it. The builtin embedder is used (the
figure is about the ingest loop's memory and Chroma's batch limit, not a model's speed).
`--base PATH` runs the same ingest with the code at PATH (an unpacked older commit) for a
baseline. Peak RSS is measured by bench/peak.py (a small forking wrapper).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAG = str(Path(sys.executable).with_name("rag"))

_SENTENCES = [
    "Meta plans to have more than {n} Nvidia H100 GPUs by the end of the year {i}.",
    "Pada akhir tahun {i}, Meta akan memiliki lebih dari {n} GPU Nvidia H100.",
    "Llama model {i} was trained on {n} tokens in data centre number {i}.",
    "Zuckerberg mengatakan model terbuka nomor {i} membantu {n} pengembang.",
]


def write_big(path: Path, mb: float) -> int:
    """Paragraphs of numbered sentences until `mb` megabytes; returns the byte size."""
    target = int(mb * 1024 * 1024)
    size = 0
    i = 0
    with open(path, "w", encoding="utf-8") as fh:
        while size < target:
            para = " ".join(s.format(i=i + k, n=(i + k) * 37) for k, s in enumerate(_SENTENCES))
            line = para + "\n\n"
            fh.write(line)
            size += len(line.encode("utf-8"))
            i += 4
    return size


def run(code_root: Path | None, folder: Path, data: Path, env: dict[str, str]) -> dict[str, float]:
    result = data.parent / f"{data.name}.peak.json"
    if code_root is None:
        cmd = [RAG, "ingest", "--json", str(folder)]
        cwd = ROOT
    else:
        cmd = [sys.executable, "-m", "rag.cli", "ingest", "--json", str(folder)]
        cwd = code_root
        env = dict(env, PYTHONPATH=str(code_root))
    env = dict(env, RAG_DATA_DIR=str(data))
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "peak.py"), str(result), *cmd],
        cwd=cwd, env=env, capture_output=True, text=True,
    )  # fmt: skip
    peak = json.loads(result.read_text(encoding="utf-8"))
    out: dict[str, float] = {
        "wall_s": round(peak["wall"], 1),
        "peak_rss_mb": round(peak["maxrss_kb"] / 1024, 1),
        "exit": peak["code"],
    }
    if done.returncode == 0:
        report = json.loads(done.stdout)
        out["added"] = len(report["added"])
        out["chunks"] = report["chunks"]
    else:
        out["error"] = (done.stderr.strip().splitlines() or ["?"])[-1][:300]  # type: ignore[assignment]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--chunk-size", type=int, default=300)
    parser.add_argument("--base", type=Path, default=None, help="baseline code root")
    args = parser.parse_args()
    env = dict(os.environ)
    env.update(
        RAG_EMBEDDER="builtin",
        RAG_MAX_FILE_MB=str(max(50.0, args.mb * 1.2)),
        RAG_CHUNK_SIZE=str(args.chunk_size),
        OLLAMA_HOST="http://127.0.0.1:9",
        RAG_PROBE_TIMEOUT="0.2",
    )
    with tempfile.TemporaryDirectory(prefix="rag-big-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        size = write_big(folder / "big.txt", args.mb)
        for name in ("small-a.txt", "small-b.txt"):
            (folder / name).write_text(f"Okapi {name} tinggal di hutan Ituri.\n", "utf-8")
        results = {"file_mb": round(size / 2**20, 1)}
        results["ours"] = run(None, folder, Path(tmp) / "data", env)  # type: ignore[assignment]
        if args.base is not None:
            results["base"] = run(args.base, folder, Path(tmp) / "data-base", env)  # type: ignore[assignment]
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
