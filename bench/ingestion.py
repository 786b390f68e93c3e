"""`make bench` section `ingest`: chunks/s of our ingest against a stock llama-index
IngestionPipeline with the same embedder (bench/tasks.py runs each side in a process of its
own), with the builtin embedder and through the fake Ollama server (HTTP requests per
chunk), and the re-ingest of an unchanged corpus (seconds, embedding calls).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness import BENCH, OUT, PY, RAG, ROOT, child_env, fresh, run
from results import Bench, Row


def ingest_pair(
    bench: Bench,
    label: str,
    corpus: Path,
    tag: str,
    env_extra: dict[str, str],
    ollama: str | None,
    reingest: bool = True,
) -> None:
    """Ours (`Ingestor`) and a stock IngestionPipeline on the same corpus with the same
    embedder, each in its own process with the libraries imported before the clock
    starts; then both again on the unchanged corpus."""
    ours_dir = fresh(OUT / f"ingest-{tag}-ours")
    stock_dir = fresh(OUT / f"ingest-{tag}-stock")
    env = child_env(RAG_DATA_DIR=str(ours_dir), **env_extra)
    fake = bench.fake

    def requests() -> int | None:
        return len(fake.calls("/api/embed")) if (fake and ollama) else None

    def reset() -> None:
        if fake:
            fake.reset_log()

    ours_cmd = [PY, str(BENCH / "tasks.py"), "ingest-ours", str(corpus)]
    stock_cmd = [PY, str(BENCH / "tasks.py"), "ingest-stock", str(stock_dir), str(corpus)]
    if ollama:
        stock_cmd += ["--ollama", ollama]
    reset()
    ours = run(ours_cmd, env)
    o, o_req = ours.json(), requests()
    reset()
    base = run(stock_cmd, child_env())
    s, s_req = base.json(), requests()
    o_rate, s_rate = o["chunks"] / o["seconds"], s["nodes"] / s["seconds"]
    bench.add(
        Row("ingest", f"ingestion, {label}: chunks/s", o_rate, s_rate, "", ">= 2x",
            o_rate >= 2 * s_rate, f"{o['chunks']} vs {s['nodes']} chunks")
    )  # fmt: skip
    bench.add(
        Row("ingest", f"ingestion, {label}: chunks/s counting process start and imports",
            o["chunks"] / ours.wall, s["nodes"] / base.wall)
    )  # fmt: skip
    if o_req is not None and s_req is not None:
        bench.add(
            Row("ingest", f"ingestion, {label}: embedding HTTP requests per chunk",
                o_req / max(o["chunks"], 1), s_req / max(s["nodes"], 1), "",
                note=f"{o_req} vs {s_req} requests")
        )  # fmt: skip
    if not reingest:
        return
    # the same corpus again, unchanged: in-process, then as the user runs it (`rag ingest`)
    reset()
    a = run(ours_cmd, env).json()
    a_req = requests() if ollama else a.get("embed_requests")
    reset()
    again = run([RAG, "ingest", str(corpus), "--json"], env)
    again.json()
    reset()
    base2 = run(stock_cmd, child_env())
    s2 = base2.json()
    s2_req = requests() if ollama else s2.get("embed_calls")
    bench.add(
        Row("reingest", f"re-ingest unchanged, {label}: seconds", a["seconds"],
            s2["seconds"], " s", "<= 1 s", a["seconds"] <= 1.0)
    )  # fmt: skip
    bench.add(
        Row("reingest", f"re-ingest unchanged, {label}: `rag ingest` wall time vs stock script",
            again.wall, base2.wall, " s", "<= 1 s", again.wall <= 1.0)
    )  # fmt: skip
    bench.add(
        Row("reingest", f"re-ingest unchanged, {label}: embedding calls", a_req, s2_req, "",
            "0", a_req == 0)
    )  # fmt: skip


def ingestion(bench: Bench) -> None:
    import synth

    n = 300 if bench.quick else 1000
    corpus = OUT / "synth-ingest"
    shutil.rmtree(corpus, ignore_errors=True)
    synth.generate_chunks(corpus, n, 300, 40)
    bench.tables.setdefault("facts", []).append(
        f"Ingestion corpus: bench/synth.py, about {n} chunks of <= 300 tokens "
        f"({len(list(corpus.iterdir()))} documents); stock pipeline: SentenceSplitter(300, 40)."
    )
    bench.tables["facts"].append(
        "Ingestion work compared: ours = read, detect language, chunk (tiktoken), embed, "
        "Chroma, BM25 tokens + catalog; stock = SimpleDirectoryReader, SentenceSplitter, "
        "embed, Chroma (+ docstore for re-runs). Both timed in their own process after "
        "importing chromadb and llama-index; 'counting process start' adds those."
    )
    ingest_pair(bench, "builtin embedder", corpus, "builtin", {}, None)
    from tests.fake_ollama import FakeOllama

    fake = FakeOllama().start()
    bench.fake = fake
    try:
        env = {"OLLAMA_HOST": fake.url, "RAG_EMBEDDER": "ollama", "RAG_EMBED_MODEL": "bge-m3"}
        ingest_pair(bench, "fake Ollama (bge-m3)", corpus, "ollama", env, fake.url, False)
        ingest_pair(bench, "fake Ollama, shipped corpus", ROOT / "corpus", "corpus", env, fake.url)
    finally:
        fake.stop()
        bench.fake = None
