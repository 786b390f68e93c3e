"""Abstention through the whole model-free flow, now vs the chunk-level model before
sentence signals (issue 11), on the dev sets:

    python bench/abstain_flow.py

For each set, every question is asked as a user would (`Answerer.ask(no_llm=True)`), once
with the shipped model (`rag.abstain.MODELS`) and once with the chunk-level screen model as
the whole decision (what shipped before sentence similarity). Prints the share of
unanswerable questions abstained on and of answerable ones (false abstentions). Dev data
only: XQuAD's left-out-article set, XQuAD en->zh and the gold dev half.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

import rag.abstain as ab  # noqa: E402
from core.settings import load_settings  # noqa: E402
from rag.answer import Answerer  # noqa: E402

SETS = ("xquad abstain", "xquad en-zh", "gold-dev")


def main() -> int:
    sets = {ds.name: ds for ds in devsets.prepare("tune", "bundled", log=lambda s: None)}
    shipped = (ab.MODELS["bundled"], ab.SURE)
    configs = {"now": shipped, "chunk-level (before)": (ab.SCREENS["bundled"], 2.0)}
    try:
        for label, (model, sure) in configs.items():
            ab.MODELS["bundled"], ab.SURE = model, sure
            for name in SETS:
                ds = sets.get(name)
                if ds is None:
                    continue
                devsets._env(ds.data_dir, "bundled")
                answerer = Answerer(load_settings(data_dir=ds.data_dir))
                ask = answerer.ask
                fa = [ask(c.question, no_llm=True).mode == "abstain" for c in ds.cases if c.hit]
                ua = [ask(c.question, no_llm=True).mode == "abstain" for c in ds.cases if not c.hit]
                answerer.close()
                print(
                    f"{label:22s} {name}: unanswerable abstained {sum(ua)} of {len(ua)}, "
                    f"answerable abstained {sum(fa)} of {len(fa)} "
                    f"({sum(fa) / max(1, len(fa)):.3f})",
                    flush=True,
                )
    finally:
        ab.MODELS["bundled"], ab.SURE = shipped
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
