"""Sentence-level similarity (rag/sentences.py): which sentences are read, that each is
embedded once per process, that only neural embedders count, and that the model-free
answer finds a sentence in another script through it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from index.embedders import BuiltinEmbedder, BundledEmbedder, Embedder
from rag.extractive import answer_first
from rag.schema import Passage
from rag.sentences import (
    MIN_CHARS,
    TOP_PASSAGES,
    RetrievalSentences,
    SentenceSimilarity,
    sentences,
)


class CountingEmbedder(Embedder):
    """A deterministic stand-in for a neural model: a text's vector is its letter
    counts over a tiny alphabet; every text it is asked to embed is recorded."""

    kind = "bundled"
    model = "counting"
    ALPHABET = "aeioun"

    def __init__(self) -> None:
        super().__init__(batch_size=4)
        self.seen: list[str] = []

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return [[float(t.count(c)) + 0.01 for c in self.ALPHABET] for t in texts]


def passage(n: int, text: str) -> Passage:
    return Passage(n, f"c{n}", f"d{n}", f"doc{n}.txt", "t", "en", 0, len(text), text, 1.0)


def test_sentences_of_the_top_passages_only_distinct_and_long_enough() -> None:
    ps = [
        passage(i, f"Passage number {i} says one thing. Short. It says another.") for i in range(8)
    ]
    got = sentences(ps)
    assert "Short." not in got and all(len(s) >= MIN_CHARS for s in got)
    # the first sentence of each of the first five passages, and the one they share once
    assert len(got) == TOP_PASSAGES + 1 and got.count("It says another.") == 1
    assert "Passage number 5 says one thing." not in got
    # the same sentence in two overlapping passages is read once
    assert sentences([passage(1, "Same sentence here."), passage(2, "Same sentence here.")]) == [
        "Same sentence here."
    ]


def test_each_sentence_is_embedded_once_and_the_best_one_leads() -> None:
    embedder = CountingEmbedder()
    sim = SentenceSimilarity()
    ps = [passage(1, "aaaa aaaa aaaa. nnnn uuuu nnnn."), passage(2, "eeee iiii oooo.")]
    query = embedder.embed(["aaaa"])[0]
    embedder.seen.clear()
    first = sim.signals(embedder, query, ps)
    assert sorted(embedder.seen) == sorted(sentences(ps))
    assert first["sent_top"] == pytest.approx(1.0, abs=0.01)  # "aaaa aaaa aaaa." is the query
    assert 0.5 < first["sent_gap"] <= first["sent_top"]
    embedder.seen.clear()
    assert sim.signals(embedder, query, ps) == first
    assert embedder.seen == []  # cached


def test_the_best_sentence_is_read_without_the_bias_for_the_questions_language() -> None:
    import dataclasses

    from rag.sentences import same_language_bias

    embedder = CountingEmbedder()
    bias = same_language_bias(embedder.kind, "en")
    english = passage(1, "aaaa aaaa aaaa aaaa aaaa eeee.")  # cosine ~0.98 with the query
    chinese = dataclasses.replace(passage(2, "aaaa aaaa aaaa eeee."), lang="zh")  # ~0.95
    query = embedder.embed(["aaaa"])[0]
    sim = SentenceSimilarity()
    raw = sim.signals(embedder, query, [english, chinese])  # no language known: as measured
    assert raw["sent_top"] == pytest.approx(0.98, abs=0.01) and raw["sent_cross"] == 0.0
    asked_en = sim.signals(embedder, query, [english, chinese], "en")
    # the English sentence gives up the bias and falls behind the Chinese one
    assert asked_en["sent_top"] == pytest.approx(0.95, abs=0.01)
    assert asked_en["sent_top"] > raw["sent_top"] - bias
    assert (asked_en["sent_cross"], asked_en["sent_cross_script"]) == (1.0, 1.0)
    asked_zh = sim.signals(embedder, query, [english, chinese], "zh")
    assert asked_zh["sent_top"] == raw["sent_top"]  # the best is English: nothing taken off
    assert (asked_zh["sent_cross"], asked_zh["sent_cross_script"]) == (1.0, 1.0)


def test_a_sentence_that_asks_gives_no_signal() -> None:
    """A question is near a question in meaning ("What's the weather like tomorrow?" came
    closest to a heading asking "Apakah manusia masih perlu berpartisipasi?"), but it
    states no answer: the signals read the sentences that state something."""
    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa"])[0]
    asking = passage(1, "Aaaa aaaa aaaa aaaa? Nnnn uuuu eeee nnnn.")
    got = SentenceSimilarity().signals(embedder, query, [asking])
    assert got["sent_top"] < 0.5  # the stating sentence, far from the query
    stating = passage(1, "Aaaa aaaa aaaa aaaa. Nnnn uuuu eeee nnnn.")
    assert SentenceSimilarity().signals(embedder, query, [stating])["sent_top"] > 0.9
    assert SentenceSimilarity().signals(embedder, query, [passage(1, "Aaaa aaaa aaaa?")]) == {}


def test_the_builtin_hash_embedder_gives_no_sentence_signal() -> None:
    embedder = BuiltinEmbedder()
    query = embedder.embed_queries(["what"])[0]
    assert SentenceSimilarity().signals(embedder, query, [passage(1, "What is said here.")]) == {}


ZH = (
    "在AI领域争夺人才的战斗从未如此激烈,每家公司都在争夺极少数的研究员和工程师。"
    "拥有所需专长的人可以要求高达百万美元以上的薪酬包。"
    "像扎克伯格这样的CEO经常被拉进来,试图说服关键的新人加入。"
)


@pytest.mark.skipif(
    BundledEmbedder.available(load=False) is not None,
    reason=str(BundledEmbedder.available(load=False)),
)
def test_an_english_question_over_chinese_text_is_answered_through_meaning() -> None:
    # no word in common with any sentence: without the model there is no candidate at all
    # (the answer would be an abstention); with it the pay sentence leads
    question = "How much pay can people with the right expertise demand?"
    passages = [passage(1, ZH)]
    assert answer_first(question, passages).quotes == []
    embedder = BundledEmbedder()
    sentences = RetrievalSentences(
        SentenceSimilarity(), embedder, question, embedder.embed_queries([question])[0]
    )
    result = answer_first(question, passages, embedder=sentences)
    assert result.quotes and "百万美元" in result.quotes[0].text, result.text
    q = result.quotes[0]
    assert ZH[q.start : q.end] == q.text
