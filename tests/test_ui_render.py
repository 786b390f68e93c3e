"""ui/render.py: document, model and user text is always shown as text; [n] markers
become links only when they name a passage; unsupported sentences are marked; the
passage view highlights exactly the cited span."""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from html.parser import HTMLParser

from rag.schema import Passage, Quote
from ui.chat import ChatTurn, DocumentView
from ui.render import (
    MODE_LABELS,
    answer_markdown,
    mode_label,
    render_answer_text,
    render_banner,
    render_document,
    render_sources,
    render_status,
    render_transcript,
)

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="alert(1)"> **bold** [x](http://e.vil)'


class _Tags(HTMLParser):
    """Collects the tags and attributes a browser would build from the markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> _Tags:
    p = _Tags()
    p.feed(markup)
    p.close()
    return p


def passage(n: int, text: str = "Meta will have 340,000 H100s.", **kw: object) -> Passage:
    fields: dict[str, object] = {
        "n": n,
        "chunk_id": f"doc-{n:05d}-abcdef12",
        "doc_id": "doc",
        "source": "corpus/x.id.txt",
        "title": "Some title",
        "lang": "id",
        "start": 10,
        "end": 10 + len(text),
        "text": text,
        "score": 0.5,
    }
    fields.update(kw)
    return Passage(**fields)  # type: ignore[arg-type]


def test_markers_link_only_to_existing_passages() -> None:
    html = render_answer_text("A [1]. B [2, 3]. C [9]. D 【2】.", 4, {1, 2, 3})
    links = [a for tag, a in parse(html).tags if tag == "a"]
    assert [(a["data-turn"], a["data-n"]) for a in links] == [
        ("4", "1"),
        ("4", "2"),
        ("4", "3"),
        ("4", "2"),
    ]
    assert "[9]" in "".join(parse(html).text)  # kept as plain text, not a link


def test_hostile_text_is_escaped_everywhere() -> None:
    p = passage(1, text=HOSTILE, title=HOSTILE, source="<b>evil</b>.md")
    turn = ChatTurn(
        question=HOSTILE,
        text=HOSTILE + " [1]",
        passages=[p],
        mode="extractive",
        notice=HOSTILE,
        cited={1},
        unsupported=[HOSTILE],
        done=True,
    )
    view = DocumentView(
        passage=p, text="before " + HOSTILE + " after", start=7, end=7 + len(HOSTILE)
    )
    for markup in (render_transcript([turn]), render_document(view)):
        tags = {tag for tag, _ in parse(markup).tags}
        assert not tags & {"script", "img", "b", "strong"}, tags
        for _, attrs in parse(markup).tags:
            assert not any(k.startswith("on") for k in attrs), attrs
            assert "http://e.vil" not in (attrs.get("href") or "")
        assert "<script>window.pwned=1</script>" in "".join(parse(markup).text)
        assert "**bold**" in "".join(parse(markup).text)  # Markdown stays literal


def test_unsupported_sentences_are_marked() -> None:
    text = "Meta will have 340,000 H100s [1]. Meta owns the moon [1]."
    html = render_answer_text(text, 0, {1}, ["Meta owns the moon [1]."])
    marked = re.findall(r'<span class="unsupported"[^>]*>(.*?)<span class="unsupported-tag">', html)
    assert len(marked) == 1
    assert "moon" in marked[0] and "340,000" not in marked[0]
    assert 'data-n="1"' in marked[0]  # the marker inside stays a link


def test_document_view_highlights_exactly_the_span() -> None:
    doc = "Intro line.\nMeta will have 340,000 H100s.\nOutro <b>x</b>."
    start = doc.index("Meta")
    p = passage(2, start=start, end=start + 29)
    view = DocumentView(passage=p, text=doc, start=start, end=start + 29, total=len(doc))
    html = render_document(view)
    mark = re.search(r'<mark class="cited" id="cited-span">(.*?)</mark>', html, re.S)
    assert mark and mark.group(1) == "Meta will have 340,000 H100s."
    assert "Outro &lt;b&gt;x&lt;/b&gt;." in html


def test_document_view_highlights_the_quoted_sentence_inside_its_passage() -> None:
    doc = "Intro line.\nFirst sentence. Meta will have 340,000 H100s. Last one.\nOutro."
    start, end = doc.index("First"), doc.index("\nOutro")
    a = doc.index("Meta")
    p = passage(2, start=start, end=end)
    view = DocumentView(p, doc, start, end, total=len(doc), quotes=((a, a + 29),))
    html = render_document(view)
    marks = re.findall(r'<mark class="cited"[^>]*>(.*?)</mark>', html, re.S)
    assert marks == ["Meta will have 340,000 H100s."]
    inside = re.search(r'<span class="passage">(.*?)</span><span class="doc-out">', html, re.S)
    assert inside and "First sentence. " in inside.group(1) and "Last one." in inside.group(1)
    assert html.count('<span class="doc-out">') == 2 and "quoted sentence highlighted" in html


def test_sources_list_title_language_file_and_the_quoted_sentence() -> None:
    doc = "Intro. Meta will have 340,000 H100s. Outro."
    ps = [
        passage(1, source="/home/me/.rag/uploads/x.id.txt"),
        passage(2, title="Zweiter", lang="zh", source="corpus/y.zh.txt", score=0.25, text=doc),
    ]
    quote = Quote(2, "d", 7, 36, "Meta will have 340,000 H100s.")
    html = render_sources(ps, 0, cited={2}, quotes=[quote])
    text = "".join(parse(html).text)
    assert "Zweiter" in text and "zh" in text and "y.zh.txt" in text
    # no internal paths, no raw scores; the cited source shows the sentence quoted
    assert "corpus/" not in text and "/home/me" not in text and "0.25" not in text
    assert "“Meta will have 340,000 H100s.”" in text and "Intro." not in text
    assert 'class="src cited quoted" data-n="2"' in html and 'class="src" data-n="1"' in html


def test_answers_render_lists_as_lists() -> None:
    html = render_answer_text("Two things [1]:\n\n- first [1]\n- second\n\n1. one\n2. two", 0, {1})
    assert "<ul><li>first " in html and "</li><li>second</li></ul>" in html
    assert "<ol><li>one</li><li>two</li></ol>" in html
    assert html.startswith('<p class="para">Two things <a')


def test_model_free_answer_leads_with_the_value_then_the_quotes() -> None:
    ps = [passage(1), passage(2, lang="zh")]
    quotes = [
        Quote(1, "d", 0, 29, "Meta will have 340,000 H100s.", value="340,000"),
        Quote(2, "d", 0, 29, "Meta will have 340,000 H100s."),
    ]
    turn = ChatTurn(
        question="q",
        text="...",
        passages=ps,
        mode="extractive",
        cited={1, 2},
        quotes=quotes,
        value="340,000",
        done=True,
        notice="Ollama is not reachable",
    )
    html = render_transcript([turn])
    first = re.search(r'<div class="answer-first"><div class="value">(.*?)</div>', html)
    assert first and first.group(1) == "340,000"
    assert html.count('class="quote"') == 2 and "Also stated in:" in html
    assert "Said by:" not in html
    assert "Ollama is not reachable" not in "".join(parse(html).text)  # the banner says it


def test_abstention_says_not_in_your_documents_and_lists_related_passages() -> None:
    turn = ChatTurn(
        question="Who is the CEO of Apple?",
        text="The documents do not say.",
        passages=[passage(1)],
        mode="abstain",
        done=True,
    )
    text = "".join(parse(render_transcript([turn])).text)
    assert "Not in your documents." in text and "not in your documents" in text
    assert "Related, but not an answer" in text and "Meta will have 340,000" in text


def test_an_abstention_is_headed_in_the_questions_language() -> None:
    from rag.abstain import abstain_text

    turn = ChatTurn(
        question="Apa ibu kota negara Peru?",
        text=abstain_text("id"),
        passages=[passage(1)],
        mode="abstain",
        done=True,
    )
    html = render_transcript([turn])
    text = "".join(parse(html).text)
    assert "Tidak ada di dokumen Anda." in text and "Terkait, tetapi bukan jawaban" in text
    # no English heading over the Indonesian message
    assert "Not in your documents." not in text and "Related, but not" not in text
    # while the message streams, its passages are already related ones, not sources
    streaming = dataclasses.replace(turn, text="", done=False)
    text = "".join(parse(render_transcript([streaming])).text)
    assert "Terkait, tetapi bukan jawaban" in text and "Sources:" not in text


def badge(turn: ChatTurn) -> str:
    found = re.search(r'<div class="badge"[^>]*>(.*?)</div>', render_transcript([turn]))
    assert found, "no badge"
    return unescape(found.group(1))


def test_the_mode_badge_is_in_the_questions_language() -> None:
    questions = {
        "en": "How many H100s will Meta have?",
        "id": "Berapa banyak GPU H100 yang akan dimiliki Meta?",
        "zh": "Llama 3.1最大的版本有多少参数?",
        "vi": "Meta có bao nhiêu GPU H100?",
    }
    expected = {
        "en": ["answer written by llama3.1:8b", "no language model used: quoted passages"],
        "id": ["jawaban ditulis oleh llama3.1:8b", "tanpa model bahasa: kutipan dari dokumen"],
        "zh": ["由 llama3.1:8b 撰写的回答", "未使用语言模型：引用原文段落"],
        "vi": [
            "câu trả lời do llama3.1:8b viết",
            "không dùng mô hình ngôn ngữ: trích dẫn các đoạn văn",
        ],
    }
    abstain = {
        "en": "not in your documents",
        "id": "tidak ada di dokumen Anda",
        "zh": "不在您的文档中",
        "vi": "không có trong tài liệu của bạn",
    }
    for lang, question in questions.items():
        base = ChatTurn(question=question, text="x [1].", passages=[passage(1)], done=True)
        shown = [
            badge(dataclasses.replace(base, mode="llm", model="llama3.1:8b")),
            badge(dataclasses.replace(base, mode="extractive")),
        ]
        assert shown == expected[lang], lang
        assert badge(dataclasses.replace(base, mode="abstain")) == abstain[lang], lang
    # a language with no words of its own (a short question read as Irish): English
    turn = ChatTurn(question="Who is Yann LeCun?", mode="llm", done=True)
    assert badge(turn) == "answer written by the model"
    assert mode_label("llm", "ms") == "jawaban ditulis oleh model bahasa"  # Malay: Indonesian
    assert mode_label("rewritten", "zh") == "rewritten"  # a mode it does not know: as it is


def test_the_badges_have_words_in_every_language_an_abstention_has() -> None:
    from rag.abstain import ABSTAIN_HEAD

    assert set(MODE_LABELS) == set(ABSTAIN_HEAD)
    for lang, words in MODE_LABELS.items():
        assert set(words) == set(MODE_LABELS["en"]), lang
        assert "{model}" in words["llm"], lang


def test_markdown_copy_has_answer_and_cited_sources() -> None:
    turn = ChatTurn(
        question="how many H100s?",
        text="More than 340,000 [2].",
        passages=[passage(1, text="irrelevant"), passage(2, title="Zuck interview")],
        mode="llm",
        model="llama3.1:8b",
        cited={2},
        done=True,
    )
    md = answer_markdown(turn)
    assert md.startswith("**Q:** how many H100s?\n\nMore than 340,000 [2].")
    assert "[2] Zuck interview (id), `x.id.txt`" in md
    assert "> Meta will have 340,000 H100s." in md
    assert "irrelevant" not in md  # only the cited passages
    assert "llama3.1:8b" in md


def test_banner_gives_the_commands_when_ollama_is_down() -> None:
    down = {"ollama": {"reachable": False, "host": "http://127.0.0.1:11434"}, "llm": {}}
    html = render_banner(down, "llama3.1:8b", "bge-m3")
    codes = re.findall(r"<code>(.*?)</code>", html)
    assert codes[:3] == ["ollama serve", "ollama pull llama3.1:8b", "ollama pull bge-m3"]
    assert "Model-free mode" in html and 'class="banner-close"' in html  # dismissible
    assert "<details>" in html  # the commands folded away: a small banner
    up = {"ollama": {"reachable": True, "host": "h"}, "llm": {"available": True}}
    assert render_banner(up, "llama3.1:8b", "bge-m3") == ""
    missing = {"ollama": {"reachable": True, "host": "h"}, "llm": {"available": False}}
    assert "ollama pull llama3.1:8b" in render_banner(missing, "llama3.1:8b", "bge-m3")


def _model_free(
    question: str,
    passages: list[Passage],
    quotes: list[Quote],
    value: str | None,
    text: str = "...",
) -> str:
    """The page of one finished model-free answer citing every quote's passage."""
    turn = ChatTurn(
        question=question, text=text, passages=passages, mode="extractive",
        cited={q.n for q in quotes}, quotes=quotes, value=value, done=True,
    )  # fmt: skip
    return render_transcript([turn])


def test_the_sentence_naming_who_said_it_is_labelled_said_by() -> None:
    ps = [passage(1), passage(2)]
    quotes = [
        Quote(1, ps[0].doc_id, 0, 5, "“AI masa kini berbasis giliran.", value="Huang"),
        Quote(2, ps[1].doc_id, 0, 5, "“Anda mengatakan sesuatu,” kata Huang.", role="attribution"),
    ]
    html = _model_free(
        "Siapa yang mengatakan bahwa AI masa kini berbasis giliran?", ps, quotes, "Huang"
    )
    # (its own quotation marks inside: single ones around it; the label in the question's
    # language, as the answer's text has it)
    said = re.search(r'<div class="said-by">Dikatakan oleh: <q class="quote inner">(.*?)</q>', html)
    assert said and "kata Huang" in said.group(1)
    assert "Juga disebutkan dalam:" not in html and "Also stated in:" not in html
    english = _model_free("Who said that AI today is turn-based?", ps, quotes, "Huang")
    assert '<div class="said-by">Said by: <q' in english


def test_each_part_of_a_question_asking_two_things_shows_its_value_and_sentence() -> None:
    from rag.schema import PART

    ps = [passage(1), passage(2)]
    quotes = [
        Quote(1, ps[0].doc_id, 0, 5, "Meta akan memiliki 340.000 GPU H100.", value="340.000"),
        Quote(
            2, ps[1].doc_id, 0, 5, "Llama dilatih pada 16.000 GPU H100.", value="16.000", role=PART
        ),
    ]
    question = "How many H100s will Meta have, and on how many was Llama trained?"
    html = _model_free(question, ps, quotes, "340.000")
    values = re.findall(r'<div class="value">(.*?)</div>', html)
    assert values == ["340.000", "16.000"]
    assert html.index("340.000 GPU") < html.index("16.000</div>") < html.index("16.000 GPU")
    assert "Also stated in:" not in html  # a part's answer is no supporting quote


def test_a_part_of_the_question_nothing_answers_stays_visible() -> None:
    from rag.compound import NOT_FOUND

    ps = [passage(1)]
    quotes = [Quote(1, ps[0].doc_id, 0, 5, "Dirilis pada 2024.", value="2024")]
    text = f"Who trained it? — {NOT_FOUND}\n**2024** — “Dirilis pada 2024.” [1]"
    html = _model_free("Who trained it, and when was Llama released?", ps, quotes, None, text)
    assert '<div class="part-missing">Who trained it? — no sentence' in html
    assert '<div class="value">2024</div>' in html


def test_the_status_line_leaves_the_unreachable_model_to_the_banner() -> None:
    down = {"ollama": {"reachable": False}, "embedder": {"kind": "bundled", "model": "e5"}}
    bundled = render_status(
        {**down, "embedder_note": "Ollama is not reachable: using the bundled e5"}, "llama3.1:8b"
    )
    assert "reachable" not in bundled and "model-free answers" in bundled
    # why the bundled model was not used either is still said
    builtin = render_status(
        {
            **down,
            "embedder_note": "Ollama is not reachable; the bundled embedding model cannot be "
            "used: no wheel: using the builtin hash embedder (no cross-lingual meaning)",
        },
        "llama3.1:8b",
    )
    assert "reachable" not in builtin and "no cross-lingual meaning" in builtin
    assert "the bundled embedding model cannot be used" in builtin


def test_the_status_line_marks_its_problems() -> None:
    # a phone-width window shows the first item and the problems only (app.css)
    up = {"ollama": {"reachable": False}, "embedder": {"kind": "builtin"}}
    fine = render_status(up, "llama3.1:8b")
    assert 'class="problem"' not in fine and fine.count("<li>") == 4
    html = render_status(
        {**up, "dense": {"on": False, "reason": "no vectors"}, "lexical": {"problem": "stale"}},
        "llama3.1:8b",
    )
    problems = re.findall(r'<li class="problem">(.*?)</li>', html)
    assert problems == [
        "dense search off: no vectors (answers use BM25 only)",
        "lexical index: stale",
    ]
    assert html.index("<li>model-free answers</li>") < html.index('class="problem"')
    # a message written for the terminal too shows its command as code, not in backticks
    html = render_status({**up, "lexical": {"problem": "stale: run `rag ingest` <now>"}}, "m")
    assert "stale: run <code>rag ingest</code> &lt;now&gt;" in html and "`" not in html
