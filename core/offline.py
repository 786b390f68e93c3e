"""Make every library this project uses stay on this machine.

Called once, before tiktoken, chromadb, gradio or llama-index are imported. Each line
closes a door through which a library would otherwise reach the network.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_done = False


def tiktoken_cache_dir() -> Path:
    """The tiktoken encodings shipped inside llama-index-core (cl100k_base, o200k_base).

    Located without importing llama_index.core, whose import costs over a second.
    """
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"


def configure_offline() -> None:
    """Set the environment so that no library downloads or phones home. Idempotent."""
    global _done
    if _done:
        return
    # Forced, not setdefault: a user's own TIKTOKEN_CACHE_DIR without our encodings
    # would make tiktoken try to download them.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(tiktoken_cache_dir())
    os.environ["ANONYMIZED_TELEMETRY"] = "False"  # chromadb (also set in its Settings)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _done = True
