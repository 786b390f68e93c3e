"""ui/render.py: document, model and user text is always shown as text; [n] markers
become links only when they name a passage; unsupported sentences are marked; the
passage view highlights exactly the cited span."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.schema import Passage
from ui.chat import ChatTurn, DocumentView
from ui.render import (
    answer_markdown,
    render_answer_text,
    render_banner,
    render_document,
    render_sources,
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


def test_sources_list_title_language_file_and_score() -> None:
    ps = [passage(1), passage(2, title="Zweiter", lang="zh", source="corpus/y.zh.txt", score=0.25)]
    html = render_sources(ps, 0, cited={2})
    text = "".join(parse(html).text)
    assert "Zweiter" in text and "zh" in text and "corpus/y.zh.txt" in text and "0.250" in text
    assert 'class="src cited" data-n="2"' in html and 'class="src" data-n="1"' in html


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
    assert "[2] Zuck interview (id), `corpus/x.id.txt`" in md
    assert "> Meta will have 340,000 H100s." in md
    assert "irrelevant" not in md  # only the cited passages
    assert "llama3.1:8b" in md


def test_banner_gives_the_commands_when_ollama_is_down() -> None:
    down = {"ollama": {"reachable": False, "host": "http://127.0.0.1:11434"}, "llm": {}}
    html = render_banner(down, "llama3.1:8b", "bge-m3")
    codes = re.findall(r"<code>(.*?)</code>", html)
    assert codes[:3] == ["ollama serve", "ollama pull llama3.1:8b", "ollama pull bge-m3"]
    assert "Model-free mode" in html
    up = {"ollama": {"reachable": True, "host": "h"}, "llm": {"available": True}}
    assert render_banner(up, "llama3.1:8b", "bge-m3") == ""
    missing = {"ollama": {"reachable": True, "host": "h"}, "llm": {"available": False}}
    assert "ollama pull llama3.1:8b" in render_banner(missing, "llama3.1:8b", "bge-m3")
