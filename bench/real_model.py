"""A real model on this CPU: prompt tokens/s, tokens/s and time to first token of
SmolLM2-135M-Instruct (Q4_1) served by llama.cpp's server (xllamacpp, n_ctx 2048), on the
answer prompts the product builds for the shipped corpus, and `rag ask` end to end through
the OpenAI-compatible backend.

    .venv/bin/python bench/real_model.py [--questions N] [--max-tokens N] [--json]

For each of the first N questions of bench/gold.jsonl:
  server   the product's fitted answer prompt (passages shrunk to the 2048-token window,
           counted with the server's /tokenize) streamed straight to /v1/chat/completions,
           prompt cache off: time to first token, and llama.cpp's own timings
           (prompt_per_second, predicted_per_second);
  rag ask  the whole flow (rewrite call, retrieval, answer) through Answerer: first token
           and total, as `rag ask` would show them.
Baseline: the prompt as the product built it before (passages up to RAG_CONTEXT_TOKENS=3000,
tags and templates not counted, no window known), sent to the same server.

Needs xllamacpp and the model (tests/real_llama.py fetches it into .cache/models/).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _stream(url: str, messages: list[tuple[str, str]], max_tokens: int) -> dict[str, Any]:
    """One streamed request with the prompt cache off: TTFT and llama.cpp's timings."""
    import httpx

    body = {
        "model": "smollm2-135m-instruct",
        "messages": [{"role": r, "content": c} for r, c in messages],
        "stream": True,
        "max_tokens": max_tokens,
        "temperature": 0.1,
        "cache_prompt": False,
        "stream_options": {"include_usage": True},
    }
    t0 = time.perf_counter()
    first: float | None = None
    timings: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    with httpx.stream("POST", f"{url}/chat/completions", json=body, timeout=900) as resp:
        if resp.status_code != 200:
            resp.read()
            return {"status": resp.status_code, "error": resp.text[:300]}
        for line in resp.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                if (choice.get("delta") or {}).get("content") and first is None:
                    first = time.perf_counter() - t0
            timings = chunk.get("timings") or timings
            usage = chunk.get("usage") or usage
    return {
        "status": 200,
        "ttft_s": first,
        "total_s": time.perf_counter() - t0,
        "prompt_tokens": timings.get("prompt_n", usage.get("prompt_tokens")),
        "prompt_tokens_per_s": timings.get("prompt_per_second"),
        "tokens": timings.get("predicted_n", usage.get("completion_tokens")),
        "tokens_per_s": timings.get("predicted_per_second"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tests.real_llama import (
        MODEL_ALIAS,
        N_CTX,
        llama_server,
        smollm2_gguf,
        xllamacpp_missing,
    )

    missing = xllamacpp_missing()
    model, why = smollm2_gguf()
    if missing or model is None:
        print(f"cannot run: {missing or why}", file=sys.stderr)
        return 1
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "bench" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ][: args.questions]

    tmp = Path(tempfile.mkdtemp(prefix="rag-real-model-"))
    os.environ.update({"RAG_DATA_DIR": str(tmp / "data"), "RAG_EMBEDDER": "builtin"})
    from core.settings import load_settings
    from index.ingest import ingest
    from index.language import detect_language
    from rag.answer import Answerer
    from rag.budget import cap_question, fit
    from rag.llm import answer_messages

    ingest([str(ROOT / "corpus")], load_settings(), progress=False)
    rows: list[dict[str, Any]] = []
    with llama_server(model, n_ctx=N_CTX, n_predict=args.max_tokens) as url:
        os.environ.update(
            {
                "RAG_LLM_BACKEND": "openai",
                "RAG_LLM_BASE_URL": url,
                "RAG_LLM_MODEL": MODEL_ALIAS,
                "RAG_OLLAMA_TIMEOUT": "900",
            }
        )
        settings = load_settings()
        with Answerer(settings) as answerer:
            generator = answerer.generator
            the_plan = generator.plan()
            counter = generator.counter()
            for q in questions:
                passages = answerer.retrieve(q)
                question = cap_question(q)
                lang = detect_language(question)
                fitted = fit(passages, question, lang, the_plan, counter=counter)
                n = args.max_tokens
                server = _stream(url, answer_messages(question, fitted.passages, lang), n)
                baseline = _stream(url, answer_messages(question, passages, lang), n)
                t0 = time.perf_counter()
                answer = answerer.ask(q)
                flow = {
                    "mode": answer.mode,
                    "first_token_s": answer.timings_ms.get("first_token", 0) / 1000,
                    "total_s": (time.perf_counter() - t0),
                    "passages": len(answer.passages),
                    "of": len(passages),
                    "notice": answer.notice,
                }
                rows.append({"question": q, "server": server, "baseline": baseline, "rag": flow})
                if not args.json:
                    print(json.dumps(rows[-1], ensure_ascii=False), flush=True)

    def median(key: str, part: str = "server") -> float | None:
        values = [r[part][key] for r in rows if r[part].get(key) is not None]
        return round(statistics.median(values), 2) if values else None

    summary = {
        "model": "SmolLM2-135M-Instruct Q4_1 (llama.cpp via xllamacpp, CPU, 2 threads)",
        "n_ctx": N_CTX,
        "questions": len(rows),
        "prompt_tokens": median("prompt_tokens"),
        "prompt_tokens_per_s": median("prompt_tokens_per_s"),
        "tokens_per_s": median("tokens_per_s"),
        "ttft_s": median("ttft_s"),
        "rag_first_token_s": median("first_token_s", "rag"),
        "rag_total_s": median("total_s", "rag"),
        "rag_modes": [r["rag"]["mode"] for r in rows],
        "baseline_statuses": [r["baseline"]["status"] for r in rows],
        "baseline_error": next((r["baseline"].get("error") for r in rows), None),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
