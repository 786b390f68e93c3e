"""Crash safety: SIGKILL `rag ingest` at random points, check after every kill that the
index opens and answers, then check that the next ingest converges to exactly what a clean
ingest of the same folder gives.

    python bench/kill_loop.py [--kills 100] [--seed 1] [--extra-docs 12]

Kills are spread over the whole run: some at random times during start-up, most a random
few milliseconds after the k-th document was committed (`rag ingest -v` prints one line
per document), so they land inside Chroma writes, catalog transactions, the BM25 rebuild
and the orphan sweep. Between kills the folder changes (a document edited, added or
deleted), so every run has work to do. tests/test_crash.py runs a short version of this.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
RAG = str(Path(sys.executable).with_name("rag"))
QUESTION = "how many H100s does Meta plan to have"
DOC_LINE = ("added: ", "updated: ", "reembedded: ")

_WORDS = (
    "Meta Llama GPU H100 Zuckerberg kecerdasan buatan umum model terbuka pusat data "
    "pelatihan 元宇宙 人工智能 开源 模型 the open weights inference cluster"
).split()


def make_docs(folder: Path, extra: int, rng: random.Random) -> None:
    """The shipped corpus plus `extra` small generated documents (more commit points)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in CORPUS.iterdir():
        shutil.copy2(path, folder / path.name)
    for i in range(extra):
        write_small(folder / f"note-{i:02d}.txt", rng, f"note {i}")


def write_small(path: Path, rng: random.Random, label: str) -> None:
    sentences = [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 20))).capitalize() + "."
        for _ in range(rng.randint(3, 40))
    ]
    path.write_text(f"{label}\n\n" + " ".join(sentences) + "\n", encoding="utf-8")


def mutate(folder: Path, rng: random.Random, step: int) -> str:
    """Edit, add or delete one document; return what was done."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    action = rng.choice(["edit", "edit", "add", "delete"])
    if action == "delete" and len(files) > 6:
        victim = rng.choice([p for p in files if p.name.startswith("note-")] or files)
        victim.unlink()
        return f"deleted {victim.name}"
    if action == "add":
        path = folder / f"added-{step:03d}-{rng.randint(0, 999):03d}.txt"
        write_small(path, rng, f"added at step {step}")
        return f"added {path.name}"
    victim = rng.choice(files)
    with victim.open("a", encoding="utf-8") as fh:
        fh.write(f"\nEdited at step {step}: Meta plans {rng.randint(1, 999)},000 GPUs.\n")
    return f"edited {victim.name}"


def env_for(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RAG_", "CHROMA_")) and k not in ("OLLAMA_HOST", "OPENAI_API_KEY")
    }
    env.update(
        RAG_DATA_DIR=str(data_dir),
        RAG_EMBEDDER="builtin",
        OLLAMA_HOST="http://127.0.0.1:9",  # nothing listens: no model, ever
        RAG_PROBE_TIMEOUT="0.2",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Kill:
    killed: bool
    after_docs: int  # documents committed (lines seen) before the kill
    delay_ms: float
    seconds: float


def ingest_and_kill(
    folder: Path, data_dir: Path, rng: random.Random, startup: float, late: bool
) -> Kill:
    """Start `rag ingest -v`, SIGKILL it at a random point (after committed documents when
    `late`); Kill.killed is False when the run finished first."""
    # -1: during start-up (imports, opening the stores), 0: a little later (planning,
    # embedding), k > 0: a few ms after the k-th document was committed
    target = rng.randint(1, 4) if late else rng.randint(-1, 0)
    delay = rng.uniform(0, 0.08)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [RAG, "ingest", "-v", str(folder)],
        env=env_for(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = 0
    try:
        if target < 0:
            time.sleep(rng.uniform(0.3, 1.0) * startup)
        elif target == 0:
            time.sleep(startup + rng.uniform(0, 0.5))
        else:
            assert proc.stderr is not None
            while seen < target:
                line = proc.stderr.readline()
                if not line:
                    break  # the run ended
                if line.startswith(DOC_LINE):
                    seen += 1
            time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    return Kill(killed, seen, delay * 1000, time.monotonic() - t0)


def run_ingest(folder: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAG, "ingest", "--json", str(folder)],
        env=env_for(data_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )


# checking ----------------------------------------------------------------------------------


@contextmanager
def _settings_for(data_dir: Path) -> Iterator[Any]:
    from core.settings import Settings

    yield Settings(
        data_dir=data_dir,
        embedder="builtin",
        ollama_host="http://127.0.0.1:9",
        probe_timeout=0.2,
    )
    try:  # forget the embedded Chroma system opened on this path
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:
        pass


def check_answers(data_dir: Path, scratch: Path) -> dict[str, Any]:
    """Open a snapshot of the index as it is on disk (copied: the killed process's data is
    not touched, and this process's Chroma cache never sees it change) and ask. Raises
    AssertionError on any inconsistency."""
    from index.catalog import Catalog
    from rag.answer import Answerer

    snap = Path(tempfile.mkdtemp(dir=scratch, prefix="snap-"))
    shutil.rmtree(snap)
    if data_dir.exists():
        shutil.copytree(data_dir, snap)
    else:
        snap.mkdir()
    with _settings_for(snap) as settings:
        catalog = Catalog(settings.catalog_path)
        try:
            docs, _chunks = catalog.counts()
            texts = {d.doc_id: catalog.document_text(d.doc_id) for d in catalog.documents()}
        finally:
            catalog.close()
        with Answerer(settings) as answerer:
            passages = answerer.retrieve(QUESTION)
            answer = answerer.ask(QUESTION, no_llm=True)
    for p in passages:
        assert p.doc_id in texts, p
        assert texts[p.doc_id][p.start : p.end] == p.text, p
    if docs:
        assert passages, "documents are indexed but nothing was retrieved"
    assert answer.mode in ("extractive", "abstain")
    shutil.rmtree(snap, ignore_errors=True)
    return {"documents": docs, "passages": len(passages), "mode": answer.mode}


def index_state(data_dir: Path) -> dict[str, Any]:
    """Everything that must agree between two ingests of the same folder."""
    import numpy as np

    from index.catalog import Catalog
    from index.lexical import LexicalIndex
    from index.vectors import VectorStore

    with _settings_for(data_dir) as settings:
        catalog = Catalog(settings.catalog_path)
        try:
            docs = {
                d.source: (d.doc_id, d.sha256, d.n_chunks, d.title, d.lang)
                for d in catalog.documents()
            }
            chunk_rows = {
                c.chunk_id: (c.doc_id, c.ord, c.start, c.end, c.lex)
                for d in catalog.documents()
                for c in catalog.chunks_of(d.doc_id)
            }
            embedded = {name: catalog.embedded_count(name) for name, *_ in catalog.collections()}
            dirty = {name: flag for name, _k, _m, _d, flag in catalog.collections()}
            generation = catalog.generation
        finally:
            catalog.close()
        store = VectorStore(settings)
        vectors: dict[str, Any] = {}
        duplicates = 0
        for name in embedded:
            col = store.named(name)
            assert col is not None, name
            got = col.get(include=["embeddings", "metadatas"])
            ids = list(got["ids"])
            duplicates += len(ids) - len(set(ids))
            for i, emb, meta in zip(ids, got["embeddings"], got["metadatas"], strict=True):
                vectors[i] = (
                    meta.get("document_id"),
                    meta.get("start"),
                    meta.get("end"),
                    np.round(np.asarray(emb, dtype=np.float64), 5).tobytes(),
                )
        lexical = LexicalIndex.load(settings.lexical_dir)
    return {
        "docs": docs,
        "chunks": chunk_rows,
        "embedded": embedded,
        "dirty": dirty,
        "generation": generation,
        "vectors": vectors,
        "duplicates": duplicates,
        "lexical_ids": sorted(lexical.ids) if lexical else None,
        "lexical_generation": lexical.generation if lexical else None,
    }


def compare(got: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """Differences between a crashed-then-converged index and a clean one ([] = same)."""
    problems = []
    if got["docs"] != clean["docs"]:
        changed = [
            s for s in got["docs"] if s in clean["docs"] and got["docs"][s] != clean["docs"][s]
        ]
        problems.append(
            f"documents differ: only after crashes {set(got['docs']) - set(clean['docs'])}, "
            f"only clean {set(clean['docs']) - set(got['docs'])}, changed {changed}"
        )
    if got["chunks"] != clean["chunks"]:
        problems.append(
            f"chunks differ: {len(set(got['chunks']) ^ set(clean['chunks']))} ids not shared"
        )
    if set(got["vectors"]) != set(got["chunks"]):
        extra = set(got["vectors"]) - set(got["chunks"])
        missing = set(got["chunks"]) - set(got["vectors"])
        problems.append(f"Chroma: {len(extra)} orphans, {len(missing)} chunks without vectors")
    if got["vectors"] != clean["vectors"]:
        diff = [i for i in clean["vectors"] if got["vectors"].get(i) != clean["vectors"][i]]
        problems.append(f"Chroma vectors or metadata differ for {len(diff)} chunks")
    if got["duplicates"]:
        problems.append(f"Chroma holds {got['duplicates']} duplicate ids")
    if got["lexical_ids"] != sorted(got["chunks"]):
        problems.append("BM25 ids differ from the catalog's chunks")
    if got["lexical_generation"] != got["generation"]:
        problems.append("BM25 generation lags the catalog")
    if got["embedded"] != clean["embedded"] or any(got["dirty"].values()):
        problems.append(f"manifest: embedded {got['embedded']} dirty {got['dirty']}")
    return problems


@dataclass
class LoopResult:
    kills: list[Kill] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    final_report: dict[str, Any] = field(default_factory=dict)


def kill_loop(
    work: Path, kills: int, seed: int, extra_docs: int, log: Any = None, late: float = 4 / 6
) -> LoopResult:
    """The whole experiment in `work`; returns what happened (problems == [] is a pass).
    `late`: the share of kills aimed after committed documents."""
    import json

    rng = random.Random(seed)
    folder, data, clean, scratch = (work / n for n in ("docs", "data", "clean", "scratch"))
    scratch.mkdir(parents=True, exist_ok=True)
    make_docs(folder, extra_docs, rng)
    result = LoopResult()
    # time of an interpreter start-up plus imports, for kills "during start-up"
    (scratch / "empty").mkdir()
    t0 = time.monotonic()
    subprocess.run(
        [RAG, "ingest", str(scratch / "empty")], env=env_for(scratch / "d"), capture_output=True
    )
    startup = max(0.5, time.monotonic() - t0)
    step = 0
    while sum(k.killed for k in result.kills) < kills:
        step += 1
        if step > kills * 4:
            result.problems.append(f"only {sum(k.killed for k in result.kills)} kills landed")
            break
        # late runs evenly spread (every third run when late=1/3): each waits ~6 s for
        # the embedding model, and a short loop must still hold some
        aim_late = int(step * late) > int((step - 1) * late)
        kill = ingest_and_kill(folder, data, rng, startup, aim_late)
        result.kills.append(kill)
        check = check_answers(data, scratch)
        check["change"] = [mutate(folder, rng, step) for _ in range(rng.randint(1, 4))]
        result.checks.append(check)
        if log:
            log(f"run {step}: killed={kill.killed} after {kill.after_docs} docs "
                f"+{kill.delay_ms:.0f} ms, {kill.seconds:.1f} s; {check}")  # fmt: skip
    done = run_ingest(folder, data)
    if done.returncode != 0:
        result.problems.append(f"the ingest after the kills failed: {done.stderr.strip()}")
        return result
    result.final_report = json.loads(done.stdout)
    # in this process from here on (no more start-ups to pay): nothing left to do, and a
    # clean ingest of the same folder into an empty data dir to compare with
    from index.ingest import ingest

    with _settings_for(data) as settings:
        again = ingest([str(folder)], settings, progress=False)
    if again.changed or again.chunks:
        result.problems.append(f"an ingest after convergence still did work: {again.as_dict()}")
    with _settings_for(clean) as settings:
        ingest([str(folder)], settings, progress=False)
    result.problems.extend(compare(index_state(data), index_state(clean)))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--extra-docs", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="rag-kill-loop-"))
    t0 = time.monotonic()
    try:
        res = kill_loop(work, args.kills, args.seed, args.extra_docs, log=print)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    landed = [k for k in res.kills if k.killed]
    print(
        f"\n{len(landed)} kills in {len(res.kills)} runs "
        f"(after 0..{max((k.after_docs for k in landed), default=0)} committed documents), "
        f"{time.monotonic() - t0:.0f} s; index opened and answered after every kill: "
        f"{len(res.checks)}/{len(res.kills)}"
    )
    if res.problems:
        print("NOT CONVERGED:\n  " + "\n  ".join(res.problems))
        return 1
    print("converged: same documents, chunk ids, vectors and BM25 as a clean ingest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
