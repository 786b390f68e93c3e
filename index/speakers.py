"""Speaker turns in transcripts and panel write-ups, read off the text alone.

A speaker label closes a line ("Kevin Scott, Microsoft:" on a line of its own, or ending
the paragraph before the speaker's); the speaker's turn runs from it to the next label,
the next heading ("## 6 ...") or SPEAKER_BACK characters, whichever comes first.

Two layers read turns: the model-free answer (`rag.extractive`) credits a sentence to its
speaker, and the lexical index gives every chunk that opens inside a turn the label's
words (`chunk_lex`): a contextual header. Without it, a chunk continuing Daphne Koller's
turn never says "Koller", and "Menurut Daphne Koller, ..." (according to ...) cannot
find it by its words; the dense index is left as it is (its vectors would all have to be
made again).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from index.lexical import tokenize

SPEAKER_BACK = 6000  # a turn reaches at most this far past its label

# a speaker label closing a line, in a transcript or panel write-up: "Kevin Scott,
# Microsoft:" on a line of its own, or ending the paragraph before the speaker's
# ("... dengan cara yang lebih baik. Mira Murati,OpenAI:")
LABEL_LINE = re.compile(
    r"(?:^|(?<=[.!?”\"]\s))\W{0,3}(?P<label>[A-Z](?:[^:：\n.!?]|\.(?=\S)){1,60}?)"
    # (a label ends on a non-space: `\s*` is not tried after every space of a long run)
    r"(?<=\S)\s*[:：][ \t]*$",
    re.M,
)
SECTION = re.compile(r"^#{1,6}\s|#{2,6}\s", re.M)  # a heading starts a new section
# lower-case words a person's name may hold ("Ursula von der Leyen", "Anwar bin Ibrahim")
PARTICLES = frozenset("al bin binti da de del der di du la le van von".split())


def speaker_name(label: str, *, section: bool = False) -> str | None:
    """The person a speaker label names: "Name, Org", "Name (Org)", "Name dari/of Org" ->
    "Name"; None when it is no name ("Kita harus ingat", we must remember). `section`: a
    label standing for everything below it needs two words or an organisation ("Catatan:",
    note:, or "Sumber:", source:, is no speaker)."""
    parts = re.split(r",|\(|\s(?:dari|of|from|at)\s", label)
    who = parts[0].strip()
    words = who.split()
    if not 1 <= len(words) <= 5:
        return None
    if section and len(words) < 2 and len(parts) < 2:
        return None
    if all(w[0].isupper() or w.lower() in PARTICLES for w in words):
        return who
    return None


def speaker_labels(text: str, pos: int = 0) -> Iterator[tuple[re.Match[str], str]]:
    """Every label line of `text` from `pos` that names a speaker, with the name
    ("Kita harus ingat:", we must remember:, ends a line too and names nobody)."""
    for m in LABEL_LINE.finditer(text, pos):
        who = speaker_name(m.group("label"), section=True)
        if who is not None:
            yield m, who


def speaker_at(text: str, at: int) -> tuple[str, int, int] | None:
    """(name, start, end of the label) of the speaker whose turn holds `text[at]`: the
    nearest speaker label above it within SPEAKER_BACK characters with no heading in
    between."""
    lo = max(0, at - SPEAKER_BACK)
    window = text[lo:at]
    section = max((m.start() for m in SECTION.finditer(window)), default=0)
    found = list(speaker_labels(window, section))
    if not found:
        return None
    m, who = found[-1]
    a = lo + m.start("label")
    return who, a, a + len(text[a : lo + m.end()].rstrip())


@dataclass(frozen=True)
class Turn:
    label: str  # as written: "Kevin Scott, Microsoft"
    start: int  # where the label's line starts in the text
    end: int  # where the turn ends: the next label or heading, or SPEAKER_BACK after


def turns(text: str) -> list[Turn]:
    """Every speaker turn of `text`, in order (the turns `speaker_at` reads one at a time)."""
    # a turn starts where its label's line does ("- Mira Murati, OpenAI:"): a chunk that
    # starts at the "- " holds the label, and is not in the turn before
    labels = [
        (_opening(text, m.start("label")), m.group("label").strip())
        for m, _ in speaker_labels(text)
    ]
    if not labels:
        return []
    stops = sorted({at for at, _ in labels} | {m.start() for m in SECTION.finditer(text)})
    out = []
    i = 0
    for at, label in labels:
        while i < len(stops) and stops[i] <= at:
            i += 1
        end = stops[i] if i < len(stops) else len(text)
        out.append(Turn(label, at, min(end, at + SPEAKER_BACK)))
    return out


def _opening(text: str, at: int) -> int:
    """Where the label at `at` opens: at the bullet or dash its line starts with ("- "),
    else where its name starts (a label closing a paragraph)."""
    lo = at
    while lo > max(0, at - 3) and text[lo - 1] in " \t-–—•*>":
        lo -= 1
    return lo if lo == 0 or text[lo - 1] == "\n" else at


def context_terms(start: int, all_turns: Sequence[Turn]) -> list[str]:
    """The label words of the turn a chunk starting at `start` opens inside (its label
    above the chunk, so not among the chunk's own words), else none."""
    i = bisect.bisect_left(all_turns, start, key=lambda t: t.start) - 1
    if i >= 0 and start < all_turns[i].end:
        return tokenize(all_turns[i].label)
    return []


def chunk_lex(text: str, start: int, end: int, all_turns: Sequence[Turn]) -> str:
    """A chunk's stored lexical tokens: its own words, then its turn's label words."""
    return " ".join(tokenize(text[start:end]) + context_terms(start, all_turns))
