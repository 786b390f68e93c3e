"""Fit the abstention model (`rag.abstain.MODELS`) on development data only.

    python bench/tune_abstain.py [--embedder bundled]

Cases: bench/gold.jsonl's dev half (answerable and unanswerable) and the XQuAD `abstain`
set (English questions over a mixed-language pool from which every fourth article is left
out: those questions are unanswerable), plus the answerable XQuAD en-zh questions. For each,
the real retriever's signals (`Retrieval.signals`) are computed once; a logistic regression
on standardised signals is fitted, and the threshold is the highest that keeps false
abstentions on each dev set's answerable questions at or under TARGET_FALSE. Prints the
model to paste into rag/abstain.py, the dev figures, and how many questions the shipped
chunk-level screen would answer against the model's decision (it must be none). The test
half is never read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

FEATURES = ("dense_top", "dense_gap", "sent_top", "sent_gap", "coverage")
GROUPS = ("same", "cross", "script")  # the nearest chunk's language vs the question's
MIN_GROUP = 5  # a set with fewer answerable questions of a group does not bind its threshold


def group(s: dict) -> str:
    """Same language; another language in the same script; another script (of the best
    sentence, as `rag.abstain` picks the threshold)."""
    from rag.abstain import crossing_of

    cross, cross_script = crossing_of(s)
    if not cross:
        return "same"
    return "script" if cross_script else "cross"


TARGET_FALSE = 0.05
SETS = ("gold-dev", "xquad abstain", "xquad en-zh", "xquad zh-zh")


def collect(sets: list[devsets.DevSet], limit: int | None) -> dict[str, list[tuple[dict, bool]]]:
    from core.settings import load_settings
    from rag.retrieve import Retriever

    out: dict[str, list[tuple[dict, bool]]] = {}
    for ds in sets:
        if ds.name not in SETS:
            continue
        devsets._env(ds.data_dir, "bundled")
        retriever = Retriever(load_settings(data_dir=ds.data_dir))
        cases = ds.cases[:limit]
        t = time.perf_counter()
        rows = []
        for case in cases:
            got = retriever.search([case.question])
            if not got.passages:
                continue
            rows.append((dict(got.sentence_signals()), case.hit is not None))
        retriever.close()
        print(f"  {ds.name}: {len(rows)} questions in {time.perf_counter() - t:.1f} s")
        out[ds.name] = rows
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 4000) -> np.ndarray:
    w = np.zeros(x.shape[1] + 1)
    xb = np.hstack([np.ones((len(x), 1)), x])
    # balance the classes: unanswerable questions are the minority
    cw = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ ((p - y) * cw) + l2 * np.r_[0, w[1:]]
        w -= 2.0 * grad
    return w


def report(data: dict[str, list[tuple[dict, bool]]], features: tuple[str, ...], name: str) -> None:
    """Fit one model on `features` and print it with its dev figures."""
    all_rows = [r for v in data.values() for r in v]
    rows = [r for r in all_rows if group(r[0]) == "same"]  # fitted on same-language cases
    x = np.array([[s.get(f, 0.0) for f in features] for s, _ in rows])
    y = np.array([1.0 if a else 0.0 for _, a in rows])
    mean, std = x.mean(0), x.std(0) + 1e-9
    w = fit((x - mean) / std, y)
    # back to raw signals: z = b + sum(w_i (x_i - m_i) / s_i)
    raw_w = w[1:] / std
    bias = float(w[0] - (raw_w * mean).sum())

    def prob(s: dict) -> float:
        z = bias + sum(raw_w[i] * s.get(f, 0.0) for i, f in enumerate(features))
        return float(1 / (1 + np.exp(-z)))

    def pick(kind: str) -> float:
        """The highest threshold keeping false abstentions <= TARGET_FALSE on every set's
        answerable questions of that group (`group`)."""
        best = 0.0
        for t in sorted({round(prob(s), 6) for s, _ in all_rows}):
            ok = True
            for rows_ in data.values():
                ans = [prob(s) for s, a in rows_ if a and group(s) == kind]
                if len(ans) >= MIN_GROUP and sum(p < t for p in ans) / len(ans) > TARGET_FALSE:
                    ok = False
            if not ok:
                break
            best = t
        return best

    thresholds = {g: pick(g) for g in GROUPS}
    print(
        f"model {name}:",
        json.dumps(
            {
                "bias": round(bias, 4),
                "weights": {f: round(float(raw_w[i]), 4) for i, f in enumerate(features)},
                "threshold": thresholds["same"],
                "threshold_cross": thresholds["cross"],
                "threshold_script": thresholds["script"],
            }
        ),
    )
    for set_name, rows_ in data.items():

        def th(s: dict) -> float:
            return thresholds[group(s)]

        ans = [prob(s) < th(s) for s, a in rows_ if a]
        una = [prob(s) < th(s) for s, a in rows_ if not a]
        fa = sum(ans) / max(1, len(ans))
        ab = sum(una) / len(una) if una else float("nan")
        print(
            f"  {set_name}: abstains on {ab:.3f} of {len(una)} unanswerable, "
            f"{fa:.3f} of {len(ans)} answerable"
        )
    # the shipped screen (`rag.abstain.SCREENS`) answers without this model above SURE:
    # it must not answer a question this model abstains on
    from rag.abstain import SCREENS, SURE

    screen = SCREENS.get("bundled")
    if screen is not None:
        for set_name, rows_ in data.items():
            sure = [s for s, _ in rows_ if screen.probability(s) >= SURE]
            changed = sum(prob(s) < thresholds[group(s)] for s in sure)
            print(
                f"  screen, {set_name}: {len(sure)} of {len(rows_)} answered without this model, "
                f"{changed} of them against its decision"
            )
    for f in features:
        a = [s.get(f, 0.0) for s, ok in rows if ok]
        u = [s.get(f, 0.0) for s, ok in rows if not ok]
        print(f"  {f}: answerable mean {np.mean(a):.3f}, unanswerable mean {np.mean(u):.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--embedder", default="bundled")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--save", type=Path, help="keep the collected signals (JSON) here")
    ap.add_argument("--load", type=Path, help="fit on signals saved by --save")
    args = ap.parse_args()
    if args.load:
        data = {k: [(s, a) for s, a in v] for k, v in json.loads(args.load.read_text()).items()}
    else:
        data = collect(devsets.prepare("tune", args.embedder), args.limit)
    if args.save:
        args.save.write_text(json.dumps(data))
    report(data, FEATURES, "(MODELS)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
