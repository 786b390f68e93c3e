"""One typed settings object, read from the environment (`RAG_*`, `OLLAMA_HOST`).

`.env.example` and the README's configuration table document every field; a test keeps
the three in agreement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError
from core.ollama_config import normalize_ollama_host, parse_keep_alive

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"

__all__ = ["Settings", "env_name", "load_settings", "normalize_ollama_host"]


class Settings(BaseSettings):
    """Every knob of the tool. Field names map to `RAG_<NAME>` unless an alias says otherwise."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        Path(".rag"), description="Where the index lives (catalog, Chroma, BM25)."
    )
    chroma_url: str | None = Field(
        None, description="Chroma server URL (`chroma run`); unset = embedded store in data_dir."
    )
    chroma_token: str | None = Field(
        None, description="Bearer token for a Chroma server started with token auth."
    )
    ollama_host: str = Field(
        DEFAULT_OLLAMA_HOST,
        validation_alias=AliasChoices("OLLAMA_HOST", "RAG_OLLAMA_HOST"),
        description="Ollama server URL.",
    )
    llm_backend: Literal["ollama", "openai"] = Field(
        "ollama",
        description="ollama: Ollama's own API at OLLAMA_HOST; openai: an OpenAI-compatible "
        "server (llama.cpp, LM Studio, vLLM, Ollama's /v1) at RAG_LLM_BASE_URL.",
    )
    llm_base_url: str | None = Field(
        None,
        description="Base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1; "
        "required with RAG_LLM_BACKEND=openai (there is no cloud default).",
    )
    llm_api_key: str | None = Field(
        None, description="API key sent to the OpenAI-compatible server, if it asks for one."
    )
    llm_context_window: int | None = Field(
        None,
        ge=512,
        description="The model's context window in tokens; unset: computed from "
        "RAG_CONTEXT_TOKENS for Ollama, read from an OpenAI-compatible server (else 4096).",
    )
    llm_model: str = Field("llama3.1:8b", description="Model that writes answers.")
    embed_model: str = Field("bge-m3", description="Ollama embedding model (multilingual).")
    embedder: Literal["auto", "ollama", "bundled", "builtin"] = Field(
        "auto",
        description=(
            "auto: Ollama's embed_model when it is pulled and reachable, else the bundled "
            "multilingual model, else builtin."
        ),
    )
    embed_batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding request.")
    ollama_timeout: float = Field(
        120.0, gt=0, description="Seconds to wait for one Ollama request (generation, embedding)."
    )
    probe_timeout: float = Field(
        2.0, gt=0, description="Seconds to wait when checking whether Ollama is reachable."
    )
    ollama_keep_alive: str | int | float = Field(
        "5m",
        description="How long Ollama keeps a model loaded after a request: a duration (5m, "
        "1h) or seconds (3600; -1 = always).",
    )
    chunk_size: int = Field(300, ge=32, le=8192, description="Maximum tokens per chunk.")
    chunk_overlap: int = Field(40, ge=0, description="Tokens of overlap between chunks.")
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are skipped.")
    top_k: int = Field(8, ge=1, le=100, description="Passages retrieved as context per question.")
    context_tokens: int = Field(
        3000, ge=100, description="Token budget (tiktoken) for the passages given to the model."
    )
    rerank_depth: int = Field(
        8,
        ge=0,
        le=10,
        description="The first N passages (10 at most) are re-ordered by their best sentence's "
        "similarity to the question (bundled embedder); 0 turns it off.",
    )
    ui_auth: str | None = Field(
        None,
        description="`user:password` that `rag serve` asks for; required for a non-loopback host.",
    )

    @field_validator("ollama_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return normalize_ollama_host(value)

    @field_validator("ollama_keep_alive", mode="before")
    @classmethod
    def _keep_alive(cls, value: object) -> str | int | float:
        if not isinstance(value, str | int | float):
            raise ValueError("expected a duration such as 5m or a number of seconds")
        return parse_keep_alive(value)

    @field_validator("llm_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL such as http://127.0.0.1:8080/v1: {value!r}")
        return value

    @field_validator("llm_api_key")
    @classmethod
    def _api_key(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("ui_auth")
    @classmethod
    def _ui_auth(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        user, sep, password = value.partition(":")
        if not sep or not user.strip() or not password:
            raise ValueError("expected user:password")
        return value

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if "://" not in value:
            value = "http://" + value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @model_validator(mode="after")
    def _backend(self) -> Settings:
        if self.llm_backend == "openai" and not self.llm_base_url:
            raise ValueError(
                "RAG_LLM_BACKEND=openai needs RAG_LLM_BASE_URL, the server's URL "
                "(e.g. http://127.0.0.1:8080/v1): there is no default"
            )
        return self

    @model_validator(mode="after")
    def _overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                f"RAG_CHUNK_SIZE ({self.chunk_size})"
            )
        return self

    # Derived paths -------------------------------------------------------------------
    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def uploads_dir(self) -> Path:
        """Where the UI keeps uploaded files (deleting such a document deletes its copy)."""
        return self.data_dir / "uploads"

    @property
    def store_kind(self) -> Literal["embedded", "server"]:
        return "server" if self.chroma_url else "embedded"


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return "OLLAMA_HOST" if field == "ollama_host" else f"RAG_{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; overrides (from CLI flags) win.

    Raises ConfigError with one line naming the variable and the value at fault.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = str(err["loc"][0]) if err["loc"] else ""
        where = env_name(loc) if loc else "settings"
        value = err.get("input")
        msg = str(err["msg"]).removeprefix("Value error, ")
        shown = f"={value!r}" if loc and not isinstance(value, dict) else ""
        raise ConfigError(f"invalid {where}{shown}: {msg}") from None
