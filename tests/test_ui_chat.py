"""The chat's backend (ui/chat.py) and the page's handlers (ui/app.py App) with the real
Answerer, on the shipped corpus: model-free answers, tokens streamed from the fake
Ollama, follow-ups with the conversation, the citation view, the model picker, uploads,
and 20 questions at once."""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from core.errors import RagError
from core.settings import Settings, load_settings
from index.catalog import Catalog
from rag.schema import MAX_QUESTION_CHARS, Passage
from tests.fake_ollama import FakeOllama
from tests.ollama_router import request_kind, router
from tests.threads import run_in_threads
from ui.app import App
from ui.chat import ChatBackend, ChatTurn
from ui.render import render_document, render_transcript

H100 = "how many H100s does Meta plan to have?"
TOKENS = ["Meta", " will", " have", " more", " than", " 340,000", " H100", " GPUs", " [1]", "."]


def _final(turns: list[ChatTurn]) -> ChatTurn:
    assert turns and turns[-1].done
    return turns[-1]


def test_model_free_answer_cites_the_340000_passages(corpus_index: Settings) -> None:
    backend = ChatBackend(corpus_index)
    turn = _final(list(backend.ask(H100)))
    assert turn.error is None
    assert turn.mode == "extractive" and turn.model is None
    assert turn.passages and turn.cited
    cited = [p for p in turn.passages if p.n in turn.cited]
    assert any(re.search(r"340[.,]000", p.text) for p in cited)
    html = render_transcript([turn])
    for n in turn.cited:
        assert f'data-turn="0" data-n="{n}"' in html

    view = backend.document_view(cited[0])
    assert view.text[view.start : view.end] == cited[0].text
    assert view.offset == 0 and view.total == len(view.text)
    backend.close()


def test_tokens_stream_then_a_follow_up_uses_the_conversation(
    corpus_index: Settings, with_ollama: FakeOllama
) -> None:
    with_ollama.default_reply = router(
        TOKENS, condensed="Counting A100s too, how many GPUs will Meta have?"
    )
    backend = ChatBackend(load_settings())
    texts = [t.text for t in backend.ask(H100)]
    partial = [t for t in texts if t and t != texts[-1]]
    assert len(set(partial)) >= 5  # the answer arrived piece by piece
    assert all("".join(TOKENS).startswith(p) for p in partial)  # in order, nothing lost
    first = _final(list(backend.ask(H100)))
    assert first.mode == "llm" and first.model == "llama3.1:8b"
    assert first.text == "Meta will have more than 340,000 H100 GPUs [1]."
    assert first.cited == {1}

    follow = _final(list(backend.ask("and including A100s?", [first])))
    assert follow.error is None
    assert follow.standalone_question == "Counting A100s too, how many GPUs will Meta have?"
    condense = [
        r.json
        for r in with_ollama.calls("/api/chat")
        if r.json and request_kind(r.json) == "condense"
    ]
    assert len(condense) == 1
    prompt = " ".join(m["content"] for m in condense[0]["messages"])
    assert H100 in prompt and "340,000 H100 GPUs" in prompt and "and including A100s?" in prompt
    backend.close()


def test_questions_out_of_bounds_end_with_a_message(corpus_index: Settings) -> None:
    backend = ChatBackend(corpus_index)
    assert _final(list(backend.ask("   "))).error == "type a question first"
    long = _final(list(backend.ask("x" * (MAX_QUESTION_CHARS + 1))))
    assert long.error is not None and "ask in at most 4,000" in long.error
    weird = _final(list(backend.ask("H100\x00\x1b[31m?")))
    assert weird.error is None and weird.passages  # control characters: a normal answer


def test_a_question_over_the_limit_stays_in_the_box_and_its_error_in_view(
    corpus_index: Settings,
) -> None:
    app = App(corpus_index)
    pasted = "Zorblax " * 5000  # 40,000 characters, the last a space
    transcript, turns, box, viewer, _stored = list(app.ask(pasted, [], None))[-1]
    assert turns[-1].error and "ask in at most 4,000" in turns[-1].error
    assert box is not None and box != ""  # not cleared: the user shortens it
    # (its length as the limit counts it, without the space it ends with, in both)
    assert "is 39,999 characters long" in turns[-1].error
    assert "(39,999 characters)" in transcript and len(transcript) < 5000
    assert "got no answer" in viewer and "sources list" not in viewer
    # a question within the limit clears the box as usual
    assert next(iter(app.ask("how many H100s?", [], None)))[2] == ""


def test_twenty_concurrent_questions_all_get_answers(corpus_index: Settings) -> None:
    backend = ChatBackend(corpus_index)
    questions = [
        H100,
        "Berapa GPU H100 yang dimiliki Meta?",
        "Llama 3.1 405B parameter",
        "扎克伯格",
    ]
    results = run_in_threads(20, lambda i: _final(list(backend.ask(questions[i % len(questions)]))))
    assert all(t.error is None and t.passages and t.text for t in results)
    # the same question gets the same answer, whatever ran beside it
    h100 = {results[i].text for i in range(0, 20, len(questions))}
    assert len(h100) == 1
    backend.close()


def test_citation_click_handler_returns_the_highlighted_document(corpus_index: Settings) -> None:
    app = App(corpus_index)
    turn = _final(list(app.backend.ask(H100)))
    n = min(turn.cited)
    html = app.cite([turn], gr.EventData(None, {"turn": 0, "n": n}))
    mark = re.search(r'<mark class="cited" id="cited-span">(.*?)</mark>', html, re.S)
    passage = turn.passage(n)
    [quote] = turn.quotes_in(n)  # the sentence, not the whole chunk
    assert mark and passage and html_lib.unescape(mark.group(1)) == quote.text
    assert quote.text in passage.text and len(quote.text) < len(passage.text)
    assert "is not among" in app.cite([turn], gr.EventData(None, {"turn": 0, "n": 99}))
    assert "no longer in this conversation" in app.cite([], gr.EventData(None, {"turn": 3}))


def test_model_picker_lists_chat_models_from_api_tags(
    corpus_index: Settings, with_ollama: FakeOllama
) -> None:
    with_ollama.add_model("qwen2.5:7b", kind="chat")
    with_ollama.add_model("nomic-embed-text", kind="embed")
    app = App(load_settings())
    choices, selected, interactive = app.model_choices(app.status())
    assert set(choices) == {"llama3.1:8b", "qwen2.5:7b"}
    assert selected == "llama3.1:8b" and interactive
    with_ollama.stop()
    choices, selected, interactive = app.model_choices(app.status())
    # nothing to pick: the configured model, said to be unavailable (not a greyed name
    # that reads as in use)
    assert choices == [("llama3.1:8b (not available)", "llama3.1:8b")]
    assert selected == "llama3.1:8b" and not interactive


def test_upload_handler_streams_progress_and_lists_the_document(
    corpus_index: Settings, tmp_path: Path
) -> None:
    app = App(corpus_index)
    cache = tmp_path / "gradio-cache"
    cache.mkdir()
    good = cache / "zorblax notes.md"
    good.write_text("# Zorblax\n\nThe Zorblax reactor makes 42 gigawatts.\n", encoding="utf-8")
    bad = cache / "tool.exe"
    bad.write_bytes(b"MZ")
    steps = list(app.upload([str(good), str(bad)]))
    assert len(steps) >= 3  # received, indexing..., done
    log, table, _picker, status, cleared = steps[-1]
    assert "rejected tool.exe: unsupported file type .exe" in log
    assert "added: zorblax notes.md (1 chunk)" in log, log  # its name, not its folder
    assert str(corpus_index.data_dir) not in log
    assert "6 documents" in table and "Zorblax" in table
    assert "6 documents" in status
    assert cleared is None
    assert (corpus_index.data_dir / "uploads" / "zorblax notes.md").exists()
    turn = _final(list(app.backend.ask("How many gigawatts does the Zorblax reactor make?")))
    top = turn.passages[0]
    assert top.source.endswith("zorblax notes.md") and "42 gigawatts" in top.text


def test_ask_handler_shows_the_question_at_once_then_keeps_the_conversation(
    corpus_index: Settings,
) -> None:
    app = App(corpus_index)
    steps = list(app.ask(H100, [], "llama3.1:8b"))
    html, turns, box, _viewer, _stored = steps[0]
    assert "searching…" in html and H100 in html and box == ""
    assert all(step[2] != "" for step in steps[1:])  # cleared once: typing ahead is kept
    html, turns, _, viewer, stored = steps[-1]
    assert len(turns) == 1 and turns[0].done and 'id="turn-0"' in html
    # the viewer follows the newest answer: its first quoted sentence, highlighted
    mark = re.search(r'<mark class="cited" id="cited-span">(.*?)</mark>', viewer, re.S)
    assert mark and html_lib.unescape(mark.group(1)) == turns[0].quotes[0].text
    # the conversation as stored in the browser comes back after a reload
    html2, restored, _ = app.restore(json.loads(json.dumps(stored)))
    assert restored == turns and html2 == html
    assert app.restore([{"bogus": 1}, 7])[1] == []
    html, turns, *_ = list(app.ask("dan A100?", turns, None))[-1]
    assert len(turns) == 2 and 'id="turn-1"' in html and turns[1].question == "dan A100?"
    assert list(app.ask("  ", turns, None))[-1][1] == turns  # nothing asked, nothing lost


def test_delete_handler_removes_the_picked_document(corpus_index: Settings) -> None:
    app = App(corpus_index)
    table, picker = app.documents()
    assert "5 documents" in table
    doc_id = picker.choices[0][1]
    row, question = app.confirm_delete(doc_id)  # first the question, nothing deleted yet
    assert row.visible and "Delete " in question and "5 documents" in app.documents()[0]
    assert "nothing was deleted" in app.cancel_delete()[1]
    message, table, picker, status = app.delete(doc_id)
    assert "deleted " in message and "the file itself was not touched" in message
    assert "4 documents" in table and "4 documents" in status
    assert doc_id not in [value for _label, value in picker.choices]
    assert "pick a document" in app.delete(None)[0]
    assert "no longer in the index" in app.delete(doc_id)[0]


def test_new_chat_asks_first_when_there_is_a_conversation_to_lose(
    corpus_index: Settings,
) -> None:
    app = App(corpus_index)
    # an empty chat: started afresh at once, no question asked
    box, message, html, turns, _viewer, question, stored = app.ask_new_chat([])
    assert not box.visible and message == ""
    assert "transcript empty" in html and turns == [] and question == "" and stored == []
    # a conversation: asked first, nothing cleared yet (every other output skipped)
    asked = [*list(app.ask(H100, [], None))[-1][1]]
    box, message, *rest = app.ask_new_chat(asked)
    assert box.visible and "Clear this conversation (1 question and its answer)?" in message
    assert rest == [gr.skip()] * 5  # the transcript, state, viewer, box, storage kept
    two = [*asked, replace(asked[0], question="dan A100?")]
    assert "(2 questions and their answers)" in app.ask_new_chat(two)[1]
    # then "Yes" clears it all and hides the question; "Cancel" only hides it
    box, message, html, turns, _viewer, question, stored = app.confirm_new_chat()
    assert not box.visible and message == "" and turns == [] and stored == []
    assert "transcript empty" in html and question == ""
    box, message = app.cancel_new_chat()
    assert not box.visible and message == ""


def _passage_of(settings: Settings, source_name: str, ordinal: int) -> Passage:
    catalog = Catalog(settings.catalog_path)
    try:
        doc = next(d for d in catalog.documents() if d.source.endswith(source_name))
        chunk = catalog.chunks_of(doc.doc_id)[ordinal]
        text = catalog.document_text(doc.doc_id)
    finally:
        catalog.close()
    return Passage(
        n=1,
        chunk_id=chunk.chunk_id,
        doc_id=doc.doc_id,
        source=doc.source,
        title=doc.title,
        lang=doc.lang,
        start=chunk.start,
        end=chunk.end,
        text=text[chunk.start : chunk.end],
        score=0.5,
    )


def test_document_view_windows_huge_documents_and_survives_shifted_offsets(
    corpus_index: Settings,
) -> None:
    backend = ChatBackend(corpus_index)
    p = _passage_of(corpus_index, "a16z-third-era-of-computing.id.txt", 40)  # 42 KB doc
    view = backend.document_view(p, window=4000)
    assert 0 < view.offset <= p.start and len(view.text) == 4000
    assert view.text[view.start : view.end] == p.text
    html = render_document(view)
    assert f"[… {view.offset:,} characters before]" in html
    assert "characters after]" in html

    shifted = replace(p, start=p.start + 7, end=p.end + 7)  # e.g. the file was edited
    moved = backend.document_view(shifted)
    assert moved.text[moved.start : moved.end] == p.text and moved.note

    gone = replace(p, text="this sentence is in no document at all")
    with pytest.raises(RagError, match="changed since this answer"):
        backend.document_view(gone)
    with pytest.raises(RagError, match="no longer in the index"):
        backend.document_view(replace(p, doc_id="0" * 16))


def test_model_failures_fall_back_and_the_chat_goes_on(
    corpus_index: Settings, with_ollama: FakeOllama
) -> None:
    with_ollama.default_reply = router(TOKENS)
    backend = ChatBackend(load_settings())
    with_ollama.fail("/api/chat", "500", times=1, message="CUDA out of memory")
    failed = _final(list(backend.ask(H100)))
    assert failed.error is None and failed.mode == "extractive" and failed.cited
    assert failed.notice and "CUDA out of memory" in failed.notice

    again = _final(list(backend.ask(H100)))  # the next question uses the model again
    assert again.mode == "llm" and again.text == "".join(TOKENS)

    with_ollama.stop()
    down = _final(list(backend.ask("and including A100s?", [again])))
    assert down.error is None and down.mode == "extractive" and down.passages
    assert down.notice and "Failed to connect to Ollama" in down.notice
