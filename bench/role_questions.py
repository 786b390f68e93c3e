"""Who-questions about a role ("Who is the CEO of ...?", "谁是...的首席执行官？"), answered
model-free, on the dev sets:

    python bench/role_questions.py [--json FILE]

Every question of the gold dev half and of the XQuAD dev sets that asks who holds a role
(`rag.binding.asked_roles`: who/siapa/谁 and a role word) is asked (`Answerer.ask(no_llm=
True)`). Printed per set: how many there are, answerable and not, how many were declined,
and how many answered right (XQuAD: an answer text in the answer; gold: an accept
pattern). Few questions per set ask this: the figures are examples, not rates. Written
for the role binding across scripts (issue 11).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

from core.settings import load_settings  # noqa: E402
from rag.answer import Answerer  # noqa: E402
from rag.binding import asked_roles  # noqa: E402
from rag.evaluate import load_gold  # noqa: E402

SETS = (
    "gold-dev",
    "xquad zh-zh",
    "xquad zh-mixed",
    "xquad en-zh",
    "xquad en-mixed",
    "xquad vi-mixed",
    "xquad abstain",
    "xquad zh-abstain",
    devsets.NEAR_MISS,
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, help="write every question's answer here")
    args = ap.parse_args()
    accept = {g.id: list(g.accept) for g in load_gold(devsets.GOLD) if g.answerable}
    sets = {ds.name: ds for ds in devsets.prepare("tune", "bundled", log=lambda s: None)}
    rows = []
    for name in SETS:
        ds = sets[name]
        cases = [c for c in ds.cases if asked_roles(c.question)]
        if not cases:
            continue
        devsets._env(ds.data_dir, "bundled")
        with Answerer(load_settings(data_dir=ds.data_dir)) as answerer:
            for case in cases:
                got = answerer.ask(case.question, no_llm=True)
                if case.id in accept:
                    right = any(re.search(p, got.answer, re.IGNORECASE) for p in accept[case.id])
                else:
                    right = any(a.lower() in got.answer.lower() for a in case.answers)
                rows.append({
                    "set": name, "id": case.id, "question": case.question,
                    "answerable": case.hit is not None, "mode": got.mode, "value": got.value,
                    "right": bool(right) and got.mode != "abstain",
                })  # fmt: skip
    asked, declined, right = Counter(), Counter(), Counter()
    for r in rows:
        key = (r["set"], r["answerable"])
        asked[key] += 1
        declined[key] += r["mode"] == "abstain"
        right[key] += r["right"]
    print(f"{'set':18s} {'kind':12s} {'n':>3s} {'declined':>9s} {'right':>6s}")
    for (name, hit), n in sorted(asked.items()):
        kind = "answerable" if hit else "unanswerable"
        print(f"{name:18s} {kind:12s} {n:3d} {declined[(name, hit)]:9d} {right[(name, hit)]:6d}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
