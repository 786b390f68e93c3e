"""Citation checking: marker parsing and validation, per-sentence support of numbers and names."""

from __future__ import annotations

from rag.citations import check, clean_markers, find_markers, sentences
from rag.schema import Passage

ID_340K = (
    "Pada akhir tahun ini, katanya kepada saya, Metal akan memiliki lebih dari 340.000 GPU "
    "Nvidia H100, chip pilihan industri untuk membangun AI generatif."
)
ZH_600K = "计算Nvidia A100s和其他AI芯片,Meta到2024年底将拥有近600,000个GPU。"
ID_HASSABIS = "Demis Hassabis, kepala kecerdasan buatan di Google, memiliki tujuan yang sama."


def _passages(*texts: str) -> list[Passage]:
    return [
        Passage(
            n=i,
            chunk_id=f"c{i}",
            doc_id=f"d{i}",
            source=f"doc{i}.txt",
            title="t",
            lang="id",
            start=0,
            end=len(t),
            text=t,
            score=1.0,
        )
        for i, t in enumerate(texts, start=1)
    ]


def test_marker_forms_are_all_recognised() -> None:
    text = "a [1] b [2, 3] c [1][3] d 【2】 e 【１，３】 f [4、5]"
    assert [m.numbers for m in find_markers(text)] == [
        (1,),
        (2, 3),
        (1,),
        (3,),
        (2,),
        (1, 3),
        (4, 5),
    ]


def test_brackets_that_are_not_markers_are_left_alone() -> None:
    assert find_markers("see [note] and [a1] or [1a]") == []


def test_invalid_markers_are_removed_and_reported() -> None:
    cleaned, cited, invalid = clean_markers("A [1]. B [4]. C [2, 9]. D 【0】.", n_passages=3)
    assert cleaned == "A [1]. B. C [2]. D."
    assert cited == {1, 2}
    assert invalid == ["[4]", "[9]", "[0]"]


def test_check_maps_markers_to_passages() -> None:
    ps = _passages(ID_340K, ZH_600K)
    result = check("Meta will have more than 340,000 H100s [1]. Nearly 600,000 GPUs [2][7].", ps)
    assert result.cited == {1, 2}
    assert result.invalid == ["[7]"]
    assert "[7]" not in result.text
    assert result.unsupported == []


def test_numbers_compare_across_formats() -> None:
    ps = _passages(ID_340K)
    for form in ("340,000", "340.000", "340 000", "340 ribu", "34万", "340k"):
        result = check(f"Meta will have over {form} Nvidia H100 GPUs [1].", ps)
        assert result.unsupported == [], form


def test_a_number_the_cited_passage_lacks_is_unsupported() -> None:
    ps = _passages(ID_340K, ZH_600K)
    ok = "Meta will have more than 340,000 H100 GPUs [1]."
    bad = "Including A100s it will have 700,000 GPUs [2]."
    result = check(f"{ok} {bad}", ps)
    assert result.unsupported == [bad]


def test_a_number_from_an_uncited_passage_does_not_count() -> None:
    ps = _passages(ID_340K, ZH_600K)
    wrong_source = "Including A100s, Meta will have about 600,000 GPUs [1]."
    assert check(wrong_source, ps).unsupported == [wrong_source]


def test_names_must_occur_in_the_cited_passages() -> None:
    ps = _passages(ID_HASSABIS)
    assert check("The head of AI at Google is Demis Hassabis [1].", ps).unsupported == []
    bad = "The head of AI at Google is Sam Altman [1]."
    assert check(bad, ps).unsupported == [bad]


def test_first_word_is_a_name_only_when_it_looks_like_one() -> None:
    ps = _passages(ID_HASSABIS)
    # "However" starts a sentence: not a name; "Altman" written mid-sentence elsewhere: a name
    assert check("However, Google has one head of AI, Hassabis [1].", ps).unsupported == []
    bad = "Altman agrees [1]."
    assert check(f"{bad} The head is not Altman [1].", ps).unsupported[0] == bad


def test_uncited_claims_are_unsupported_unless_the_paragraph_cites() -> None:
    ps = _passages(ID_340K)
    lone = "Meta will have 340,000 H100s."
    assert check(lone, ps).unsupported == [lone]
    # cited once at the end of the paragraph: both sentences checked against [1]
    para = "Meta is buying chips. It will have 340,000 H100s by year end [1]."
    assert check(para, ps).unsupported == []
    # a sentence without numbers or names needs no citation
    assert check("the passages do not say more.", ps).unsupported == []


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    got = sentences("It has 340,000 GPUs. [1] Then more [2].\n\n- Listed 34万 [1]")
    assert got == [("It has 340,000 GPUs. [1]", 0), ("Then more [2].", 0), ("Listed 34万 [1]", 1)]
    ps = _passages(ID_340K, ZH_600K)
    assert check("Meta will have 340,000 H100s. [1] Nearly 600,000 GPUs. [2]", ps).unsupported == []


def test_shorthand_numbers_copied_from_a_passage_are_supported() -> None:
    ps = _passages("Namun Llama 3.1 405B adalah model terbuka dengan konteks 128K token.")
    assert check("Llama 3.1 405B has a 128K context [1].", ps).unsupported == []
    wrong = "Llama 3.1 70B has a 128K context [1]."
    assert check(wrong, ps).unsupported == [wrong]


def test_fullwidth_brackets_ranges_and_years() -> None:
    assert [m.numbers for m in find_markers("a ［3］ b [1-3] c [2, 5–6] d")] == [
        (3,),
        (1, 2, 3),
        (2, 5, 6),
    ]
    text, cited, invalid = clean_markers("In the 2023 report [2023], Meta [1-2] grew [9].", 3)
    assert text == "In the 2023 report [2023], Meta [1-2] grew."  # a year is not a marker
    assert cited == {1, 2} and invalid == ["[9]"]


def test_the_ui_links_exactly_the_markers_the_checker_counts() -> None:
    from ui.render import render_inline

    html = render_inline(
        "Over 340,000 ［1］ and 600,000 [2-3], not [2024].", turn=0, valid={1, 2, 3}
    )
    import re

    assert re.findall(r'data-n="(\d+)"', html) == ["1", "2", "3"]
    assert "[2024]" in html


def test_each_cited_sentence_is_matched_to_the_passage_sentence_that_supports_it() -> None:
    from rag.citations import supporting_quotes

    text = (
        "Pengiriman H100 Meta mencapai 150.000 pada tahun 2023. Pada akhir tahun, Meta "
        "akan memiliki lebih dari 340.000 GPU Nvidia H100. Demis Hassabis setuju."
    )
    p = Passage(1, "c1", "d1", "a.txt", "A", "id", 100, 100 + len(text), text, 1.0)
    answer = "Meta will have over 340,000 H100s [1]. Hassabis agrees [1]. Nothing here [1]."
    quotes = supporting_quotes(answer, [p])
    assert [q.text for q in quotes] == [
        "Pada akhir tahun, Meta akan memiliki lebih dari 340.000 GPU Nvidia H100.",
        "Demis Hassabis setuju.",
    ]
    for q in quotes:
        assert text[q.start - 100 : q.end - 100] == q.text and q.n == 1
