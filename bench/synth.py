"""A deterministic synthetic corpus made from the shipped one, for scale benchmarks.

Each synthetic document takes one shipped document's language and sentences: a seeded
random draw of its sentences (with replacement), numbers rewritten (so documents differ
in the details retrieval cares about), grouped into paragraphs under a title line. The
same seed and size always give byte-identical files.

    python bench/synth.py OUT_DIR --chars 5000000 [--seed 0] [--doc-chars 12000]

`generate_chunks` sizes the corpus for a target number of chunks of a given chunk size,
calibrated with the product's own chunker on a sample.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
_SENT = re.compile(r"[^.!?。！？\n]*(?:[.!?。！？]+[\"”’」)]*|\n|$)")
_NUM = re.compile(r"\d+")


def _sentences(text: str) -> list[str]:
    out = []
    for m in _SENT.finditer(text):
        s = m.group().strip()
        if sum(ch.isalnum() for ch in s) >= 8:
            out.append(s)
    return out


def _sources() -> list[tuple[str, str, list[str]]]:
    """(language tag, title, sentences) per shipped document, in file-name order."""
    out = []
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        lang = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 2 else "xx"
        title = text.strip().splitlines()[0][:80]
        out.append((lang, title, _sentences(text)))
    return out


def _mutate(sentence: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return sentence

    def repl(m: re.Match[str]) -> str:
        digits = len(m.group())
        return str(rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10**digits - 1))

    return _NUM.sub(repl, sentence)


def generate(out: Path, total_chars: int, *, seed: int = 0, doc_chars: int = 12_000) -> list[Path]:
    """Write documents into `out` until they hold `total_chars` characters; return them."""
    out.mkdir(parents=True, exist_ok=True)
    sources = _sources()
    weights = [sum(len(s) for s in sents) for _l, _t, sents in sources]
    rng = random.Random(seed)
    paths: list[Path] = []
    written = 0
    i = 0
    while written < total_chars:
        lang, title, sents = rng.choices(sources, weights=weights)[0]
        joiner = "" if lang == "zh" else " "
        want = min(doc_chars, total_chars - written) if total_chars - written > 200 else 200
        paragraphs: list[str] = []
        size = 0
        while size < want:
            para = joiner.join(_mutate(rng.choice(sents), rng) for _ in range(rng.randint(3, 6)))
            paragraphs.append(para)
            size += len(para) + 2
        text = f"{title} ({i})\n\n" + "\n\n".join(paragraphs) + "\n"
        path = out / f"synth-{i:06d}.{lang}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        written += len(text)
        i += 1
    return paths


def chars_per_chunk(chunk_size: int, overlap: int, *, seed: int = 0) -> float:
    """How many characters of synthetic text make one chunk, measured with our chunker."""
    import tempfile

    from index.chunker import chunk_spans

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), 200_000, seed=seed + 7919)
        chars = chunks = 0
        for p in paths:
            text = p.read_text(encoding="utf-8")
            chars += len(text)
            chunks += len(chunk_spans(text, chunk_size, overlap))
    return chars / max(chunks, 1)


def generate_chunks(
    out: Path, chunks: int, chunk_size: int, overlap: int, *, seed: int = 0
) -> list[Path]:
    """About `chunks` chunks' worth of synthetic documents at this chunk size."""
    per = chars_per_chunk(chunk_size, overlap, seed=seed)
    return generate(out, int(chunks * per), seed=seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--chars", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--doc-chars", type=int, default=12_000)
    args = ap.parse_args(argv)
    paths = generate(args.out, args.chars, seed=args.seed, doc_chars=args.doc_chars)
    print(f"{len(paths)} documents in {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
