"""Chunking: exact offsets, the token cap in every script, sentence-end cuts, overlap."""

from __future__ import annotations

import itertools
import re

import pytest

from index.chunker import chunk_spans, sentence_spans, states_something, word_count
from index.loaders import load_bytes
from index.tokens import count_tokens
from tests.conftest import CORPUS

CORPUS_FILES = sorted(CORPUS.iterdir())


def corpus_text(name: str) -> str:
    path = CORPUS / name
    return load_bytes(path.read_bytes(), path.name).text


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(("size", "overlap"), [(300, 40), (120, 20), (64, 0)])
def test_every_corpus_chunk_is_within_the_cap_and_in_order(
    path: object, size: int, overlap: int
) -> None:
    text = corpus_text(path.name)  # type: ignore[attr-defined]
    spans = chunk_spans(text, size, overlap)
    assert spans
    for span in spans:
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece
        assert span.tokens == count_tokens(piece)
        assert span.tokens <= size
    starts = [s.start for s in spans]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # together the chunks cover every non-space character of the document
    covered = bytearray(len(text))
    for span in spans:
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
    missed = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missed == []


def test_chunks_end_at_sentence_ends_in_latin_and_cjk() -> None:
    for name, ends in (
        ("zuckerberg-agi-interview.id.txt", '.!?…"”’)'),
        ("zuckerberg-agi-interview.zh.txt", "。！？；!?”」』）)"),
    ):
        text = corpus_text(name)
        spans = chunk_spans(text, 120, 20)
        at_end = sum(1 for s in spans if text[s.end - 1] in ends or text[s.end :].startswith("\n"))
        # a chunk ends mid-sentence only when one sentence alone exceeds the cap
        long_sentences = sum(1 for a, b in sentence_spans(text) if count_tokens(text[a:b]) > 120)
        assert at_end >= len(spans) - long_sentences - 1, name


def test_cjk_without_punctuation_is_hard_capped() -> None:
    text = "人工智能" * 2000  # 8,000 Han characters, no punctuation, no spaces
    spans = chunk_spans(text, 100, 10)
    assert len(spans) > 10
    assert all(s.tokens <= 100 for s in spans)
    assert "".join(text[s.start : s.end] for s in spans) == text


def test_latin_without_punctuation_cuts_at_spaces() -> None:
    words = [f"kata{i}" for i in range(3000)]
    text = " ".join(words)
    spans = chunk_spans(text, 50, 0)
    assert all(s.tokens <= 50 for s in spans)
    for s in spans:
        piece = text[s.start : s.end]
        # no word is cut in two
        assert re.fullmatch(r"kata\d+( kata\d+)*", piece), piece[:40]


def test_overlap_repeats_trailing_sentences() -> None:
    sentences = [f"Kalimat nomor {i} berbicara tentang GPU H100 milik Meta." for i in range(60)]
    text = " ".join(sentences)
    spans = chunk_spans(text, 80, 30)
    assert len(spans) > 3
    for a, b in itertools.pairwise(spans):
        assert b.start < a.end, "consecutive chunks should overlap"
        overlap_tokens = count_tokens(text[b.start : a.end])
        assert overlap_tokens <= 30 + 2
    no_overlap = chunk_spans(text, 80, 0)
    for a, b in itertools.pairwise(no_overlap):
        assert b.start >= a.end


def test_a_single_huge_line_is_linear_and_capped() -> None:
    text = "x" * 400_000  # one enormous pre-token
    spans = chunk_spans(text, 300, 0)
    assert all(s.tokens <= 300 for s in spans)
    assert spans[-1].end == len(text)


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_bad_parameters(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="bad chunking parameters"):
        chunk_spans("text", size, overlap)


@pytest.mark.parametrize(
    ("text", "words", "states"),
    [
        ("• Français (Afrique)", 2, False),  # a page's language menu
        ("• Português", 1, False),
        ("是的。", 2, False),
        ("Meta akan memiliki 340.000 GPU.", 5, True),  # a number is one word
        ("Rp 1.234.567", 2, False),
        ("他告诉我,到今年年底", 9, True),  # a Chinese character is a word
        ("Noam Shazeer, Karakter.AI :", 4, True),
        # an address is no words: a sign-up line states nothing, prose citing one does
        ("订阅:https://rengongzhineng.io/ 。?", 5, False),
        ("Contact: news@example.com, www.example.com/about", 8, False),
        ("Lihat https://ai.meta.com/blog untuk detail model baru.", 10, True),
        ("参见https://x.io，GPT-4在考试中得分最高。", 15, True),  # the text after it counts
    ],
)
def test_a_menu_item_states_nothing(text: str, words: int, states: bool) -> None:
    assert word_count(text) == words
    assert states_something(text) is states


FOOTER = """Perusahaan itu mengatakan model baru akan dirilis tahun depan.
Komentar
0/400
Tidak ada komentar
Perdagangkan Kripto Di Mana Saja Kapan Saja
qrCode
Pindai untuk mengunduh aplikasi Gate
Komunitas
  • Español
  • Français (Afrique)
"""


def test_a_longer_line_amid_a_pages_furniture_is_no_statement() -> None:
    """A comment box, an app advert and a language menu: lines that end as no sentence
    does, most stating nothing. The advert's six words would pass for a statement alone;
    amid them it is furniture, and so is the app line after "qrCode" (a footer is no
    list of labels and values). The article's sentence above them is kept."""
    from index.chunker import page_furniture, sentence_spans, statements

    furniture = {FOOTER[a:b] for a, b in page_furniture(FOOTER)}
    assert "Perdagangkan Kripto Di Mana Saja Kapan Saja" in furniture
    assert not any("Perusahaan" in line for line in furniture)
    assert "Pindai untuk mengunduh aplikasi Gate" in furniture  # after "qrCode": no label
    kept = [FOOTER[a:b] for a, b in statements(FOOTER, sentence_spans(FOOTER))]
    assert kept == ["Perusahaan itu mengatakan model baru akan dirilis tahun depan."]


@pytest.mark.parametrize(
    "text",
    [
        "Komentar\n0/400\nPerdagangkan Kripto Di Mana Saja Kapan Saja\nqrCode\nKomunitas\n",
        "Home\nProducts\nBuy Bitcoin and Ethereum instantly\nLogin\nSign up\n",
        # a sentence that starts inside a furniture line is inside it too
        "Komentar\n0/400\nTidak ada. Jadilah yang pertama berkomentar di sini\nqrCode\n"
        "Pindai\nKomunitas\n",
    ],
)
def test_an_advert_after_a_one_word_line_is_no_value_of_a_label(text: str) -> None:
    from index.chunker import sentence_spans, statements

    assert statements(text, sentence_spans(text)) == []


def test_a_closing_bracket_ends_no_sentence() -> None:
    """A language menu's "English (US)" does not cut the run of furniture lines (before,
    a closing bracket counted as a sentence's end, and the advert's run was too short)."""
    from index.chunker import page_furniture

    text = (
        "Bahasa\nEnglish (US)\nPortuguês (Brasil)\nTidak ada komentar\n"
        "Perdagangkan Kripto Di Mana Saja Kapan Saja\nqrCode\n"
    )
    furniture = [text[a:b] for a, b in page_furniture(text)]
    assert "Perdagangkan Kripto Di Mana Saja Kapan Saja" in furniture


@pytest.mark.parametrize(
    ("text", "content"),
    [
        # a list whose items state something (a panel's speakers)
        (
            "Pembicara:\n• Salah satu Pendiri & CEO Antropis Dario Amodei\n"
            "• Pendiri dan CEO Daphne Koller\n• CTO Microsoft Kevin Scott\n• Ali Ghodsi\n",
            ["• Salah satu Pendiri & CEO Antropis Dario Amodei", "• CTO Microsoft Kevin Scott"],
        ),
        # a table's rows state values, among labels of one word
        (
            "Pendapatan\nLaba\nBiaya\nPendapatan kuartal ini 134.902 juta\nMargin\n",
            ["Pendapatan kuartal ini 134.902 juta"],
        ),
        # three short lines are no run
        (
            "Bagikan\nKomentar\nIklan di sini untuk semua orang\nIni kalimat biasa.\n",
            ["Iklan di sini untuk semua orang"],
        ),
        # Markdown headings and bullets: a longer bullet is content
        (
            "## Install\n\n- Python 3.11\n- pip\n\n## Usage\n\n- Run the server locally\n"
            "- Open the browser\n\n## License\n\nMIT\n",
            ["- Run the server locally", "- Open the browser"],
        ),
        # a glossary and a form: a value after its label
        (
            "Glossary\nAPI\nApplication programming interface\nGPU\nGraphics processing unit\n"
            "LLM\nLarge language model\n",
            ["Application programming interface", "Graphics processing unit"],
        ),
        (
            "Name\nJohn Smith\nPosition\nSenior software engineer at Acme\nEducation\n"
            "MSc Computer Science\n",
            ["Senior software engineer at Acme", "MSc Computer Science"],
        ),
        # a wrapped sentence above a share bar
        (
            "The chief executive said the model would ship\nto customers in Europe next spring\n"
            "Share\nTweet\nEmail\nPrint\nComments\n",
            ["The chief executive said the model would ship", "to customers in Europe next spring"],
        ),
        # prose wrapped at 40 characters, no stops at the line ends
        (
            "The company said on Tuesday that its new\nmodel would be released to the public\n"
            "next year after a long period of testing\nwith partners in several countries and\n"
            "regions around the world this spring\n",
            ["model would be released to the public", "with partners in several countries and"],
        ),
    ],
)
def test_lists_tables_forms_and_prose_are_not_furniture(text: str, content: list[str]) -> None:
    from index.chunker import page_furniture, sentence_spans, statements

    furniture = [text[a:b] for a, b in page_furniture(text)]
    kept = [text[a:b] for a, b in statements(text, sentence_spans(text))]
    for line in content:
        assert line not in furniture and line in kept, line


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("It was built by Dr. Smith. It launched.", ["It was built by Dr. Smith.", "It launched."]),
        ("Kata dr. Budi, hasilnya baik. Lalu selesai.", ["Kata dr. Budi, hasilnya baik."]),
        ("J. K. Rowling wrote it. Then more.", ["J. K. Rowling wrote it.", "Then more."]),
        ("Meta (M. Zuckerberg) said so. Ok then.", ["Meta (M. Zuckerberg) said so."]),
        # still ends: a word of two capitals, a number, an ellipsis, ! and ?
        ("Built by AI. Then more.", ["Built by AI.", "Then more."]),
        ("Version 3.1 is out. Next.", ["Version 3.1 is out.", "Next."]),
        ("He won... Then he left! Really? Yes.", ["He won...", "Then he left!", "Really?"]),
    ],
)
def test_a_title_or_an_initial_ends_no_sentence(text: str, sentences: list[str]) -> None:
    got = [text[a:b] for a, b in sentence_spans(text)]
    assert got[: len(sentences)] == sentences
