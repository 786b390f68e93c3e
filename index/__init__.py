"""Turning files into searchable chunks: load -> chunk -> embed -> store.

Modules, in data-flow order: `scan` (which files), `encoding` and `loaders` (bytes to
text, title, pages), `language`, `chunker` (token-aware, exact offsets), `lexical`
(tokens and the BM25 index), `embedders`, `catalog` (SQLite: manifest, documents,
chunks), `vectors` (Chroma), `dense_cache` (the vector snapshot readers search), and
`ingest`, which runs them in order: `prepare` (a file to chunks, ahead of the
embedding), `store_writer` (the embed -> write loop), `writer_lock` (one writer) and
`report`. Built on `core` only: nothing here imports `rag` or `ui`.
"""
