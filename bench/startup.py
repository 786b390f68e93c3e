"""`make bench` sections `cold` and `ui`: what a user waits for when a process starts.

cold  cold `rag ask --no-llm` wall time and peak RSS against bench/stock_ask.py
ui    `rag serve` time to ready against a minimal stock Gradio chat (bench/stock_ui.py)

Both use the indexes the `quality` section built (bench/out/quality).
"""

from __future__ import annotations

import statistics

from harness import BENCH, OUT, PY, RAG, ROOT, child_env, dead_url, ready, run
from results import Bench, Row

QUESTION = "how many H100s does Meta plan to have?"


def cold(bench: Bench) -> None:
    data = OUT / "quality" / "ours"
    stock_dir = OUT / "quality" / "stock"
    runs = 3
    ours, base = [], []
    for _ in range(runs):
        p = run([RAG, "ask", "--no-llm", QUESTION], child_env(RAG_DATA_DIR=str(data)))
        if p.code != 0:
            raise RuntimeError(p.out[-500:])
        ours.append(p)
        b = run([PY, str(BENCH / "stock_ask.py"), str(stock_dir), QUESTION], child_env())
        if b.code != 0:
            raise RuntimeError(b.out[-500:])
        base.append(b)
    o_wall = statistics.median(p.wall for p in ours)
    s_wall = statistics.median(p.wall for p in base)
    bench.add(
        Row(
            "cold",
            f"cold `rag ask --no-llm` wall time (median of {runs})",
            o_wall,
            s_wall,
            " s",
            "<= 1.5 s",
            o_wall <= 1.5,
        )
    )
    bench.add(
        Row(
            "cold",
            "cold ask peak RSS",
            max(p.maxrss_mb for p in ours),
            max(p.maxrss_mb for p in base),
            " MB",
        )
    )
    (OUT / "cold-ask-output.txt").write_text(ours[0].out, "utf-8")


def ui(bench: Bench) -> None:
    if not (ROOT / "ui" / "app.py").exists():
        bench.notes.append("UI time to ready: not measured, ui/app.py does not exist yet.")
        return
    data = OUT / "quality" / "ours"
    stock_dir = OUT / "quality" / "stock"
    ours, base = [], []
    for _ in range(1):
        port = int(dead_url().rsplit(":", 1)[1])
        ours.append(
            ready([RAG, "serve", "--port", str(port)], child_env(RAG_DATA_DIR=str(data)), port)
        )
        port = int(dead_url().rsplit(":", 1)[1])
        base.append(
            ready([PY, str(BENCH / "stock_ui.py"), str(stock_dir), str(port)], child_env(), port)
        )
    bench.add(
        Row(
            "ui",
            "UI time to ready (`rag serve` until GET / answers 200)",
            statistics.median(ours),
            statistics.median(base),
            " s",
        )
    )
