"""Choose the bundled embedder's bias for a question's own language by the question's
language (`rag.sentences.SAME_LANGUAGE_BIAS`), on development data.

    python bench/tune_bias.py [--biases 0.04,0.06,0.08,0.1,0.12] [--limit N]

The whole retrieval (`Retriever.search`: dense lists, fusion, the sentence rerank) runs
for every answerable question of the XQuAD pools that hold text in several languages
(en-, zh- and vi-mixed) and of bench/gold.jsonl's dev half, once per bias, with the bias
of the question's language set to that value (the other languages keep theirs). A bias
only moves text in the question's own language against the rest, so each question
language is swept on its own: the chosen value is the best recall@1 of that language's
questions, ties to the smaller bias. The gold dev half is shown too, every language but
English at each bias, as a check (few questions; the shipped corpus's Indonesian askers
have no XQuAD set: `bench/who_said.py --according 4` measures their side). The test half
is never read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

SETS = {"xquad en-mixed": "en", "xquad zh-mixed": "zh", "xquad vi-mixed": "vi"}


def recall(ds: devsets.DevSet, limit: int | None) -> tuple[float, float, int]:
    """Recall@1 and @5 of the set's answerable questions with the current biases."""
    from core.settings import load_settings
    from rag.retrieve import Retriever

    devsets._env(ds.data_dir, "bundled")
    retriever = Retriever(load_settings(data_dir=ds.data_dir))
    cases = [c for c in ds.cases if c.hit is not None][:limit]
    r1 = r5 = 0
    for case in cases:
        hit = case.hit
        assert hit is not None
        ranks = [i for i, p in enumerate(retriever.search([case.question]).passages) if hit(p)]
        r1 += bool(ranks) and ranks[0] < 1
        r5 += bool(ranks) and ranks[0] < 5
    retriever.close()
    return r1 / max(1, len(cases)), r5 / max(1, len(cases)), len(cases)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--biases", default="0.04,0.06,0.08,0.1,0.12")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    biases = [float(b) for b in args.biases.split(",")]
    from rag import sentences

    table = sentences.SAME_LANGUAGE_BIAS["bundled"]
    shipped = dict(table)
    sets = {ds.name: ds for ds in devsets.prepare("tune", "bundled")}
    for name, lang in SETS.items():
        if name not in sets:
            print(f"  {name}: not built (XQuAD missing)")
            continue
        scores = []
        for bias in biases:
            table.clear()
            table.update({**shipped, lang: bias})
            t = time.perf_counter()
            r1, r5, n = recall(sets[name], args.limit)
            scores.append((r1, -bias))
            print(
                f"  {name} ({lang} questions), bias {bias:.3f}: recall@1 {r1:.3f} @5 {r5:.3f}"
                f" ({n} questions, {time.perf_counter() - t:.0f} s)",
                flush=True,
            )
        best = max(scores)
        was = shipped.get(lang, shipped[sentences.OTHER])
        print(f"  -> {lang}: {-best[1]:.3f} (shipped {was})")
    table.clear()
    table.update(shipped)
    gold = sets["gold-dev"]
    for bias in biases:
        table.clear()
        table.update({"en": shipped["en"], sentences.OTHER: bias})
        r1, r5, n = recall(gold, args.limit)
        print(f"  gold-dev, non-English bias {bias:.3f}: recall@1 {r1:.3f} @5 {r5:.3f} ({n})")
    table.clear()
    table.update(shipped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
