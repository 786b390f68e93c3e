"""Cross-lingual retrieval and abstention sets built from XQuAD (dev split).

`../shared/datasets/xquad-dev/` (CC BY-SA 4.0; its README) holds 24 Wikipedia articles,
5 paragraphs each, with the same questions in English, Chinese and Vietnamese. Every
paragraph becomes one document (`<article>-<n>.<lang>.txt`), so a retrieved passage is a
hit when its document is the question's paragraph.

Sets (each: a pool of documents and questions over it):
  en-zh     English questions over the Chinese paragraphs
  zh-zh     Chinese questions over the Chinese paragraphs
  en-mixed  English questions over a pool where each article is in one of zh/vi/en
            (article i in ("zh", "vi", "en")[i % 3])
  zh-mixed, vi-mixed
            Chinese and Vietnamese questions over the same pool (a question in
            another language than English over text in several: the shipped corpus's
            Chinese and Indonesian askers)
  abstain   the en-mixed pool without every fourth article: the questions of the left-out
            articles are unanswerable, the others answerable (for abstention)
  zh-abstain the abstain set's pool and questions, asked in Chinese
  near-miss the en-mixed pool where, in every second article, each paragraph loses
            the sentences answering every third of its questions (the first, fourth,
            ...): those questions are unanswerable though their topic, names and
            neighbouring sentences are all there (the kind a team writes: "when was
            Facebook founded?" over articles about Facebook); a question whose answer
            text still appears elsewhere in its article is left out, and a paragraph
            the cut would leave under KEEP_AT_LEAST of its length keeps everything

These are development data: fusion and abstention are tuned on them (and on the dev half
of bench/gold.jsonl); the held-out check uses articles this split does not have.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "xquad-dev"
MIXED = ("zh", "vi", "en")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    file: str | None  # the paragraph's document; None when it is not in the pool
    answers: tuple[str, ...] = ()  # the answer as written in that document's language


@dataclass(frozen=True)
class XSet:
    name: str
    pool: str  # folder name under the output directory
    questions: list[Question]


def available() -> str | None:
    """None when the dataset is there, else why not."""
    for lang in ("en", "zh", "vi"):
        if not (DATA / f"xquad-dev.{lang}.json").is_file():
            return f"XQuAD dev data not found at {DATA}"
    return None


def _articles(lang: str) -> list[dict]:
    with open(DATA / f"xquad-dev.{lang}.json", encoding="utf-8") as fh:
        return list(json.load(fh)["data"])


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _file(title: str, n: int, lang: str) -> str:
    return f"{_slug(title)}-{n}.{lang}.txt"


def pool_languages(pool: str) -> dict[int, str | None]:
    """Article index -> language of its paragraphs in `pool` (None: left out)."""
    n = len(_articles("en"))
    if pool == "zh":
        return dict.fromkeys(range(n), "zh")
    if pool == "mixed":
        return {i: MIXED[i % 3] for i in range(n)}
    if pool == "holdout":
        return {i: None if i % 4 == 3 else MIXED[i % 3] for i in range(n)}
    if pool == "nearmiss":
        return {i: MIXED[i % 3] for i in range(n)}
    raise ValueError(pool)


def _near_miss(i: int) -> bool:
    """Is article `i` one whose paragraphs lose answer sentences (pool `nearmiss`)?"""
    return i % 2 == 1


KEEP_AT_LEAST = 0.4  # a paragraph the cut would leave shorter than this keeps everything


def _cut(para: dict) -> tuple[str, list[tuple[int, int]]]:
    """The paragraph without the sentences answering every third of its questions, and
    those sentences' spans in the original context."""
    from index.chunker import sentence_spans  # the product's own sentence splitter

    ctx = para["context"]
    starts = [qa["answers"][0]["answer_start"] for k, qa in enumerate(para["qas"]) if k % 3 == 0]
    removed = [(a, b) for a, b in sentence_spans(ctx) if any(a <= at < b for at in starts)]
    pieces, last = [], 0
    for a, b in removed:
        pieces.append(ctx[last:a])
        last = b
    kept = "".join([*pieces, ctx[last:]])
    if len(kept.strip()) < KEEP_AT_LEAST * len(ctx.strip()):
        return ctx, []  # most of it would go: not a near miss but a missing paragraph
    return kept, removed


def write_pool(pool: str, out: Path) -> Path:
    """Write the pool's documents into `out/<pool>` (idempotent) and return the folder."""
    folder = out / pool
    folder.mkdir(parents=True, exist_ok=True)
    by_lang = {lang: _articles(lang) for lang in ("en", "zh", "vi")}
    for i, lang in pool_languages(pool).items():
        if lang is None:
            continue
        article = by_lang[lang][i]
        for n, para in enumerate(article["paragraphs"]):
            path = folder / _file(article["title"], n, lang)
            context = _cut(para)[0] if pool == "nearmiss" and _near_miss(i) else para["context"]
            text = context.lstrip("\ufeff").strip() + "\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
    return folder


def _answers() -> dict[tuple[str, str], tuple[str, ...]]:
    """(question id, language) -> the answer texts in that language's paragraph."""
    out = {}
    for lang in ("en", "zh", "vi"):
        for article in _articles(lang):
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    out[(qa["id"], lang)] = tuple(a["text"].strip() for a in qa["answers"])
    return out


def _gone(pool: str) -> set[str]:
    """Ids of the questions `pool` took the answer away from (`nearmiss`), and, as
    "?<id>", of those whose answer text its paragraph still holds elsewhere."""
    if pool != "nearmiss":
        return set()
    out = set()
    by_lang = {lang: _articles(lang) for lang in MIXED}
    for i, lang in pool_languages(pool).items():
        if lang is None or not _near_miss(i):
            continue
        cuts = [(para, *_cut(para)) for para in by_lang[lang][i]["paragraphs"]]
        article = "\n".join(kept for _, kept, _ in cuts)  # what the pool keeps of it
        for para, _, removed in cuts:
            for qa in para["qas"]:
                answer = qa["answers"][0]
                if any(a <= answer["answer_start"] < b for a, b in removed):
                    gone = answer["text"].strip() not in article
                    out.add(qa["id"] if gone else "?" + qa["id"])
    return out


def _questions(qlang: str, pool: str) -> list[Question]:
    langs = pool_languages(pool)
    answers = _answers()
    gone = _gone(pool)
    out = []
    for i, article in enumerate(_articles(qlang)):
        lang = langs[i]
        for n, para in enumerate(article["paragraphs"]):
            file = _file(article["title"], n, lang) if lang else None
            for qa in para["qas"]:
                if "?" + qa["id"] in gone:
                    continue  # its answer is gone from one sentence but not from all
                if qa["id"] in gone:
                    out.append(Question(qa["id"], qa["question"].strip(), qlang, None))
                    continue
                got = answers.get((qa["id"], lang), ()) if lang else ()
                out.append(Question(qa["id"], qa["question"].strip(), qlang, file, got))
    return out


def sets_questions(lang: str) -> list[Question]:
    """Every question in `lang` (ids are parallel across languages)."""
    return _questions(lang, "zh")


def sets() -> list[XSet]:
    return [
        XSet("en-zh", "zh", _questions("en", "zh")),
        XSet("zh-zh", "zh", _questions("zh", "zh")),
        XSet("en-mixed", "mixed", _questions("en", "mixed")),
        XSet("zh-mixed", "mixed", _questions("zh", "mixed")),
        XSet("vi-mixed", "mixed", _questions("vi", "mixed")),
        XSet("abstain", "holdout", _questions("en", "holdout")),
        XSet("zh-abstain", "holdout", _questions("zh", "holdout")),
        XSet("near-miss", "nearmiss", _questions("en", "nearmiss")),
    ]
