"""Where a question says to look ("per the a16z article") names a document, not what
answers: those words do not make its headline the answer."""

from __future__ import annotations

import pytest

from rag.extractive import answer_first
from rag.pointers import pointer_terms
from rag.schema import Passage


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("What was OpenAI valued at, per the a16z article?", {"per", "a16z", "article"}),
        ("How much was Meta's stock down in the Llama 3.1 article?", {"llama", "3.1", "article"}),
        (
            "Which eyewear maker is Meta working with, according to the SIGGRAPH conversation?",
            {"according", "siggraph", "conversation"},
        ),
        ("Model apa yang diluncurkan menurut artikel sumber terbuka?", {"menurut", "artikel"}),
        ("a16z文章说,除了哪家公司以外?", {"a16z", "文章"}),
        # a person is no pointer: what they said is the answer, their label is matched
        ("According to Noam Shazeer, how big is the entertainment industry?", set()),
        ("how many H100s does Meta plan to have?", set()),
        # the interview asked about is no pointer (接受采访: gave an interview)
        ("为什么伊朗国王接受采访?", set()),
    ],
)
def test_pointer_terms(question: str, terms: set[str]) -> None:
    assert terms <= pointer_terms(question)
    if not terms:
        assert pointer_terms(question) == frozenset()


def _passage(n: int, text: str) -> Passage:
    return Passage(n, f"d-{n}", "d", "d.txt", "d", "id", 0, len(text), text, 1.0)


def test_the_headline_holding_the_pointer_is_not_the_answer() -> None:
    headline = "a16z artikel 10.000 kata: Kita memasuki era komputasi ketiga"
    valued = (
        "Setelah OpenAI menerima dana dari Microsoft, OpenAI bernilai hampir 29 miliar dolar AS."
    )
    passages = [_passage(1, headline), _passage(2, valued)]
    weights = {"openai": 1.0, "valued": 5.0, "a16z": 3.0, "article": 5.0}
    near = {"article": ["artikel"]}
    got = answer_first(
        "What was OpenAI valued at, per the a16z article?", passages, weights=weights, near=near
    )
    assert got.quotes[0].text == valued, got.text
    # the same words asked as the subject keep the headline
    got = answer_first("What does the a16z article say?", passages, weights=weights, near=near)
    assert got.quotes[0].text == headline, got.text


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        # the subject before the pointer is no part of it
        ("How many GPUs were used for training of the Llama 3.1 model in the report?", "llama"),
        ("What is the size of the largest model in the report?", "largest"),
        ("How many users asked in the WhatsApp chat?", "whatsapp"),  # a chat is no document
        ("Apa katanya dalam percakapan dengan Zuckerberg?", "zuckerberg"),  # nor a person
    ],
)
def test_a_pointer_does_not_swallow_the_subject(question: str, kept: str) -> None:
    assert kept not in pointer_terms(question)
