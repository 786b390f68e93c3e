"""The baseline for `rag ask --no-llm`: a minimal stock llama-index script doing the same
retrieval (BM25 + Chroma vectors, fused by reciprocal rank) over an index persisted by
run.py (SentenceSplitter defaults, BM25Retriever.persist, a persistent Chroma folder).

    python bench/stock_ask.py PERSIST_DIR "question"
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stock


def main() -> int:
    persist, question = Path(sys.argv[1]), sys.argv[2]
    fusion = stock.persisted_fusion(persist)
    for n, hit in enumerate(fusion.retrieve(question), 1):
        print(f"[{n}] {hit.node.metadata.get('file_name')}: {hit.node.get_content()[:200]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
