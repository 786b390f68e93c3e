"""Shared fixtures.

Every test runs with its own data directory under `tmp_path`, no RAG_* or OPENAI_API_KEY
from the developer's shell, and OLLAMA_HOST pointing at a port where nothing listens, so
a test that wants Ollama must ask for the `fake_ollama` fixture and point at it.

Embedding: tests that do not need meaning use the cheap builtin hash embedder
(RAG_EMBEDDER=builtin is the default here); tests of meaning use the bundled multilingual
model (`bundled_index`), and tests of the `auto` choice set RAG_EMBEDDER=auto themselves.

Ingesting the corpus costs a few seconds, so `corpus_index` ingests it once per session
(builtin embedder) into a template and gives each test its own copy; `bundled_index` does
the same with the bundled model.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.offline import configure_offline
from core.settings import Settings, load_settings
from tests.fake_ollama import FakeOllama, dead_ollama_url, fake_ollama, ollama_down
from tests.netguard import NetGuard

__all__ = ["fake_ollama", "ollama_down"]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

configure_offline()

_CLEARED_PREFIXES = ("RAG_", "CHROMA_")
_CLEARED = ("OLLAMA_HOST", "OPENAI_API_KEY", "TIKTOKEN_CACHE_DIR_OVERRIDE")


def _clean_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    for key in list(os.environ):
        if key.startswith(_CLEARED_PREFIXES) or key in _CLEARED:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OLLAMA_HOST", dead_ollama_url())
    monkeypatch.setenv("RAG_PROBE_TIMEOUT", "0.5")
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test: its own data dir, no user configuration, no Ollama unless asked."""
    data_dir = tmp_path / "data"
    _clean_env(monkeypatch, data_dir)
    return data_dir


@pytest.fixture(autouse=True)
def _netguard() -> Iterator[NetGuard]:
    """Every test runs under the in-process socket guard (tests/netguard.py): a connection
    or name lookup beyond loopback is refused and fails the test, even if the code under
    test swallowed the error."""
    with NetGuard() as guard:
        yield guard
    if guard.violations:
        pytest.fail(f"network access beyond loopback:\n{guard.report()}", pytrace=False)


@pytest.fixture
def data_dir(_isolated: Path) -> Path:
    return _isolated


@pytest.fixture
def settings() -> Settings:
    """Settings as the environment gives them (after the autouse isolation)."""
    return load_settings()


@pytest.fixture
def with_ollama(fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    """The fake Ollama server, with OLLAMA_HOST pointing at it."""
    monkeypatch.setenv("OLLAMA_HOST", fake_ollama.url)
    return fake_ollama


def _ingest_template(factory: pytest.TempPathFactory, embedder: str) -> Path:
    """The shipped corpus ingested once, with `embedder`, into a session template."""
    from index.ingest import ingest

    template = factory.mktemp(f"corpus-{embedder}")
    mp = pytest.MonkeyPatch()
    try:
        _clean_env(mp, template / "data")
        mp.setenv("RAG_EMBEDDER", embedder)
        report = ingest([str(CORPUS)], load_settings(), progress=False)
        assert len(report.added) == 5 and report.embedder["kind"] == embedder, report.as_dict()
    finally:
        mp.undo()
    return template / "data"


def _copy_index(template: Path, data_dir: Path, mp: pytest.MonkeyPatch, embedder: str) -> Settings:
    shutil.copytree(template, data_dir)
    mp.setenv("RAG_EMBEDDER", embedder)
    return load_settings()


@pytest.fixture(scope="session")
def _corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _ingest_template(tmp_path_factory, "builtin")


@pytest.fixture
def corpus_index(
    _corpus_template: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A data dir holding the shipped corpus, ingested with the builtin embedder."""
    return _copy_index(_corpus_template, data_dir, monkeypatch, "builtin")


@pytest.fixture(scope="session")
def _bundled_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from index.embedders import BundledEmbedder

    reason = BundledEmbedder.available()
    if reason is not None:
        pytest.skip(reason)
    return _ingest_template(tmp_path_factory, "bundled")


@pytest.fixture
def bundled_index(
    _bundled_template: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A data dir holding the shipped corpus, embedded with the bundled multilingual model."""
    return _copy_index(_bundled_template, data_dir, monkeypatch, "bundled")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the shipped corpus folder."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    yield target


LONGEST = "a16z-third-era-of-computing.id.txt"  # 43 KB: 59% of the shipped corpus's text


@pytest.fixture
def short_corpus_copy(tmp_path: Path) -> Iterator[Path]:
    """The shipped corpus without its longest article (four documents, in Indonesian and
    Chinese, the H100 figures among them): for tests that embed a whole folder with the
    bundled model (about 15 s for the full corpus on two cores) and whose point does not
    depend on that article, to keep the suite inside its time budget."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target, ignore=shutil.ignore_patterns(LONGEST))
    yield target
