"""Token-aware chunking that keeps exact character offsets.

Why not llama-index's SentenceSplitter: it rebuilds chunk text from split pieces (joining
and stripping whitespace), so a chunk is not always a verbatim slice of the document and
its `start_char_idx` can be missing or off; citations need `text[start:end] == chunk`
exactly. This chunker only ever records spans into the original text.

The algorithm: split into sentences (Latin `.!?…` before whitespace, CJK `。！？；`, and
line breaks); split any sentence longer than the cap at token boundaries (prefering a
space); pack sentences greedily up to `chunk_size` tokens, carrying up to `overlap` tokens
of trailing sentences into the next chunk; finally verify every chunk against the cap.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.language import IDEOGRAPH
from index.tokens import count_tokens, count_tokens_batch, encoding

# a title before a name, in English and Indonesian ("Dr. Smith", "Bpk. Budi")
TITLES = ("Dr", "Mr", "Mrs", "Ms", "Prof", "Drs", "Ir", "Bpk")
# a period after a title or an initial ends no sentence: "built by Dr. Smith" was quoted as
# "built by Dr." (and "dr. Budi", "Jr.", "vs."; one capital letter after a space: "J. K.")
_NOT_AN_END = (
    "".join(rf"(?<!\b{t})" for t in (*TITLES, "dr", "Jr", "Sr", "vs"))
    + r"(?<!(?:^|(?<=[\s(]))[A-Z])"
)
_SENTENCE_END = re.compile(
    rf"""(?:{_NOT_AN_END}\.|[!?…])[.!?…]*["'”’»)\]]*(?=\s)  # Latin-script end, before a space
      | [。！？；!?]+[”’」』）)]*     # CJK sentence end (no space follows in CJK)
      | \n                          # line break
    """,
    re.VERBOSE,
)
_WINDOW_CHARS_PER_TOKEN = 12  # a window this many chars per token always holds > cap tokens


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tokens: int


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans with surrounding whitespace trimmed; empty sentences dropped."""
    spans: list[tuple[int, int]] = []
    prev = 0

    def add(a: int, b: int) -> None:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a, b))

    for match in _SENTENCE_END.finditer(text):
        add(prev, match.end())
        prev = match.end()
    add(prev, len(text))
    return spans


# a number with its separators is one word (340.000, 2024-12-01, 1,5)
_WORD_RUN = re.compile(r"\d+(?:[.,:/-]\d+)*|\w+")
MIN_WORDS = 3  # a shorter "sentence" is a menu item or a fragment, not a statement


def word_count(text: str) -> int:
    """Words in `text`; a Chinese or Japanese character, or a Hangul syllable, counts as
    one (Chinese and Japanese are written without spaces; a Korean word counts more than
    once, which only keeps more). Scripts whose words join with combining marks (Thai)
    count low: such a short statement may be passed over."""
    ideographs = len(IDEOGRAPH.findall(text))
    return ideographs + len(_WORD_RUN.findall(IDEOGRAPH.sub(" ", text)))


# (printable ASCII only: "参见https://x.io，GPT-4..." goes on after the address)
_ADDRESS = re.compile(
    r"(?:https?://|www\.)[!-~]+|[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE | re.ASCII
)


def states_something(text: str) -> bool:
    """Is `text` long enough in words to state anything? A page's language menu
    ("• Français (Afrique)") is not: quoted, it answered "What is the capital of France?"
    over articles that never mention it. Nor is a web or mail address with a label
    ("订阅:https://rengongzhineng.io/ 。?", a newsletter's sign-up line, quoted for
    "lorem ipsum dolor"): an address's parts are no words."""
    return word_count(_ADDRESS.sub(" ", text)) >= MIN_WORDS


def asks(text: str) -> bool:
    """Is this sentence a question (its last mark, before closing quotes, is "?")? It
    states no answer, whatever words it shares with one."""
    return text.rstrip(" \t\n”\"’'»)*_」』").endswith(("?", "？"))


# page furniture: a run of at least FURNITURE_RUN lines in a row that end as no sentence
# does, most of which state nothing (a comment box, an app advert, a language menu: "•
# Hadiah", "0/400", "Perdagangkan Kripto Di Mana Saja Kapan Saja", "qrCode", "• Español")
FURNITURE_RUN = 4
# a sentence ends in a stop, or a colon (a label); a closing mark counts after one only
# ("• Français (Afrique)" is a menu item, not a sentence)
_ENDS_SENTENCE = re.compile(r"[.!?…。！？;；:：][\"'”’»)\]）」』]*\s*$")
_LIST_ITEM = re.compile(r"(?:[-*•·–]|\d{1,3}[.)])\s")  # "- item", "• item", "1. item"


def page_furniture(text: str) -> list[tuple[int, int]]:
    """The spans of the lines of `text` that are a page's furniture, not its content.
    In a run of FURNITURE_RUN or more lines that each end as no sentence does, most of
    which state nothing (`states_something`): every line, except one that may be
    content after all:
    - a line with a digit (a table's row states values);
    - a list item ("- Run the server locally" among "- pip" and "## Usage");
    - in a run of labels and values (a third of its lines or more state something,
      never two in a row), a line after one that states nothing ("Position" / "Senior
      engineer at Acme", a glossary's "GPU" / "Graphics processing unit");
    - a piece of a wrapped sentence (the next line states something and opens in lower
      case, or this one does and the line before states something).
    The short lines are never quoted anyway; this keeps a longer one amid them from being
    quoted as an answer ("Perdagangkan Kripto Di Mana Saja Kapan Saja", trade crypto
    anywhere, any time, between "Tidak ada komentar" and "qrCode", answered "What is the
    capital of Peru?"). Read per passage, so a footer cut by a chunk's end may be missed.
    """
    return list(_furniture(text))


@functools.lru_cache(maxsize=256)
def _furniture(text: str) -> tuple[tuple[int, int], ...]:
    """`page_furniture`, read once per passage text: the sentences of the top passages
    are read for abstention, and again for the answer."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body:
            a = pos + line.index(body[0])
            lines.append((a, a + len(body)))
        pos += len(line)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and not _ENDS_SENTENCE.search(text[lines[j][0] : lines[j][1]]):
            j += 1
        run = [text[a:b] for a, b in lines[i:j]]
        says = [states_something(line) for line in run]
        if len(run) >= FURNITURE_RUN and 2 * says.count(False) > len(run):
            # labels and their values: a third of the lines or more state something, and
            # never two in a row (a footer's "Tidak ada komentar" / "Perdagangkan
            # Kripto ..." are two; a menu's one advert is under a third)
            labelled = 3 * says.count(True) >= len(run) and not any(
                says[k] and says[k + 1] for k in range(len(run) - 1)
            )
            for k, line in enumerate(run):
                after_label = labelled and k > 0 and not says[k - 1]
                wrapped = (k + 1 < len(run) and says[k + 1] and run[k + 1][0].islower()) or (
                    k > 0 and says[k - 1] and line[0].islower()
                )
                content = after_label or wrapped or _LIST_ITEM.match(line)
                if not content and not any(c.isdigit() for c in line):
                    out.append(lines[i + k])
        i = j + 1
    return tuple(out)


def statements(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The `spans` of `text` (its sentences) that may be quoted: they state something
    (`states_something`) and are no page furniture (`page_furniture`)."""
    furniture = _furniture(text)  # in order, not overlapping
    starts = [a for a, _ in furniture]
    kept = []
    for a, b in spans:
        if not states_something(text[a:b]):
            continue
        k = bisect.bisect_right(starts, a) - 1  # the furniture line starting at or before a
        if k >= 0 and b <= furniture[k][1]:
            continue
        kept.append((a, b))
    return kept


def _hard_split(text: str, start: int, end: int, cap: int) -> list[Span]:
    """Split text[start:end] into pieces of at most `cap` tokens each.

    Works on bounded windows so a 10 MB line with no spaces costs linear time, not the
    quadratic time tiktoken takes on one enormous pre-token.
    """
    enc = encoding()
    pieces: list[Span] = []
    pos = start
    max_window = cap * _WINDOW_CHARS_PER_TOKEN
    per_token = 4.0  # chars per token, learnt from the previous piece: size the window
    while pos < end:
        size = min(max_window, int(cap * per_token * 1.25) + 16)
        while True:  # a window holding more than `cap` tokens, or the rest of the text
            window_end = min(end, pos + size)
            window = text[pos:window_end]
            tokens = enc.encode(window, disallowed_special=())
            if len(tokens) > cap or window_end == end or size >= max_window:
                break
            size = min(max_window, size * 2)
        if len(tokens) <= cap:
            cut = len(window)
        else:
            # chars fully covered by the first `cap` tokens (a token ending inside a
            # multi-byte char is dropped); decode_with_offsets is pure Python and slow
            head = enc.decode_bytes(tokens[:cap]).decode("utf-8", errors="ignore")
            cut = max(1, len(head))
            space = window.rfind(" ", 0, cut)
            if space > cut // 2:
                cut = space
        while True:  # re-encoding a prefix can differ from the prefix of an encoding
            n = count_tokens(window[:cut])
            if n <= cap or cut <= 1:
                break
            cut = max(1, int(cut * 0.9))
        per_token = max(1.0, cut / max(n, 1))
        a, b = pos, pos + cut
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            same = a == pos and b == pos + cut  # untrimmed: n is already its count
            pieces.append(Span(a, b, n if same else count_tokens(text[a:b])))
        pos += cut
        while pos < end and text[pos].isspace():
            pos += 1
    return pieces


def chunk_spans(text: str, chunk_size: int, overlap: int) -> list[Span]:
    """Chunks of `text` as spans; every span has at most `chunk_size` tokens."""
    if chunk_size < 1 or not 0 <= overlap < chunk_size:
        raise ValueError(f"bad chunking parameters: size={chunk_size}, overlap={overlap}")
    pieces: list[Span] = []
    sentences = sentence_spans(text)
    # Counted in one batch; a sentence far longer than the cap can hold is not counted
    # at all (counting a huge unbroken line would cost seconds; _hard_split is right
    # either way).
    countable = [(a, b) for a, b in sentences if b - a <= chunk_size * _WINDOW_CHARS_PER_TOKEN]
    counts = dict(
        zip(countable, count_tokens_batch([text[a:b] for a, b in countable]), strict=True)
    )
    for a, b in sentences:
        n = counts.get((a, b))
        if n is not None and n <= chunk_size:
            pieces.append(Span(a, b, n))
        else:
            pieces.extend(_hard_split(text, a, b, chunk_size))

    chunks: list[Span] = []
    current: list[Span] = []
    total = 0

    def emit() -> list[Span]:
        """Close the current chunk; return trailing pieces that did not fit after all
        (joining pieces can add a token or two), to be packed again, in order."""
        moved: list[Span] = []
        start, end = current[0].start, current[-1].end
        n = current[0].tokens if len(current) == 1 else count_tokens(text[start:end])
        while n > chunk_size and len(current) > 1:
            moved.insert(0, current.pop())
            end = current[-1].end
            n = count_tokens(text[start:end])
        chunks.append(Span(start, end, n))
        return moved

    def overlap_tail() -> list[Span]:
        """Trailing pieces of the chunk just emitted, up to `overlap` tokens."""
        tail: list[Span] = []
        tail_tokens = 0
        for prev in reversed(current[1:]):  # never the whole chunk again
            if tail_tokens + prev.tokens > overlap:
                break
            tail.insert(0, prev)
            tail_tokens += prev.tokens
        return tail

    def joined(pieces: list[Span]) -> int:
        return sum(p.tokens for p in pieces) + max(0, len(pieces) - 1)

    pending = list(reversed(pieces))  # a stack: the next piece is pending[-1]
    while pending:
        piece = pending.pop()
        if current and total + piece.tokens + 1 > chunk_size:
            moved = emit()
            current = overlap_tail()
            if moved:  # pack them again, before `piece`
                pending.append(piece)
                pending.extend(reversed(moved))
                total = joined(current)
                continue
            total = joined(current)
            while current and total + piece.tokens + 1 > chunk_size:
                current.pop(0)
                total = joined(current)
        current.append(piece)
        total = joined(current)
        if not pending:
            moved = emit()
            if moved:
                current = overlap_tail()
                total = joined(current)
                pending.extend(reversed(moved))
            else:
                current = []
    return chunks
