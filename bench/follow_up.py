"""Questions asked as the second turn of a model-free chat: does the turn before change
whether a question is declined, or answered right?

    python bench/follow_up.py [--follow-ups]   (--follow-ups: bench/follow_ups.jsonl only)

Dev sets only (`devsets.prepare("tune")`): the gold dev half, XQuAD's left-out-article set
asked in English (`xquad abstain`) and in Chinese (`xquad zh-abstain`; every third
question of both). Each question is asked (`Answerer.ask(no_llm=True)`):

- alone;
- after another article's answerable question ("other": a change of topic; for an
  unanswerable question, the case where the earlier topic's passages made it look
  answered; gold's article is its evidence's document);
- after an earlier answerable question of its own article ("same": a chat on one topic,
  each question naming its own subject; XQuAD only).

These questions name their own subject, so none needs the turn before. Real follow-ups
do: `bench/follow_ups.jsonl` holds 19 written over the shipped corpus, each an elliptical
rewrite ("On how many GPUs was that trained?", "Berapa GPU yang digunakan untuk
melatihnya?", "How many GPUs?", "Kapan targetnya?", "What about Anthropic?" after the CEO
of another company) of a gold **dev** question (`from`, whose accept patterns score it),
asked after a first question that gives its subject; and alone, where most cannot be
answered (or are refused: "By when?" asks about nothing). Six more ask what the corpus
does not hold ("Berapa harganya?", its price, after the H100 question; `from` null).
`bench/tune_abstain.py` reads them too: no answerable one may be declined.

Printed per set and turn before: the share declined, of unanswerable and of answerable
questions, and the share answered right (XQuAD: an answer text in the answer; gold and
follow-ups: an accept pattern). Written for the model-free follow-up (issue 11).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

from core.errors import QuestionError  # noqa: E402
from core.settings import load_settings  # noqa: E402
from rag.answer import Answerer  # noqa: E402
from rag.evaluate import load_gold  # noqa: E402
from rag.schema import Turn  # noqa: E402

SETS = ("gold-dev", "xquad abstain", "xquad zh-abstain")
FOLLOW_UPS = ROOT / "bench" / "follow_ups.jsonl"
EVERY = 3  # of the XQuAD sets, every third question (a run takes ~10 min)


def _right(case: devsets.Case, text: str, accept: dict[str, list[str]]) -> bool:
    if case.id in accept:
        return any(re.search(p, text, re.IGNORECASE) for p in accept[case.id])
    return any(a.lower() in text.lower() for a in case.answers)


def main() -> int:
    gold = load_gold(devsets.GOLD)
    accept = {g.id: list(g.accept) for g in gold if g.answerable}
    article = {g.id: g.evidence[0].file for g in gold if g.evidence}
    sets = {ds.name: ds for ds in devsets.prepare("tune", "bundled", log=lambda s: None)}
    names = () if "--follow-ups" in sys.argv[1:] else SETS
    # (set, turn before, answerable) -> [asked, declined, right]
    tally: dict[tuple[str, str, bool], list[int]] = defaultdict(lambda: [0, 0, 0])
    for name in names:
        ds = sets[name]
        devsets._env(ds.data_dir, "bundled")
        for case in ds.cases:
            case.article = case.article or article.get(case.id, "")
        answerable = [c for c in ds.cases if c.hit]
        cases = ds.cases if name == "gold-dev" else ds.cases[::EVERY]
        with Answerer(load_settings(data_dir=ds.data_dir)) as answerer:
            for i, case in enumerate(cases):
                # the next answerable question, from i * 7 on, of another article
                start = i * 7 + 3
                other = next(
                    answerable[(start + j) % len(answerable)]
                    for j in range(len(answerable))
                    if answerable[(start + j) % len(answerable)].article != case.article
                )
                before: dict[str, devsets.Case | None] = {"alone": None, "other": other}
                if case.hit and case.article:
                    k = answerable.index(case)
                    same = [c for c in answerable[:k] if c.article == case.article]
                    if same:
                        before["same"] = same[-1]
                for label, prev in before.items():
                    history = []
                    if prev is not None:
                        said = answerer.ask(prev.question, no_llm=True)
                        history = [Turn(prev.question, said.answer)]
                    got = answerer.ask(case.question, no_llm=True, history=history)
                    row = tally[(name, label, case.hit is not None)]
                    row[0] += 1
                    row[1] += got.mode == "abstain"
                    row[2] += got.mode != "abstain" and _right(case, got.answer, accept)
        print(f"{name}: done", file=sys.stderr, flush=True)
    corpus = sets["gold-dev"].data_dir
    devsets._env(corpus, "bundled")
    with Answerer(load_settings(data_dir=corpus)) as answerer:
        for line in FOLLOW_UPS.read_text(encoding="utf-8").splitlines():
            fu = json.loads(line)
            first = answerer.ask(fu["first"], no_llm=True)
            history = {"alone": [], "its first question": [Turn(fu["first"], first.answer)]}
            for label, turns in history.items():
                answerable = fu["from"] is not None
                try:
                    got = answerer.ask(fu["question"], no_llm=True, history=turns)
                    declined, text = got.mode == "abstain", got.answer
                except QuestionError:  # "By when?" alone is refused: it asks about nothing
                    declined, text = True, ""
                right = (
                    answerable
                    and not declined
                    and any(re.search(p, text, re.IGNORECASE) for p in accept[fu["from"]])
                )
                row = tally[("follow-ups", label, answerable)]
                row[0] += 1
                row[1] += declined
                row[2] += right
    print(f"{'set':18s} {'turn before':12s} {'kind':12s} {'n':>4s} {'declined':>9s} {'right':>6s}")
    for (name, label, hit), (n, declined, right) in sorted(tally.items()):
        kind = "answerable" if hit else "unanswerable"
        print(f"{name:18s} {label:12s} {kind:12s} {n:4d} {declined / n:9.3f} {right / n:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
