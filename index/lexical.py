"""Lexical side of hybrid retrieval: a tokenizer that is fair to every corpus language,
and a persisted BM25 index (bm25s) over chunk tokens.

Tokenizing: NFKC + case folding, numbers canonicalised (`textnorm`), Han runs segmented
with rjieba (jieba's dictionary, in Rust, search mode so 人工智能 also yields 人工/智能),
kana as character bigrams, everything else split on word characters. No stemming: an
English stemmer mangles Indonesian (e.g. "dimiliki", "berapa"), and plain tokens match
names and numbers across languages, which is what cross-lingual lexical search relies on.
Only plurals of acronyms and model names are folded (GPUs -> gpu, H100s -> h100).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.textnorm import canonical_numbers

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = "\u3040-\u30ff"
# a dotted number ends where a Latin word would go on ("3.1x" is no number) but not where
# Han text does: Chinese writes "Llama 3.1最大的版本" without a space
_TOKEN = re.compile(
    rf"[{_HAN}]+|[{_KANA}]+|\d+(?:\.\d+)+(?![^\W{_HAN}{_KANA}])|[^\W{_HAN}{_KANA}]+"
)
# bumped whenever a chunk's stored tokens change for some text (`tokenize`, or what
# `index.speakers.chunk_lex` adds): a catalog's stored chunk tokens from an older version
# are made again on the next ingest (`Catalog`). 3: a chunk inside a speaker's turn holds
# the speaker label's words.
TOKENIZER_VERSION = 3

# "GPUs", "LLMs", "H100s", "1990s" -> drop the plural s (before case folding)
_ACRONYM_PLURAL = re.compile(r"\b([A-Z]{2,}|[A-Za-z]*\d+[A-Za-z]*?)s\b")

STOPWORDS = frozenset(
    # English
    "a an the and or of to in on at for by with from as is are was were be been being it its "
    "this that these those there their they them he she his her we our you your i me my "
    "do does did doing have has had how many much what which who whom whose when where why "
    "will would can could should shall may might must not no yes than then so such about into "
    "over also just only very more most some any all each other plan plans planning "
    # Indonesian
    "yang dan di ke dari ini itu untuk dengan pada adalah akan dalam tidak juga atau oleh "
    "sebagai telah bahwa karena ada para sang si pun lah kah nya berapa apa siapa kapan mana "
    "bagaimana mengapa apakah kenapa dia ia mereka kita kami saya anda sudah masih bisa dapat "
    "tersebut secara saat serta namun tetapi jika maka agar hingga sejak "
    # Chinese function words and question words
    "的 了 是 在 和 也 就 都 而 及 与 着 或 这 那 一个 什么 多少 谁 哪 吗 呢 吧 啊 有 将 会 把 被 "
    "计划 拥有".split()
)


def tokenize(text: str) -> list[str]:
    """Index/query tokens of `text` (same function for both sides)."""
    return list(_tokenize(text))


@functools.lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[str, ...]:
    """Cached: an ingest tokenises each chunk for BM25 and the builtin embedder tokenises
    the same chunk text again moments later."""
    return tuple(_tokenize_uncached(text))


def _tokenize_uncached(text: str) -> list[str]:
    import rjieba  # imported lazily: only needed when Han text is present

    text = unicodedata.normalize("NFKC", text)
    text = canonical_numbers(_ACRONYM_PLURAL.sub(r"\1", text).casefold())
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        run = match.group(0)
        first = run[0]
        if "\u3400" <= first <= "\ufaff":
            out.extend(w for w in rjieba.cut_for_search(run) if w not in STOPWORDS)
        elif "\u3040" <= first <= "\u30ff":
            out.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
        else:
            for word in run.split("_"):
                if word and word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
                    out.append(word)
    return out


class LexicalIndex:
    """BM25 over chunk tokens, persisted in a folder, rebuilt whole after each ingest.

    bm25s has no incremental update; rebuilding from the stored tokens is fast (well
    under a second for 10k chunks) and keeps the index exactly equal to the catalog.
    """

    FORMAT = 1

    def __init__(self, ids: list[str], model: Any | None, generation: int) -> None:
        self.ids = ids
        self._model = model
        self.generation = generation

    @classmethod
    def build(
        cls, ids: Sequence[str], tokens: Sequence[Sequence[str]], generation: int
    ) -> LexicalIndex:
        if not ids:
            return cls([], None, generation)
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        model.index([list(t) or [""] for t in tokens], show_progress=False)
        return cls(list(ids), model, generation)

    def save(self, folder: Path) -> None:
        """Write to a sibling temp folder, then swap it in: a crash leaves the old index."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self._model is not None:
            self._model.save(str(tmp), show_progress=False)
        meta = {"format": self.FORMAT, "generation": self.generation, "ids": self.ids}
        (tmp / "ids.json").write_text(json.dumps(meta), encoding="utf-8")
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none (or it is from another format).

        `save` swaps folders while other processes or threads may be reading: a read that
        loses a file midway, or sees the ids of one generation and the matrices of another,
        is retried (the swap takes milliseconds)."""
        for attempt in range(20):
            try:
                return cls._load(folder)
            except (OSError, ValueError, KeyError):
                if attempt == 19:
                    return None  # unreadable: callers rebuild from the catalog
                time.sleep(0.025)
        return None  # pragma: no cover - the loop returns or raises

    @classmethod
    def saved_generation(cls, folder: Path) -> int | None:
        """The catalog generation the saved index was built from, without loading it
        (None: no index, or another format). `save` swaps whole folders, so a readable
        ids.json means the rest of the index is there too."""
        try:
            meta = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return int(meta["generation"]) if meta.get("format") == cls.FORMAT else None

    @classmethod
    def _load(cls, folder: Path) -> LexicalIndex | None:
        meta_path = folder / "ids.json"
        if not meta_path.exists():
            return None
        raw = meta_path.read_text(encoding="utf-8")
        meta = json.loads(raw)
        if meta.get("format") != cls.FORMAT:
            return None
        ids = list(meta["ids"])
        model = None
        if ids:
            import bm25s

            model = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
            if meta_path.read_text(encoding="utf-8") != raw:  # swapped while reading
                raise ValueError("the lexical index changed while it was read")
        return cls(ids, model, int(meta["generation"]))

    def __len__(self) -> int:
        return len(self.ids)

    def doc_freq(self, term: str) -> int:
        """How many chunks hold `term` (a token from `tokenize`); 0 when unknown.

        Read from bm25s's term-major score matrix (one column of postings per term).
        """
        if self._model is None:
            return 0
        tid = self._model.vocab_dict.get(term)
        indptr = self._model.scores["indptr"]
        if tid is None or tid + 1 >= len(indptr):
            return 0
        return int(indptr[tid + 1] - indptr[tid])

    def vocabulary(self) -> list[str]:
        """Every indexed term."""
        if self._model is None:
            return []
        return [t for t in self._model.vocab_dict if t]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk_id, BM25 score) for `query`, best first; empty when nothing matches."""
        if self._model is None or k <= 0:
            return []
        terms = tokenize(query)
        if not terms:
            return []
        import numpy as np  # lazily: commands that do not search skip its import

        scores = np.asarray(self._model.get_scores(terms))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def lexical_problem(folder: Path, generation: int) -> str | None:
    """Why the saved BM25 index cannot serve this catalog generation, or None when it
    can: missing, built from another generation, or damaged (a file of the wrong size).
    Checked without importing bm25s or numpy: the .npy headers say how large each file
    must be, and the JSON files must parse."""
    generation_saved = LexicalIndex.saved_generation(folder)
    if generation_saved is None:
        return "missing or unreadable"
    if generation_saved != generation:
        return f"built from generation {generation_saved}, the catalog is at {generation}"
    try:
        for path in folder.iterdir():
            if path.suffix == ".npy":
                if not _npy_complete(path):
                    return f"{path.name} is damaged"
            elif path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"damaged ({type(exc).__name__})"
    return None


def _npy_complete(path: Path) -> bool:
    """Whether a .npy file is as long as its header says."""
    with open(path, "rb") as fh:
        head = fh.read(10)
        if len(head) < 10 or head[:6] != b"\x93NUMPY":
            return False
        major = head[6]
        if major == 1:
            hlen = int.from_bytes(head[8:10], "little")
            start = 10
        else:
            fh.seek(8)
            hlen = int.from_bytes(fh.read(4), "little")
            start = 12
        fh.seek(start)
        header = ast.literal_eval(fh.read(hlen).decode("latin1"))
        size = os.fstat(fh.fileno()).st_size
    shape = header["shape"]
    count = 1
    for dim in shape:
        count *= int(dim)
    itemsize = int(re.sub(r"\D", "", header["descr"]) or "1")
    return size == start + hlen + count * itemsize
