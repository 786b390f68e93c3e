"""What `rag status` reports: the index, the embedder queries would use, the store, Ollama.

Honest about what is really there: for each vector collection, the vectors readers can
search (the snapshot of the embedded store, or the count a Chroma server gives) next to
the chunks the catalog says it holds; the health of the BM25 index; and the reason when
dense search is off. It never opens the embedded Chroma store (only an ingest does).
"""

from __future__ import annotations

from typing import Any

from core.errors import RagError
from core.ollama_api import OllamaAPI
from core.settings import Settings
from index import dense_cache
from index.catalog import Catalog
from index.dense_cache import DENSE_DIR
from index.embedders import Embedder, resolve_embedder
from index.lexical import LexicalIndex, lexical_problem
from index.vectors import VectorStore


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
    generation = 0
    tokens_outdated = False
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
                        "chunks": catalog.claimed_chunks(name),
                        "dirty": dirty,
                        **_vectors(settings, name),
                    }
                )
            generation = catalog.generation
            tokens_outdated = catalog.tokens_outdated()
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
    lexical_info: dict[str, Any] = {"chunks": len(lexical) if lexical else 0, "problem": None}
    if exists:
        problem = lexical_problem(settings.lexical_dir, generation) if chunks else None
        problems = []
        if problem:
            problems.append(
                f"the saved BM25 index is {problem}: questions rebuild it in memory each "
                "time (slower) until `rag ingest` repairs it"
            )
        if tokens_outdated:
            problems.append(
                "its words were split by an older version of this tool (a number before "
                "Chinese text is missed, a speaker's name is not found in their turn): "
                "`rag ingest` splits them again"
            )
        lexical_info["problem"] = "; ".join(problems) or None
    dense = _dense_state(settings, embedder, collections, chunks)
    return {
        "documents": documents,
        "chunks": chunks,
        "languages": languages,
        "embedder": embedder_info,
        "embedder_note": note,
        "store": settings.store_kind,
        "store_location": VectorStore(settings).location,
        "data_dir": str(settings.data_dir),
        "lexical": lexical_info,
        "dense": dense,
        "llm": {"model": settings.llm_model, "available": ollama.has_model(settings.llm_model)},
        "ollama": ollama.as_dict(),
        "collections": collections,
        "docs": docs,
    }


def _vectors(settings: Settings, name: str) -> dict[str, Any]:
    """The vectors of a collection that readers can search, and any problem with them."""
    if settings.chroma_url:
        store = VectorStore(settings)
        try:
            col = store.named(name)
            if col is None:
                return {"vectors": 0, "problem": f"collection {name} is missing on the server"}
            return {"vectors": store.count(col), "problem": None}
        except RagError as exc:
            return {"vectors": None, "problem": f"Chroma server is down or refused: {exc}"}
        finally:
            store.close()
    folder = settings.data_dir / DENSE_DIR
    header = dense_cache.read_header(folder, name)
    if header is None:
        return {"vectors": 0, "problem": "no vector snapshot (run `rag ingest` to rebuild it)"}
    problem = None
    stamp = VectorStore(settings).stamp()
    if header.get("stamp") is not None and header.get("stamp") != stamp:
        problem = (
            "the Chroma store changed since the snapshot was taken"
            + (" (it is missing)" if stamp is None else "")
            + ": `rag ingest` checks and repairs it"
        )
    return {"vectors": int(header["n"]), "problem": problem}


def _dense_state(
    settings: Settings, embedder: Embedder | None, collections: list[dict[str, Any]], chunks: int
) -> dict[str, Any]:
    """Whether questions get dense (vector) search, with which collection, or why not."""
    if not chunks:
        return {"on": False, "collection": None, "reason": "nothing is indexed"}
    usable = [c for c in collections if c["documents"] and c["vectors"]]
    if not usable:
        reasons = [f"{c['name']}: {c['problem']}" for c in collections if c.get("problem")]
        why = "; ".join(reasons) or "no document is embedded: run `rag ingest`"
        return {"on": False, "collection": None, "reason": why}
    name = embedder.collection_name if embedder is not None else None
    best = next((c for c in usable if c["name"] == name), usable[0])
    reason: str | None = None
    if best["vectors"] < best["chunks"]:
        reason = (
            f"{best['name']} holds {best['vectors']} of {best['chunks']} vectors: "
            "run `rag ingest` to embed the rest"
        )
    return {"on": True, "collection": best["name"], "reason": reason or best.get("problem")}


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
    lex = st["lexical"]
    lines.append(
        f"lexical:  BM25 over {lex['chunks']} chunks"
        + (f"; problem: {lex['problem']}" if lex.get("problem") else "")
    )
    for c in st["collections"]:
        vectors = "?" if c.get("vectors") is None else c["vectors"]
        lines.append(
            f"vectors:  {c['name']}: {vectors} vectors for {c['chunks']} chunks "
            f"({c['documents']} documents)"
            + (f"; problem: {c['problem']}" if c.get("problem") else "")
        )
    dense = st["dense"]
    if dense["on"]:
        lines.append(
            f"dense:    on ({dense['collection']})"
            + (f"; note: {dense['reason']}" if dense.get("reason") else "")
        )
    else:
        lines.append(f"dense:    off: {dense['reason']} (answers use BM25 only)")
    for d in st["docs"]:
        chunks = f"{d['chunks']} chunk" + ("" if d["chunks"] == 1 else "s")
        lines.append(f"  - {d['source']}  [{d['lang']}, {chunks}]  {d['title']}")
    return "\n".join(lines)
