"""Token counting with tiktoken, from the encodings shipped inside llama-index-core.

We count tokens with cl100k_base, the encoding llama-index itself uses for chunking; it
never has to be downloaded because `configure_offline` points TIKTOKEN_CACHE_DIR at the
copy llama-index-core ships.
"""

from __future__ import annotations

import functools

import tiktoken

from core.offline import configure_offline

ENCODING = "cl100k_base"
BATCH = 4096  # texts encoded per tiktoken call


@functools.cache
def encoding() -> tiktoken.Encoding:
    configure_offline()
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def count_tokens_batch(texts: list[str]) -> list[int]:
    """`count_tokens` of each text, encoded in one call (tiktoken's Rust core works on
    the batch on several threads, without the GIL)."""
    if len(texts) < 8:
        return [count_tokens(t) for t in texts]
    counts: list[int] = []
    for i in range(0, len(texts), BATCH):  # slices: the token lists of a whole book at
        part = encoding().encode_batch(texts[i : i + BATCH], disallowed_special=())
        counts.extend(len(tokens) for tokens in part)  # once would take gigabytes
    return counts
