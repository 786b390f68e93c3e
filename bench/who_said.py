"""Who said it, asked of every sentence of a panel write-up: does the model-free answer
quote that sentence and name its speaker?

    python bench/who_said.py [--limit N] [--json]

The shipped corpus's `a16z-third-era-of-computing.id.txt` is a write-up of a panel: speaker
labels ("Kevin Scott, Microsoft:") head each turn, "## N" headings start each section. For
every sentence of 60 characters or more (labels and headings aside), the question
"Siapa yang mengatakan <its first 9 words>?" is asked model-free (`Answerer.ask`, bundled
embedder, the corpus ingested into bench/out/who_said). The speaker a sentence should get
is read from the file itself: the nearest label above it in its section (none before the
first label of a section). Counted:

- ok: the first quote is that sentence and the value is its speaker (or no value, when it
  has none);
- no name / wrong name: the first quote is that sentence but no speaker is named, or
  another name (or one where the sentence has no speaker);
- other sentence: retrieval or the answer picked another sentence (not judged);
- broken: a quote outside its passage, passages not numbered 1..N, overlapping passages
  of one document, or `cited` not matching the quotes.

`--according N` asks the other way round, of every sentence with a speaker: "Menurut
<speaker>, apa katanya tentang <N of its words, from the third>?" (according to X, what
did they say about ...), and counts whether the first quote is that sentence, a sentence
holding the speaker's label or name line (the name alone won), or another one.

No tuning data: the questions are generated, not written, and the file is the one the
product ships. Written from a reviewer's sweep (issue 11).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devsets  # noqa: E402

from core.settings import load_settings  # noqa: E402
from index.chunker import sentence_spans  # noqa: E402
from rag.answer import Answerer  # noqa: E402

SOURCE = ROOT / "corpus" / "a16z-third-era-of-computing.id.txt"
# the file's own speaker labels, read here independently of the code under test: "Name
# Surname,Org:" or "Name Surname, Org :" ending a line; "## N" starts a section
LABEL = re.compile(
    r"(?:^|(?<=[.!?]\s))(?P<who>[A-Z]\w+(?: [A-Z]\w+)+) ?, ?[\w. ]+?\s?:[ \t]*$", re.M
)
HEADING = re.compile(r"#{2,6}\s")


def expected_speakers(text: str) -> tuple[list[tuple[int, int, str]], list[int]]:
    labels = [(m.start(), m.end(), m.group("who")) for m in LABEL.finditer(text)]
    return labels, [m.start() for m in HEADING.finditer(text)]


def truth(at: int, labels: list[tuple[int, int, str]], heads: list[int]) -> str | None:
    head = max((h for h in heads if h < at), default=0)
    above = [lab for lab in labels if head <= lab[0] and lab[1] <= at]
    return above[-1][2] if above else None


def problems(ans: object) -> list[str]:
    out = []
    passages = ans.passages  # type: ignore[attr-defined]
    quotes = ans.quotes  # type: ignore[attr-defined]
    if [p.n for p in passages] != list(range(1, len(passages) + 1)):
        out.append("numbering")
    for i, p in enumerate(passages):
        for o in passages[:i]:
            if o.doc_id == p.doc_id and max(o.start, p.start) < min(o.end, p.end):
                out.append("overlap")
    for q in quotes:
        p = next((p for p in passages if p.n == q.n), None)
        if p is None or not (p.start <= q.start and q.end <= p.end):
            out.append("quote outside its passage")
    if ans.cited != {q.n for q in quotes}:  # type: ignore[attr-defined]
        out.append("cited")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true", help="one JSON line per question")
    ap.add_argument(
        "--according", type=int, metavar="N", help="ask what the speaker said, with N words"
    )
    args = ap.parse_args()
    data_dir = devsets.OUT / "who_said"  # the shipped corpus alone, bundled embedder
    devsets.ingest(ROOT / "corpus", data_dir, "bundled")
    text = SOURCE.read_text(encoding="utf-8")
    labels, heads = expected_speakers(text)
    tags: collections.Counter[str] = collections.Counter()
    ranks: collections.Counter[str] = collections.Counter()  # the sentence's passage's rank
    t0 = time.perf_counter()
    with Answerer(load_settings(data_dir=data_dir)) as answerer:
        for a, b in sentence_spans(text)[: args.limit]:
            sentence = text[a:b]
            if len(sentence) < 60 or re.search(r"[:：]\s*(?:\n|$)", sentence):
                continue  # a label, or a line introducing a list
            if sentence.lstrip().startswith("#"):
                continue
            want = truth(a, labels, heads)
            if args.according:
                if want is None:
                    continue
                words = " ".join(sentence.split()[2 : 2 + args.according]).rstrip(".,")
                question = f"Menurut {want}, apa katanya tentang {words}?"
            else:
                words = " ".join(sentence.split()[:9]).rstrip(".,")
                question = f"Siapa yang mengatakan {words}?"
            ans = answerer.ask(question, no_llm=True)
            first = ans.quotes[0] if ans.quotes else None
            here = {p.n for p in ans.passages if Path(p.source).name == SOURCE.name}
            # .txt: offsets as read
            same = first is not None and first.n in here and first.start <= a < first.end
            broken = problems(ans)
            rank = next((p.n for p in ans.passages if p.n in here and p.start <= a < p.end), None)
            ranks["1" if rank == 1 else "2-5" if rank and rank <= 5 else "lower"] += 1
            if broken:
                tag = "broken"
            elif args.according:
                named = first is not None and want.split()[-1] in first.text
                tag = "ok" if same else "name's sentence" if named else "other sentence"
            elif not same:
                tag = "other sentence"
            elif ans.value == want:
                tag = "ok"
            else:
                tag = "no name" if ans.value is None else "wrong name"
            tags[tag] += 1
            if args.json:
                print(json.dumps(
                    {"q": question, "want": want, "got": ans.value, "tag": tag, "problems": broken},
                    ensure_ascii=False,
                ))  # fmt: skip
    total = sum(tags.values())
    print(
        f"{total} questions in {time.perf_counter() - t0:.0f} s: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tags.items()))
        + "; its passage ranked "
        + ", ".join(f"{k}: {ranks[k]}" for k in ("1", "2-5", "lower"))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
