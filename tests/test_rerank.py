"""Sentence rerank (rag/rerank.py): the passage whose one sentence matches the question
moves up, only within the first `depth`, a rank prior keeps fusion's order on near ties,
numbering starts again at 1, and nothing changes without a neural embedder."""

from __future__ import annotations

from core.settings import Settings
from index.embedders import BuiltinEmbedder
from rag.rerank import sentence_rerank
from rag.schema import Passage
from rag.sentences import RetrievalSentences, SentenceSimilarity, sentences
from tests.test_sentences import CountingEmbedder, passage


def _ids(ps: list) -> list[str]:
    return [p.chunk_id for p in ps]


def test_the_passage_with_the_matching_sentence_moves_first_within_the_depth() -> None:
    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa aaaa"])[0]
    ps = [
        passage(1, "eeee iiii oooo eeee. iiii oooo uuuu."),  # topical filler
        passage(2, "nnnn eeee nnnn eeee. oooo oooo iiii."),
        passage(3, "uuuu uuuu eeee. aaaa aaaa aaaa aaaa. oooo iiii."),  # one sentence matches
        passage(4, "aaaa aaaa aaaa, beyond the depth."),
    ]
    got = sentence_rerank(ps, SentenceSimilarity(), embedder, [query], depth=3)
    assert _ids(got) == ["c3", "c1", "c2", "c4"]
    assert [p.n for p in got] == [1, 2, 3, 4]  # renumbered: [n] follows the new order
    assert got[0].text == ps[2].text and got[0].start == ps[2].start  # nothing else changes
    # passage 4 matches as well but lies beyond the depth: recall@depth cannot change
    assert got[3].chunk_id == "c4"


def test_the_rank_prior_keeps_fusions_order_unless_a_sentence_is_clearly_better() -> None:
    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa"])[0]
    # passage 2's sentence is closer to the question (cosine ~0.99 against ~0.89)
    ps = [passage(1, "aaaa aaaa eeee."), passage(2, "aaaa aaaa aaaa ee.")]
    sim = SentenceSimilarity()
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, prior=0.0)) == ["c2", "c1"]
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5)) == ["c2", "c1"]
    # a prior larger than the difference keeps fusion's order
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, prior=0.2)) == ["c1", "c2"]
    # an exact tie keeps it too
    tie = [passage(1, "aaaa eeee aaaa eeee."), passage(2, "aaaa eeee aaaa eeee!")]
    assert _ids(sentence_rerank(tie, sim, embedder, [query], depth=5, prior=0.0)) == ["c1", "c2"]


def test_a_passage_in_the_questions_language_gives_up_the_models_bias_for_it() -> None:
    import dataclasses

    from rag.sentences import same_language_bias

    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa"])[0]
    # the English sentence is closer by ~0.03 (0.98 against 0.95), less than the model
    # adds for a question's own language: the Chinese passage's sentence answers as well
    english = passage(1, "aaaa aaaa aaaa aaaa aaaa eeee.")
    chinese = dataclasses.replace(passage(2, "aaaa aaaa aaaa eeee."), lang="zh")
    ps, sim = [english, chinese], SentenceSimilarity()
    assert same_language_bias(embedder.kind, "en") > 0.03
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, language="zh")) == [
        "c1",
        "c2",
    ]
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, language="en")) == [
        "c2",
        "c1",
    ]
    # no question language known: no penalty
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5)) == ["c1", "c2"]
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, language="und")) == [
        "c1",
        "c2",
    ]
    # a document read as Malay is in an Indonesian question's language
    malay = [dataclasses.replace(english, lang="ms"), chinese]
    assert _ids(sentence_rerank(malay, sim, embedder, [query], depth=5, language="id")) == [
        "c2",
        "c1",
    ]


def test_the_best_query_variant_counts() -> None:
    embedder = CountingEmbedder()
    ps = [passage(1, "eeee eeee eeee."), passage(2, "oooo oooo oooo.")]
    bare, other = embedder.embed(["eeee"])[0], embedder.embed(["oooo"])[0]
    sim = SentenceSimilarity()
    assert _ids(sentence_rerank(ps, sim, embedder, [bare], depth=5)) == ["c1", "c2"]
    # each passage matches one variant exactly: a tie, fusion's order (not the first variant's)
    assert _ids(sentence_rerank(ps, sim, embedder, [other, bare], depth=5)) == ["c1", "c2"]
    assert _ids(sentence_rerank(ps, sim, embedder, [other], depth=5)) == ["c2", "c1"]


def test_the_rerank_embeds_the_sentences_abstention_reads_and_no_more() -> None:
    embedder = CountingEmbedder()
    ps = [passage(i, " ".join(f"Sentence {i}-{j} aaaa eeee." for j in range(20))) for i in range(7)]
    query = embedder.embed(["aaaa"])[0]
    embedder.seen.clear()
    got = RetrievalSentences(SentenceSimilarity(), embedder, "aaaa", query)
    got.best_per_passage(ps[:5])
    assert sorted(embedder.seen) == sorted(sentences(ps))  # 12 a passage at most, top 5
    embedder.seen.clear()
    assert got.signals(ps) and embedder.seen == []  # abstention's signals: all cached


class OllamaLike(CountingEmbedder):
    kind = "ollama"  # another cosine scale: the prior was not measured on it


def test_no_rerank_for_other_embedders_or_a_depth_below_two() -> None:
    builtin = BuiltinEmbedder()
    ps = [passage(1, "Nothing about it here at all."), passage(2, "aaaa aaaa aaaa aaaa.")]
    query = builtin.embed_queries(["aaaa aaaa aaaa aaaa"])[0]
    sim = SentenceSimilarity()
    assert _ids(sentence_rerank(ps, sim, builtin, [query], depth=5)) == ["c1", "c2"]
    ollama = OllamaLike()
    q = ollama.embed(["aaaa"])[0]
    assert _ids(sentence_rerank(ps, sim, ollama, [q], depth=5)) == ["c1", "c2"]
    counting = CountingEmbedder()
    q = counting.embed(["aaaa"])[0]
    assert _ids(sentence_rerank(ps, sim, counting, [q], depth=5)) == ["c2", "c1"]  # it would
    counting.seen.clear()
    assert _ids(sentence_rerank(ps, sim, counting, [q], depth=1)) == ["c1", "c2"]
    assert ollama.seen == ["aaaa"] and counting.seen == []  # nothing embedded


def test_retrieval_reranks_with_the_bundled_model_and_can_be_turned_off(
    bundled_index: Settings,
) -> None:
    from rag.retrieve import Retriever

    # fusion ranks a passage about models in general first; the sentence that says it
    # ("Kita harus ingat: model bukanlah produknya.") starts another passage
    question = "Who said that the model is not the product?"
    retriever = Retriever(bundled_index)
    fused = retriever.search([question], rerank=False).passages
    got = retriever.search([question]).passages
    depth = bundled_index.rerank_depth
    assert sorted(_ids(got[:depth])) == sorted(_ids(fused[:depth]))  # the same passages
    assert _ids(got[depth:]) == _ids(fused[depth:])
    assert [p.n for p in got] == list(range(1, len(got) + 1))
    assert "bukanlah produk" not in fused[0].text
    assert "bukanlah produk" in got[0].text, got[0].text[:200]
    # several variants (rewrites, a follow-up's context): fusion's order stands
    both = [question, "Siapa yang mengatakan bahwa model bukanlah produknya?"]
    assert _ids(retriever.search(both).passages) == _ids(
        retriever.search(both, rerank=False).passages
    )
    off = Retriever(bundled_index.model_copy(update={"rerank_depth": 0}))
    assert _ids(off.search([question]).passages) == _ids(fused)
    retriever.close()
    off.close()


def test_a_chinese_question_gives_up_its_own_larger_bias() -> None:
    """The bias taken off is the question language's: Chinese text stands further above
    the rest for a Chinese question (0.08) than English text for an English one (0.04)."""
    import dataclasses

    from rag.sentences import same_language_bias

    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa"])[0]
    # cosines ~0.981 (Chinese passage) and ~0.928 (English): 0.053 apart, between the two
    chinese = dataclasses.replace(passage(1, "aaaa aaaa aaaa aaaa aaaa eeee."), lang="zh")
    english = dataclasses.replace(passage(2, "aaaa aaaa aaaa aaaa aaaa eeee eeee."), lang="en")
    assert same_language_bias(embedder.kind, "en") < 0.053 < same_language_bias(embedder.kind, "zh")
    ps, sim = [chinese, english], SentenceSimilarity()
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, language="zh")) == ["c2", "c1"]
    # the same gap, asked in Indonesian (neither passage's language): fusion's order
    assert _ids(sentence_rerank(ps, sim, embedder, [query], depth=5, language="id")) == ["c1", "c2"]
    words = RetrievalSentences(sim, embedder, "aaaa", query, "zh")
    assert words.language_bias == same_language_bias(embedder.kind, "zh")
    signals = sim.signals(embedder, query, [chinese], "zh")
    raw = sim.signals(embedder, query, [chinese])
    assert abs(signals["sent_top"] - (raw["sent_top"] - 0.08)) < 1e-6


def test_the_rerank_reads_past_the_fifth_passage(bundled_index: Settings) -> None:
    """The sentence that answers may sit in fusion's sixth passage: a question written by
    someone who read only the articles (bench/probe.jsonl) had it there, out of the old
    depth's reach (5)."""
    from rag.retrieve import Retriever

    question = "In which apps is Meta AI being used, according to the SIGGRAPH article?"
    needle = "digunakan di Facebook, Instagram"
    assert bundled_index.rerank_depth >= 8
    retriever = Retriever(bundled_index)
    shallow = Retriever(bundled_index.model_copy(update={"rerank_depth": 5}))

    def at(passages: list[Passage]) -> int:
        return next(i for i, p in enumerate(passages) if needle in p.text)

    fused = at(retriever.search([question], rerank=False).passages)
    assert fused >= 5
    shallow_got, deep_got = shallow.search([question]), retriever.search([question])
    assert at(shallow_got.passages) == fused
    assert at(deep_got.passages) < fused
    # abstention reads the same sentences either way (fusion's first five passages, those
    # its thresholds were chosen on), though the passages shown changed
    assert deep_got.sentence_signals() == shallow_got.sentence_signals()
    retriever.close()
    shallow.close()
