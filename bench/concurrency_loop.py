"""One writer, many readers, for real: `rag ingest` of a large folder (2,000 small
documents) while `rag ask` processes and a UI chat backend in another process keep asking;
repeated with edits between rounds. Afterwards every stored vector is read back and the
catalog, Chroma, the vector snapshot and BM25 must hold exactly the same chunk ids.

    python bench/concurrency_loop.py [--docs 2000] [--rounds 3] [--askers 2]

Prints one JSON line per round and a summary: asks answered, asks failed (with exit codes;
139 or -11 is a segfault), UI questions answered, vectors read back, mismatches.
tests/test_one_writer.py runs a short version (300 documents, one round).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAG = str(Path(sys.executable).with_name("rag"))
QUESTIONS = ["berapa GPU H100 dokumen 7", "Llama Meta proyek 1200", "H100 untuk proyek nomor 42"]

UI_READER = textwrap.dedent(
    """
    import os, sys, time
    from core.settings import load_settings
    from ui.chat import ChatBackend
    backend = ChatBackend(load_settings())
    answered = failed = 0
    while not os.path.exists(sys.argv[1]):
        last = None
        for last in backend.ask(sys.argv[2], no_llm=True):
            pass
        if last is not None and last.done and not last.error and last.passages:
            answered += 1
        else:
            failed += 1
        time.sleep(0.02)
    backend.close()
    print(answered, failed, "chromadb" in sys.modules)
    """
)

CHECK = textwrap.dedent(
    """
    import json
    from index.catalog import Catalog
    from index.dense_cache import DENSE_DIR
    from index.lexical import LexicalIndex
    from index.vectors import VectorStore
    from index import dense_cache
    from core.settings import load_settings
    s = load_settings()
    cat = Catalog(s.catalog_path)
    chunks = cat.all_chunk_ids()
    names = [c[0] for c in cat.collections()]
    cat.close()
    store = VectorStore(s)
    out = {"chunks": len(chunks), "vectors_read": 0, "mismatch": []}
    for name in names:
        col = store.named(name)
        got = set()
        for ids, rows in store.vectors(col):
            assert rows.shape[0] == len(ids) and (rows == rows).all()
            got.update(ids)
            out["vectors_read"] += len(ids)
        if got != chunks:
            out["mismatch"].append(f"chroma {name}: {len(got ^ chunks)} ids differ")
        snap = dense_cache.load(s.data_dir / DENSE_DIR, name)
        if snap is None or set(snap.ids) != chunks:
            out["mismatch"].append(f"snapshot {name} differs")
    store.close()
    lex = LexicalIndex.load(s.lexical_dir)
    if lex is None or set(lex.ids) != chunks:
        out["mismatch"].append("bm25 differs")
    print(json.dumps(out))
    """
)


def write_docs(folder: Path, n: int, version: int, rng: random.Random) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(n):
        if version and rng.random() > 0.25:
            continue  # later rounds edit a quarter of the documents
        (folder / f"dok-{i:05d}.txt").write_text(
            f"Dokumen {i} versi {version} mencatat {i * 13} GPU H100 untuk proyek nomor {i}.\n"
            f"Kalimat kedua dokumen {i} membahas Llama dan Meta, revisi {version}.\n",
            encoding="utf-8",
        )


def asker(env: dict[str, str], stop: threading.Event, results: list[int]) -> None:
    rng = random.Random()
    while not stop.is_set():
        done = subprocess.run(
            [RAG, "ask", "--no-llm", "--json", rng.choice(QUESTIONS)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        ok = done.returncode == 0 and bool(json.loads(done.stdout or "{}").get("citations"))
        results.append(0 if ok else (done.returncode or 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--askers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    totals = {"asks": 0, "ask_failures": 0, "ui_answered": 0, "ui_failed": 0, "mismatches": 0}
    with tempfile.TemporaryDirectory(prefix="rag-conc-") as tmp:
        env = dict(
            os.environ,
            RAG_DATA_DIR=str(Path(tmp) / "data"),
            RAG_EMBEDDER="builtin",
            OLLAMA_HOST="http://127.0.0.1:9",
            RAG_PROBE_TIMEOUT="0.2",
        )
        folder = Path(tmp) / "docs"
        seed = Path(tmp) / "seed"
        seed.mkdir()
        (seed / "seed.txt").write_text("Meta memiliki 340.000 GPU H100.\n", encoding="utf-8")
        subprocess.run([RAG, "ingest", str(seed)], env=env, check=True, capture_output=True)
        for round_no in range(args.rounds):
            write_docs(folder, args.docs, round_no, rng)
            stop_file = Path(tmp) / f"stop-{round_no}"
            ui = subprocess.Popen(
                [sys.executable, "-c", UI_READER, str(stop_file), QUESTIONS[0]],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            stop = threading.Event()
            asks: list[int] = []
            threads = [
                threading.Thread(target=asker, args=(env, stop, asks)) for _ in range(args.askers)
            ]
            for t in threads:
                t.start()
            t0 = time.perf_counter()
            ingest = subprocess.run(
                [RAG, "ingest", "--json", str(seed), str(folder)],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            ingest_s = time.perf_counter() - t0
            stop.set()
            for t in threads:
                t.join()
            stop_file.write_text("stop", encoding="utf-8")
            ui_out, ui_err = ui.communicate(timeout=300)
            check = subprocess.run(
                [sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True
            )
            state = json.loads(check.stdout) if check.returncode == 0 else {"error": check.stderr}
            report = json.loads(ingest.stdout) if ingest.returncode == 0 else {}
            ui_fields = ui_out.split() if ui.returncode == 0 else ["0", "0", "?"]
            row = {
                "round": round_no,
                "ingest_exit": ingest.returncode,
                "ingest_s": round(ingest_s, 1),
                "added": len(report.get("added", [])),
                "updated": len(report.get("updated", [])),
                "asks": len(asks),
                "ask_failures": [c for c in asks if c != 0],
                "ui_exit": ui.returncode,
                "ui_answered": int(ui_fields[0]),
                "ui_failed": int(ui_fields[1]),
                "ui_opened_chroma": ui_fields[2],
                "check": state,
            }
            print(json.dumps(row), flush=True)
            totals["asks"] += len(asks)
            totals["ask_failures"] += len(row["ask_failures"])  # type: ignore[arg-type]
            totals["ui_answered"] += int(ui_fields[0])
            totals["ui_failed"] += int(ui_fields[1]) + (ui.returncode != 0)
            totals["mismatches"] += len(state.get("mismatch", [])) + ("error" in state)
            if ingest.returncode != 0:
                totals["mismatches"] += 1
                print(ingest.stderr, file=sys.stderr)
            if ui.returncode != 0:
                print(ui_err, file=sys.stderr)
    print(json.dumps({"summary": totals}))
    return 0 if totals["ask_failures"] == totals["mismatches"] == totals["ui_failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
