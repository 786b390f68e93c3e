"""A product version the documents do not name: the question is not theirs to answer."""

from __future__ import annotations

import pytest

from core.settings import Settings, load_settings
from rag.abstain import abstain_text
from rag.answer import Answerer
from rag.versions import about_other_version, compatible, unnamed_version, versioned_names
from tests.fake_ollama import FakeOllama


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("When will Llama 4 be released?", [("llama", "4")]),
        ("训练Llama3用了多少GPU?", [("llama", "3")]),  # (no space, after Chinese)
        ("GPT-4o or GPT-5?", [("gpt", "4"), ("gpt", "5")]),
        ("the iPhone 16 and Claude 3.5", [("iphone", "16"), ("claude", "3.5")]),
        # years, amounts, chips and stopwords are no versions
        ("SIGGRAPH 2024 and Juni 2023", []),
        ("Dari 65 juta pengguna", []),
        ("Perbedaan 100x lipat", []),
        ("Nvidia H100 dan A100", []),
        ("AAPL 0,22% dan Meta 3 kali lipat", []),
        # ... nor parts of a text, ranks or spans of time
        ("Which firms are in the Top 10 of Chapter 3?", []),
        ("Setelah 2 tahun, Meta 5年后", []),
        # typed in lower case, in full-width digits, with two decimal parts
        ("when will llama 4 be released?", [("llama", "4")]),
        ("Llama３什么时候发布?", [("llama", "3")]),
        ("Python 3.12.1", [("python", "3.12.1")]),
        # a whole word: not the "ng" of Vietnamese "tháng 8"
        ("vào tháng 8 năm 2015", []),
    ],
)
def test_versioned_names_are_products_with_a_version(
    text: str, names: list[tuple[str, str]]
) -> None:
    assert versioned_names(text) == names


def test_a_version_matches_the_one_it_extends() -> None:
    assert compatible("3", "3.1") and compatible("3.1", "3") and compatible("4", "4")
    assert not compatible("1", "11") and not compatible("3", "4")


def test_only_a_product_named_with_other_versions_is_unanswerable() -> None:
    texts = ["Meta merilis Llama 3.1, lebih besar dari Llama 2.", "训练Llama 3的GPU"]
    assert unnamed_version("When will Llama 4 come out?", texts) == "Llama 4"
    assert unnamed_version("When did Llama 3 come out?", texts) is None
    assert unnamed_version("How big is Llama 3.1 405B?", texts) is None
    # a product the texts never give a version says nothing
    assert unnamed_version("What does GPT-5 cost?", texts) is None
    assert unnamed_version("What does Llama cost?", texts) is None
    # the documents must write it as a name: "llama 2" in lower case is no product, nor
    # a word mostly written in lower case that opens a sentence ("First 10 years")
    assert unnamed_version("When will Llama 4 come out?", ["the llama 2 in the zoo"]) is None
    words = ["First 10 years were hard.", "In the first days, the first time"]
    assert unnamed_version("What happened in the first 15 years?", words) is None
    assert unnamed_version("Llama 4?", ["Llama 3 and llama.cpp", "Llama 2"]) == "Llama 4"
    assert unnamed_version("Python 3.12?", ["Python 3.11 and Python 3.12.1"]) is None


def test_asked_about_two_versions_a_sentence_about_either_is_about_them() -> None:
    asked = versioned_names("How many tokens were Llama 2 and Llama 3 trained on?")
    assert not about_other_version(asked, "Llama 2 dilatih dengan 2 triliun token.")
    assert about_other_version(versioned_names("Kapan Llama 3 dirilis?"), "Llama 2 dirilis.")
    assert not about_other_version(asked, "Meta melatih model dengan 15 triliun token.")


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("When will Llama 4 be released?", "en"),
        ("Kapan Llama 4 dirilis?", "id"),
        ("Llama 4什么时候发布?", "zh"),
    ],
)
def test_asked_about_a_version_the_documents_do_not_name_it_abstains(
    corpus_index: Settings, question: str, lang: str
) -> None:
    answer = Answerer(corpus_index).ask(question, no_llm=True)
    assert answer.mode == "abstain", answer.answer
    assert answer.answer == abstain_text(lang) and answer.passages  # related, listed


def test_a_version_the_documents_name_is_answered(corpus_index: Settings) -> None:
    answer = Answerer(corpus_index).ask("How many parameters does Llama 3.1 have?", no_llm=True)
    assert answer.mode == "extractive" and "405" in answer.answer, answer.answer


def test_the_model_is_not_asked_about_a_version_the_documents_do_not_name(
    corpus_index: Settings, with_ollama: FakeOllama
) -> None:
    answer = Answerer(load_settings()).ask("When will Llama 4 be released?")
    assert answer.mode == "abstain", answer.answer
    assert not [r for r in with_ollama.requests if r.path == "/api/chat"]


def test_a_sentence_about_another_version_gives_no_value() -> None:
    from rag.extractive import answer_first
    from rag.schema import Passage

    text = "Meta merilis Llama 2 tahun lalu. Kini Meta sedang melatih Llama 3 untuk kode."
    p = Passage(1, "d-1", "d", "d.txt", "d", "id", 0, len(text), text, 1.0)
    asked_3 = answer_first("Kapan Llama 3 dirilis?", [p])
    assert asked_3.value is None and "Llama 2" not in asked_3.text, asked_3.text
    asked_2 = answer_first("Kapan Llama 2 dirilis?", [p])
    assert asked_2.value == "tahun lalu", asked_2.text
