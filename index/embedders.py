"""Embedders: one abstract method, `embed_batch`; batching and checks live in the base.

- `OllamaEmbedder`: a model served by Ollama (default bge-m3, multilingual), many texts per
  `/api/embed` request.
- `BuiltinEmbedder`: weight-free and deterministic, so a fresh machine with no Ollama and no
  downloads still gets a dense index: hashed words plus character n-grams, L2-normalised.
  It is no match for a neural model across languages, but it rewards shared names, numbers
  and spellings in any script, which is what the lexical side cannot do for near-misses.

Each embedder names the Chroma collection its vectors live in, so vectors of different
embedders are never mixed (see `vectors.VectorStore`).
"""

from __future__ import annotations

import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from index.lexical import tokenize
from rag.errors import EmbedderMismatchError, OllamaError
from rag.settings import Settings

if TYPE_CHECKING:  # the ollama client is imported only when Ollama is used (cold-start cost)
    from rag.ollama_api import OllamaAPI, OllamaStatus

ProgressFn = Callable[[int], None]


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]+", "-", text).strip("-._") or "model"


class Embedder(ABC):
    """Turns texts into vectors of a fixed dimension."""

    kind: str
    model: str

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._dim: int | None = None

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed one batch (at most `batch_size` texts) in one call."""

    @property
    def dim(self) -> int | None:
        """The vector dimension, or None until it is known (first call, for some models)."""
        return self._dim

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None) -> list[list[float]]:
        """Embed any number of texts, `batch_size` at a time, checking every dimension."""
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            vectors = self.embed_batch(batch)
            for vector in vectors:
                if self._dim is None:
                    self._dim = len(vector)
                elif len(vector) != self._dim:
                    raise EmbedderMismatchError(
                        f"{self.kind} embedder {self.model} returned vectors of dimension "
                        f"{len(vector)}, expected {self._dim}: the model changed; run "
                        f"`rag reset` and `rag ingest` to re-index with it"
                    )
            out.extend(vectors)
            if progress is not None:
                progress(len(batch))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]

    @property
    def collection_name(self) -> str:
        """The Chroma collection holding this embedder's vectors."""
        return f"rag-{self.kind}-{_slug(self.model)}"[:200]

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.model, "dim": self.dim}


class BuiltinEmbedder(Embedder):
    """Feature hashing of words and character n-grams into `dim` signed buckets."""

    kind = "builtin"
    model = "hash-ngram-v1"
    DIM = 1024

    def __init__(self, batch_size: int = 256) -> None:
        super().__init__(batch_size)
        self._dim = self.DIM
        self._cache: dict[str, tuple[int, float]] = {}

    def _bucket(self, feature: str) -> tuple[int, float]:
        hit = self._cache.get(feature)
        if hit is None:
            h = zlib.crc32(feature.encode("utf-8"))
            hit = (h % self.DIM, 1.0 if (h >> 16) & 1 else -1.0)
            if len(self._cache) < 500_000:
                self._cache[feature] = hit
        return hit

    def _features(self, text: str) -> tuple[list[int], list[float]]:
        idx: list[int] = []
        val: list[float] = []
        for word in tokenize(text):
            b, s = self._bucket("w:" + word)
            idx.append(b)
            val.append(s)
            if word[0] >= "\u3400":  # Han/kana word: its characters
                grams = list(word) if len(word) > 1 else []
                weight = 0.5
            elif len(word) >= 4 and not word.isdigit():
                padded = f"<{word}>"
                grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
                weight = 1.5 / len(grams)
            else:
                grams = []
                weight = 0.0
            for gram in grams:
                b, s = self._bucket("g:" + gram)
                idx.append(b)
                val.append(s * weight)
        return idx, val

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        import numpy as np  # lazily: an unchanged re-ingest never embeds

        out: list[list[float]] = []
        for text in texts:
            idx, val = self._features(text)
            vec = np.bincount(
                np.asarray(idx, dtype=np.int64),
                weights=np.asarray(val, dtype=np.float64),
                minlength=self.DIM,
            ).astype(np.float64)
            # sublinear term frequency keeps a repeated word from dominating
            vec = np.sign(vec) * np.log1p(np.abs(vec))
            norm = float(np.linalg.norm(vec))
            if norm == 0.0:
                vec = np.zeros(self.DIM)
                vec[0] = 1.0  # a constant unit vector for text with no features
            else:
                vec = vec / norm
            out.append(vec.astype(np.float32).tolist())
        return out


class OllamaEmbedder(Embedder):
    """An embedding model served by Ollama (`/api/embed`, many inputs per request)."""

    kind = "ollama"

    def __init__(
        self,
        api: OllamaAPI,
        model: str,
        *,
        batch_size: int = 32,
        keep_alive: str | float | None = None,
    ) -> None:
        super().__init__(batch_size)
        self.api = api
        self.model = model
        self.keep_alive = keep_alive

    def resolve_dim(self) -> int | None:
        """Ask Ollama (`/api/show`, no embedding computed) for the model's dimension."""
        if self._dim is None:
            self._dim = self.api.embedding_dim(self.model)
        return self._dim

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        return self.api.embed(self.model, texts, keep_alive=self.keep_alive)


def resolve_embedder(
    settings: Settings, api: OllamaAPI, status: OllamaStatus | None = None
) -> tuple[Embedder, str | None]:
    """Pick the embedder the settings ask for. Returns (embedder, note for the user).

    `auto` uses Ollama's embed model when Ollama answers and has it pulled, otherwise the
    builtin embedder, and says why in the note. `ollama` insists (errors propagate).
    """
    if settings.embedder == "builtin":
        return BuiltinEmbedder(), None
    if settings.embedder == "ollama":
        emb = OllamaEmbedder(
            api,
            settings.embed_model,
            batch_size=settings.embed_batch_size,
            keep_alive=settings.ollama_keep_alive,
        )
        emb.resolve_dim()  # raises ModelNotFoundError / OllamaUnavailableError
        return emb, None
    status = status or api.probe()
    if not status.reachable:
        return BuiltinEmbedder(), "Ollama is not reachable: using the builtin embedder"
    if not status.has_model(settings.embed_model):
        return BuiltinEmbedder(), (
            f"embedding model {settings.embed_model} is not pulled in Ollama at {api.host} "
            f'(run "ollama pull {settings.embed_model}"): using the builtin embedder'
        )
    emb = OllamaEmbedder(
        api,
        settings.embed_model,
        batch_size=settings.embed_batch_size,
        keep_alive=settings.ollama_keep_alive,
    )
    try:
        emb.resolve_dim()
    except OllamaError as exc:
        return BuiltinEmbedder(), f"{exc}: using the builtin embedder"
    return emb, None
