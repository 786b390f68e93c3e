"""`rag ask` and `rag chat`: the answering commands of the CLI (rag/cli.py wires them in).

Text output streams the answer as it is generated, then lists the numbered sources
(cited ones marked) and any unsupported sentences; notices go to stderr. `--json` prints
the documented JSON answer (rag.schema.Answer.as_json); `--questions FILE` answers a JSONL
file of {"id", "question"} lines with one index opened once, one JSON line out per line in.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from rag.errors import QuestionError, RagError
from rag.schema import Answer, DoneEvent, Passage, SourcesEvent, TokenEvent, Turn
from rag.settings import Settings


def _add_answer_options(p: argparse.ArgumentParser) -> None:
    """The options `ask` and `chat` share."""
    p.add_argument(
        "--no-llm",
        action="store_true",
        help="answer without a language model: the most relevant source sentences, cited",
    )
    p.add_argument(
        "--top-k",
        type=_positive,
        default=None,
        metavar="N",
        help="passages retrieved as context (default: RAG_TOP_K)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="M",
        help="model to answer with (default: RAG_LLM_MODEL)",
    )


def add_ask_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", nargs="?", help="the question (omit with --questions)")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    _add_answer_options(p)
    p.add_argument(
        "--questions",
        type=Path,
        default=None,
        metavar="FILE",
        help='answer every JSONL line {"id", "question"} of FILE ("-" = stdin), printing one '
        "JSON answer per line with the same id",
    )


def add_chat_arguments(p: argparse.ArgumentParser) -> None:
    _add_answer_options(p)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"top_k": args.top_k, "model": args.model, "no_llm": args.no_llm}


# text rendering -------------------------------------------------------------------------
def _snippet(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_sources(passages: Sequence[Passage], cited: set[int]) -> list[str]:
    lines = []
    for p in passages:
        mark = "*" if p.n in cited else " "
        where = f"{p.source}:{p.start}-{p.end}" + (f" p.{p.page}" if p.page else "")
        lines.append(f"{mark}[{p.n}] {where} ({p.lang}) {_snippet(p.text)}")
    return lines


def render(events: Iterator[Any], out: TextIO, err: TextIO) -> Answer:
    """Stream tokens to `out`, then the sources; returns the finished answer."""
    answer: Answer | None = None
    streamed = False
    shown: str | None = None
    for event in events:
        if isinstance(event, SourcesEvent):
            if event.notice:
                print(f"note: {event.notice}", file=err)
                shown = event.notice
        elif isinstance(event, TokenEvent):
            out.write(event.text)
            out.flush()
            streamed = True
        elif isinstance(event, DoneEvent):
            answer = event.answer
    assert answer is not None
    if streamed:
        out.write("\n")
    if answer.notice and answer.notice != shown:  # the same note is not printed twice
        extra = answer.notice
        if shown and extra.startswith(shown):
            extra = extra[len(shown) :].lstrip("; ")
        print(f"note: {extra}", file=err)
    if answer.invalid_markers:
        print(f"removed citations to no passage: {', '.join(answer.invalid_markers)}", file=err)
    if answer.passages:
        print("\nSources (* = cited):", file=out)
        for line in format_sources(answer.passages, answer.cited):
            print(line, file=out)
    if answer.unsupported:
        print("\nNot supported by the cited passages:", file=out)
        for sentence in answer.unsupported:
            print(f"  - {sentence}", file=out)
    out.flush()
    return answer


# commands ----------------------------------------------------------------------------
def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.answer import Answerer

    if args.questions is not None:
        if args.question:
            raise QuestionError("give either a QUESTION or --questions FILE, not both")
        return _run_batch(args, settings)
    if args.question is None:
        raise QuestionError('no question: rag ask "QUESTION" (or --questions FILE)')
    with Answerer(settings) as answerer:
        if args.json:
            answer = answerer.ask(args.question, **_options(args))
            print(json.dumps(answer.as_json(), ensure_ascii=False))
        else:
            render(answerer.stream(args.question, **_options(args)), sys.stdout, sys.stderr)
    return 0


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    if str(path) == "-":
        yield from enumerate(sys.stdin, start=1)
        return
    try:
        with path.open(encoding="utf-8-sig") as fh:
            yield from enumerate(fh, start=1)
    except OSError as exc:
        raise QuestionError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise QuestionError(f"{path} is not UTF-8 text ({exc.reason})") from None


def _run_batch(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON line out per question line in, the index opened once; a bad line is
    reported (stderr, and an "error" line carrying its id) and the rest goes on."""
    from rag.answer import Answerer

    failures = 0
    with Answerer(settings) as answerer:
        for lineno, raw in _read_lines(args.questions):
            if not raw.strip():
                continue
            where = f"{args.questions}:{lineno}"
            qid: Any = None
            try:
                try:
                    item = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise QuestionError(f"not JSON ({exc.msg})") from None
                if not isinstance(item, dict):
                    raise QuestionError('expected an object {"id", "question"}')
                qid = item.get("id")
                question = item.get("question")
                if not isinstance(question, str):
                    raise QuestionError('no "question" string')
                answer = answerer.ask(
                    question, id=None if qid is None else str(qid), **_options(args)
                )
                out = answer.as_json()
                if qid is not None:
                    out["id"] = qid  # the caller's id, type preserved
                print(json.dumps(out, ensure_ascii=False), flush=True)
            except RagError as exc:
                failures += 1
                print(f"error: {where}: {exc}", file=sys.stderr)
                print(json.dumps({"id": qid, "error": str(exc)}, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A REPL: each question streams its answer, then its sources; follow-ups are
    condensed with the conversation so far. /new starts over, /quit (or Ctrl-D) leaves."""
    from rag.answer import Answerer

    history: list[Turn] = []
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask a question (/new to start over, /quit to leave).")
    with Answerer(settings) as answerer:
        while True:
            try:
                line = input("> " if interactive else "")
            except EOFError:
                break
            question = line.strip()
            if not question:
                continue
            if question in ("/quit", "/exit"):
                break
            if question in ("/new", "/clear"):
                history.clear()
                print("(new conversation)")
                continue
            try:
                answer = render(
                    answerer.stream(question, history=history, **_options(args)),
                    sys.stdout,
                    sys.stderr,
                )
            except RagError as exc:
                print(f"error: {exc}", file=sys.stderr)
                continue
            history.append(Turn(question=question, answer=answer.answer))
            print()
    return 0
