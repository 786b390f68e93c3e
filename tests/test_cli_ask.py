"""`rag ask` and `rag chat` end to end (in process, and one cold subprocess)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from rag.cli import build_parser, main
from rag.retrieve import Retriever
from tests.fake_ollama import FakeOllama

ROOT = Path(__file__).resolve().parents[1]
H100_QUESTION = "how many H100s does Meta plan to have"
ID_SENTENCE = "Metal akan memiliki lebih dari 340.000 GPU Nvidia H100"
ZH_SENTENCE = "Meta将拥有超过340,000个Nvidia的H100 GPU"


def _routed(answer: str, condensed: str = "") -> Any:
    def respond(body: dict[str, Any]) -> str:
        text = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        if "<passages>" in text:
            return answer
        if "<follow_up>" in text:
            return condensed
        return "id: berapa banyak H100 yang akan dimiliki Meta\nzh: Meta计划拥有多少块H100"

    return respond


def test_ask_no_llm_quotes_both_articles(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--no-llm", H100_QUESTION]) == 0
    out, err = capsys.readouterr()
    assert err.count("No language model was used") == 1 and "No language model" not in out
    assert re.match(r"\*\*more than 340[.,]000\*\* — “", out), out
    assert ID_SENTENCE in out and ZH_SENTENCE in out
    assert "Sources (* = cited):" in out
    assert "zuckerberg-agi-interview.id.txt" in out and "zuckerberg-agi-interview.zh.txt" in out


def test_ask_with_ollama_down_says_why_once(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # OLLAMA_HOST points where nothing listens: the reason is said in one note, and the
    # model-free note refers to it instead of repeating it
    assert main(["ask", H100_QUESTION]) == 0
    out, err = capsys.readouterr()
    assert re.match(r"\*\*more than 340[.,]000\*\* — “", out), out
    assert err.count("Failed to connect to Ollama") == 1, err
    assert err.count("No language model was used (see the note above)") == 1, err


def test_ask_json_follows_the_documented_format(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--json", "--no-llm", "--top-k", "4", H100_QUESTION]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"question", "answer", "mode", "model", "citations", "unsupported", "timings_ms"} <= (
        set(data)
    )
    assert data["mode"] == "extractive" and data["model"] is None
    assert "id" not in data
    cites = data["citations"]
    assert [c["n"] for c in cites] == [1, 2, 3, 4]
    for c in cites:
        assert {"n", "chunk_id", "source", "title", "lang", "start", "end", "text", "score"} <= set(
            c
        )
        assert Path(c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["text"]
        assert isinstance(c["cited"], bool)
        assert c["cited"] == (f"[{c['n']}]" in data["answer"])
    assert set(data["timings_ms"]) == {"retrieve", "generate", "total"}


def test_ask_with_the_fake_model(
    corpus_index: Settings, with_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    with_ollama.default_reply = _routed("Meta will have more than 340,000 H100 GPUs [1] [9].")
    assert main(["ask", "--json", "--model", "llama3.1:8b", H100_QUESTION]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "llm" and data["model"] == "llama3.1:8b"
    assert data["citations"][0]["cited"] is True
    assert data["invalid_markers"] == ["[9]"]
    assert "[9]" not in data["answer"]


def test_ask_text_streams_then_lists_sources(
    corpus_index: Settings, with_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    with_ollama.default_reply = _routed("Meta will have 990,000 H100 GPUs [1].")
    assert main(["ask", H100_QUESTION]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Meta will have 990,000 H100 GPUs [1].\n")
    assert "*[1] " in out
    assert "Not supported by the cited passages:" in out  # 990,000 is in no passage


def test_a_note_follows_the_answer_where_both_streams_share_a_file(
    corpus_index: Settings,
) -> None:
    """`rag ask ... > out.txt 2>&1`: the answer is buffered, the note is not; the note
    must still come after the answer's last line, on a line of its own."""
    from rag.answer import Answerer
    from rag.cli_ask import render

    shared = io.BytesIO()
    out = io.TextIOWrapper(io.BufferedWriter(shared, 1 << 16), encoding="utf-8")  # type: ignore[arg-type]

    class Unbuffered(io.TextIOBase):
        def write(self, text: str) -> int:
            out.buffer.raw.write(text.encode())  # type: ignore[attr-defined]
            return len(text)

    with Answerer(corpus_index) as answerer:
        render(answerer.stream(H100_QUESTION, no_llm=True), out, Unbuffered())  # type: ignore[arg-type]
    out.flush()
    text = shared.getvalue().decode()
    at = text.index("note: ")
    assert text[at - 1] == "\n" and "340" in text[:at], text[: at + 40]


def test_batch_keeps_ids_and_reports_bad_lines(
    corpus_index: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "en-1", "question": H100_QUESTION})
        + "\n{broken\n\n"
        + json.dumps({"id": 7, "question": "Siapa kepala AI di Google?"})
        + "\n"
        + json.dumps({"id": "empty", "question": " "})
        + "\n"
        + json.dumps({"id": "zh-1", "question": "Meta计划拥有多少块H100?"})
        + "\n",
        encoding="utf-8",
    )
    code = main(["ask", "--json", "--no-llm", "--questions", str(questions)])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["id"] for line in lines] == ["en-1", None, 7, "empty", "zh-1"]
    assert code == 1  # some lines were bad; the rest were answered
    assert lines[0]["mode"] == "extractive" and lines[0]["citations"]
    assert "error" in lines[1] and "error" in lines[3]
    assert lines[2]["question"] == "Siapa kepala AI di Google?"
    assert f"{questions}:2: not JSON" in captured.err
    assert f"{questions}:5: the question is empty" in captured.err


def test_batch_from_stdin(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"id": "a", "question": "H100"})))
    assert main(["ask", "--json", "--no-llm", "--questions", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "a"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask"], "no question"),
        (["ask", "--questions", "/nonexistent/q.jsonl"], "cannot read /nonexistent/q.jsonl"),
        # a pasted document is no question (360,000 characters took four minutes)
        (["ask", "--no-llm", "lorem ipsum " * 500], "the question is 5,999 characters long"),
    ],
)
def test_ask_errors_are_one_line(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1


def test_ask_json_errors_are_json_too(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--json", "--no-llm", "   "]) == 1
    out, err = capsys.readouterr()
    assert "empty" in json.loads(out)["error"]  # a script reading stdout gets JSON
    assert err.startswith("error: ") and err.count("\n") == 1
    assert main(["ask", "--json", "Q?", "--questions", "-"]) == 1
    out, err = capsys.readouterr()
    assert "not both" in json.loads(out)["error"] and "not both" in err


def test_ask_without_an_index_says_what_to_do(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--no-llm", H100_QUESTION]) == 1
    assert "run `rag ingest PATH` first" in capsys.readouterr().err


def test_chat_condenses_follow_ups(
    corpus_index: Settings,
    with_ollama: FakeOllama,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    standalone = "Including A100s, how many GPUs will Meta have by the end of 2024?"
    with_ollama.default_reply = _routed("Nearly 600,000 GPUs [1].", condensed=standalone)
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(f"{H100_QUESTION}\n\nand including A100s?\n/quit\nignored\n")
    )
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Nearly 600,000 GPUs [1].\n")
    assert out.count("Sources (* = cited):") == 2
    condense = [
        r.json
        for r in with_ollama.calls("/api/chat")
        if r.json and "<follow_up>" in json.dumps(r.json, ensure_ascii=False)
    ]
    assert len(condense) == 1
    prompt = json.dumps(condense[0], ensure_ascii=False)
    assert H100_QUESTION in prompt and "and including A100s?" in prompt
    assert "ignored" not in json.dumps([r.json for r in with_ollama.requests])


def test_chat_no_llm_uses_history_for_retrieval(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{H100_QUESTION}\nand A100s?\n"))
    assert main(["chat", "--no-llm"]) == 0
    out, err = capsys.readouterr()
    assert err.count("No language model was used") == 1  # once per conversation
    second = out.split("Sources (* = cited):")[1]
    assert "600.000" in second or "600,000" in second


def test_chat_says_what_a_follow_up_was_searched_for(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # as the UI does: "What about Meta?" is searched for as the question before, of Meta
    questions = "Who is the CEO of NVIDIA?\nWhat about Meta?\nWho is the CEO of Meta?\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(questions))
    assert main(["chat", "--no-llm"]) == 0
    out, _ = capsys.readouterr()
    first, second, third = out.split("Sources (* = cited):")[:3]
    assert "searched for:" not in first
    assert "searched for: Who is the CEO of Meta?\n" in second
    assert "searched for:" not in third  # asked in full, it is searched for as asked


def test_chat_no_llm_a_follow_up_counts_what_the_question_before_was_about(
    bundled_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = "How many parameters does the biggest Llama have?"
    then = "and on how many GPUs was it trained?"
    # "it" is the biggest Llama: 16.000 GPUs, not the 340.000 H100s Meta will own
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{first}\n{then}\n"))
    assert main(["chat", "--no-llm"]) == 0
    out, _ = capsys.readouterr()
    second = out.split("Sources (* = cited):")[1]
    assert re.search(r"\*\*more than 16[.,]000\*\*", second), second


def test_help_describes_the_options() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    ask_help = sub.choices["ask"].format_help()  # type: ignore[attr-defined]
    for option in ("--json", "--no-llm", "--top-k", "--model", "--questions"):
        assert option in ask_help
    chat_help = sub.choices["chat"].format_help()  # type: ignore[attr-defined]
    for option in ("--no-llm", "--top-k", "--model", "/quit"):
        assert option in chat_help


def test_cold_no_llm_ask_does_not_import_llama_index(corpus_index: Settings) -> None:
    """The model-free path stays light: no llama_index.core, no ollama client, no chromadb
    (dense search reads the cached vectors); with Ollama down, no llama_index.core either."""
    code = (
        "import sys\n"
        "from rag.cli import main\n"
        f"rc = main(['ask', '--no-llm', '--json', {H100_QUESTION!r}])\n"
        "mods = ('llama_index.core', 'ollama', 'chromadb')\n"
        "heavy = sorted(m for m in mods if m in sys.modules)\n"
        "print('HEAVY', heavy, rc)\n"
        f"rc = main(['ask', '--json', {H100_QUESTION!r}])\n"  # OLLAMA_HOST: nothing there
        "print('DOWN', 'llama_index.core' in sys.modules, rc)\n"
    )
    Retriever(corpus_index).search([H100_QUESTION])  # the first query caches the vectors
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-3] == "HEAVY [] 0"
    assert lines[-1] == "DOWN False 0"


def test_chat_commands_show_sources_new_help_and_refuse_unknown(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["/show 1", H100_QUESTION, "/show 1", "/show 99", "/sources", "/frobnicate now"]
    lines += ["/help", "/new", "/sources"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["chat", "--no-llm"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("no answer yet: ask a question first")
    # /show 1: the passage, its quoted sentence marked
    shown = out.split("<<<")[0].split(">>>")
    assert len(shown) == 2 and re.search(r"340[.,]000", shown[1]), out
    assert "no passage [99] in the last answer" in out
    assert out.count("Sources (* = cited):") == 1  # /sources reprints the lines alone
    assert out.count("*[1] ") == 2
    assert "unknown command /frobnicate: type /help for the list" in out
    assert "/show N" in out and "(new conversation)" in out
    assert out.rstrip().endswith("no answer yet: ask a question first")  # /new forgot it
    assert err.count("No language model was used") == 1  # the refused command was not asked


@pytest.mark.parametrize(
    ("question", "said", "title"),
    [
        ("Apa ibu kota negara Peru?", "tidak menjawab", "Terkait, tetapi bukan jawaban"),
        ("秘鲁的首都是哪座城市？", "没有回答", "相关，但不是答案"),
        ("qwertzuiop asdfghjkl zxcvbnm?", "do not seem to answer", "Related, but not"),
    ],
)
def test_an_abstention_and_its_related_passages_are_titled_in_the_questions_language(
    bundled_index: Settings,
    capsys: pytest.CaptureFixture[str],
    question: str,
    said: str,
    title: str,
) -> None:
    assert main(["ask", "--no-llm", question]) == 0
    out, _ = capsys.readouterr()
    assert said in out, out
    # the passages' title speaks as the abstention does: no English heading under an
    # Indonesian or Chinese message
    assert f"\n{title}" in out and "Sources (* = cited)" not in out
    colon = "：" if "相关" in title else ":"  # a Chinese heading ends as Chinese does
    assert re.search(rf"\n{re.escape(title)}[^\n]*{colon}\n", out), out


def test_chat_at_a_terminal_ctrl_c_drops_the_line_and_ctrl_d_ends_the_line(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a shell does: Ctrl-C at the prompt drops what was typed and asks again (it
    ended the chat, status 130), Ctrl-D leaves with the shell's prompt on a new line."""
    keys = iter([KeyboardInterrupt, "/help", EOFError])

    def typed(prompt: str = "") -> str:
        print(prompt, end="")
        key = next(keys)
        if isinstance(key, str):
            return key
        raise key

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", typed)
    assert main(["chat", "--no-llm"]) == 0
    out, _ = capsys.readouterr()
    assert "/show N" in out  # the chat went on after Ctrl-C
    assert out.endswith("> \n")  # Ctrl-D: a newline after the prompt
