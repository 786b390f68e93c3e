"""What `rag status` reports: the index, the embedder queries would use, the store, Ollama."""

from __future__ import annotations

from typing import Any

from index.catalog import Catalog
from index.embedders import resolve_embedder
from index.lexical import LexicalIndex
from index.vectors import VectorStore
from rag.errors import RagError
from rag.ollama_api import OllamaAPI
from rag.settings import Settings


def collect_status(settings: Settings) -> dict[str, Any]:
    api = OllamaAPI(
        settings.ollama_host, timeout=settings.ollama_timeout, probe_timeout=settings.probe_timeout
    )
    ollama = api.probe()
    exists = settings.catalog_path.exists()
    documents = chunks = 0
    languages: dict[str, int] = {}
    docs: list[dict[str, Any]] = []
    collections: list[dict[str, Any]] = []
    embedder_info: dict[str, Any]
    note: str | None = None
    try:
        embedder, note = resolve_embedder(settings, api, ollama)
        embedder_info = embedder.describe()
    except RagError as exc:
        embedder_info = {"kind": settings.embedder, "model": settings.embed_model, "dim": None}
        note = str(exc)
        embedder = None
    if exists:
        catalog = Catalog(settings.catalog_path)
        try:
            documents, chunks = catalog.counts()
            languages = catalog.languages()
            docs = [
                {
                    "source": d.source,
                    "title": d.title,
                    "lang": d.lang,
                    "format": d.format,
                    "chunks": d.n_chunks,
                    "sha256": d.sha256,
                }
                for d in catalog.documents()
            ]
            for name, kind, model, dim, dirty in catalog.collections():
                collections.append(
                    {
                        "name": name,
                        "kind": kind,
                        "model": model,
                        "dim": dim,
                        "documents": catalog.embedded_count(name),
                        "dirty": dirty,
                    }
                )
            if embedder is not None:
                covered = catalog.embedded_count(embedder.collection_name)
                embedder_info["documents"] = covered
                if embedder.dim is None:
                    for c in collections:
                        if c["name"] == embedder.collection_name:
                            embedder_info["dim"] = c["dim"]
                if covered < documents:
                    note = (note + "; " if note else "") + (
                        f"{documents - covered} document(s) are not embedded with "
                        f"{embedder.kind} {embedder.model}: run `rag ingest`"
                    )
        finally:
            catalog.close()
    lexical = LexicalIndex.load(settings.lexical_dir) if exists else None
    return {
        "documents": documents,
        "chunks": chunks,
        "languages": languages,
        "embedder": embedder_info,
        "embedder_note": note,
        "store": settings.store_kind,
        "store_location": VectorStore(settings).location,
        "data_dir": str(settings.data_dir),
        "lexical": {"chunks": len(lexical) if lexical else 0},
        "llm": {"model": settings.llm_model, "available": ollama.has_model(settings.llm_model)},
        "ollama": ollama.as_dict(),
        "collections": collections,
        "docs": docs,
    }


def format_status(st: dict[str, Any]) -> str:
    langs = ", ".join(f"{k} {v}" for k, v in st["languages"].items()) or "none"
    emb = st["embedder"]
    ol = st["ollama"]
    lines = [
        f"index:    {st['documents']} documents, {st['chunks']} chunks ({langs})",
        f"data:     {st['data_dir']}",
        f"store:    {st['store']} Chroma at {st['store_location']}",
        f"embedder: {emb['kind']} {emb['model']} (dim {emb['dim'] or '?'})",
    ]
    if st.get("embedder_note"):
        lines.append(f"          note: {st['embedder_note']}")
    if ol["reachable"]:
        models = ", ".join(ol["models"]) or "no models pulled"
        lines.append(f"ollama:   reachable at {ol['host']} (version {ol['version']}): {models}")
        if not st["llm"]["available"]:
            m = st["llm"]["model"]
            lines.append(f'          answer model {m} is not pulled: run "ollama pull {m}"')
    else:
        lines.append(
            f"ollama:   not reachable at {ol['host']}: answers are retrieval-only "
            "(no language model); see README, Using a local model"
        )
    for d in st["docs"]:
        lines.append(f"  - {d['source']}  [{d['lang']}, {d['chunks']} chunks]  {d['title']}")
    return "\n".join(lines)
