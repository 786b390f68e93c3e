"""Settings: read from the environment, validated with one-line messages, and documented
in `.env.example` and the README exactly as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, env_name, load_settings, normalize_ollama_host

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAG_DATA_DIR", "OLLAMA_HOST", "RAG_PROBE_TIMEOUT", "RAG_EMBEDDER"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.data_dir == Path(".rag")
    assert s.ollama_host == "http://127.0.0.1:11434"
    assert s.llm_model == "llama3.1:8b"
    assert s.embed_model == "bge-m3"
    assert s.embedder == "auto"
    assert s.chroma_url is None
    assert s.store_kind == "embedded"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11500")
    monkeypatch.setenv("RAG_CHROMA_URL", "localhost:8000/")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "200")
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    s = load_settings()
    assert s.data_dir == tmp_path / "x"
    assert s.ollama_host == "http://gpu-box:11500"
    assert s.chroma_url == "http://localhost:8000"
    assert s.store_kind == "server"
    assert s.chunk_size == 200
    assert s.embedder == "builtin"
    assert s.catalog_path == tmp_path / "x" / "catalog.sqlite3"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("example.org", "http://example.org:11434"),
        ("https://example.org", "https://example.org:443"),
        ("http://[::1]:9999/", "http://[::1]:9999"),
    ],
)
def test_ollama_host_forms(raw: str, expected: str) -> None:
    assert normalize_ollama_host(raw) == expected


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("RAG_CHUNK_SIZE", "lots", "RAG_CHUNK_SIZE='lots'"),
        ("RAG_EMBEDDER", "openai", "RAG_EMBEDDER='openai'"),
        ("OLLAMA_HOST", "ftp://x", "OLLAMA_HOST='ftp://x'"),
        ("RAG_CHUNK_OVERLAP", "500", "RAG_CHUNK_OVERLAP (500) must be smaller"),
    ],
)
def test_bad_values_give_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def _documented_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    fields = {env_name(name) for name in Settings.model_fields}
    assert _documented_in_env_example() == fields


def test_env_example_values_are_the_defaults() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    defaults = Settings.model_construct()
    for name, info in Settings.model_fields.items():
        match = re.search(rf"^#?\s*{env_name(name)}=(.*)$", text, flags=re.MULTILINE)
        assert match, name
        shown = match.group(1).strip()
        default = getattr(defaults, name)
        if default is None:
            assert shown == "", name
        elif isinstance(default, float):
            assert float(shown) == default, name
        else:
            assert shown == str(default), (name, info)


def test_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in readme, env_name(name)
