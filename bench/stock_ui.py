"""The baseline for UI time-to-ready: a minimal stock Gradio chat over the stock
llama-index retrieval of stock_ask.py (same persisted index).

    python bench/stock_ui.py PERSIST_DIR PORT
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gradio as gr
import stock


def main() -> int:
    persist, port = Path(sys.argv[1]), int(sys.argv[2])
    fusion = stock.persisted_fusion(persist)

    def respond(message: str, history: list[dict[str, str]]) -> str:
        hits = fusion.retrieve(message)
        return "\n\n".join(f"[{n}] {h.node.get_content()[:300]}" for n, h in enumerate(hits, 1))

    demo = gr.ChatInterface(respond)
    demo.launch(server_name="127.0.0.1", server_port=port, share=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
