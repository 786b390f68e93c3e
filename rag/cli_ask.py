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
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from core.errors import QuestionError, RagError
from core.settings import Settings
from rag.schema import Answer, DoneEvent, Passage, Quote, SourcesEvent, TokenEvent, Turn
from rag.terminal import one_line, safe_stream, safe_text


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


def format_sources(
    passages: Sequence[Passage], cited: set[int], quotes: Sequence[Quote] = ()
) -> list[str]:
    """One line per passage; a cited one shows the sentence quoted from it, the others
    their opening words."""
    from rag.extractive import quoted  # (not at import: every `rag` command loads this)

    first: dict[int, Quote] = {}
    for q in quotes:
        first.setdefault(q.n, q)
    lines = []
    for p in passages:
        mark = "*" if p.n in cited else " "
        quote = first.get(p.n)
        page = quote.page if quote and quote.page else p.page
        if quote:
            where = f"{p.source}:{quote.start}-{quote.end}"
            text = quoted(_snippet(quote.text, 120))
        else:
            where = f"{p.source}:{p.start}-{p.end}"
            text = _snippet(p.text)
        where += f" p.{page}" if page else ""
        lines.append(f"{mark}[{p.n}] {where} ({p.lang}) {text}")
    return lines


def model_free_note(answer: Answer, model: str) -> str:
    """The one note a model-free answer carries: why no model, and how to get one."""
    from rag.extractive import model_free_note as note

    return "note: " + note(answer.notice or "retrieval-only mode was asked for", model)


def render(
    events: Iterator[Any],
    out: TextIO,
    err: TextIO,
    *,
    model: str = "",
    noted: set[str] | None = None,
    question: str = "",
) -> Answer:
    """Stream tokens to `out`, then the sources; returns the finished answer. Each note
    goes to `err` once: `noted` remembers those already printed (a chat passes the same
    set for every question, so the model-free note is said once per conversation).
    Control characters of passages, titles and questions are shown as escapes. A
    follow-up searched for as another question than `question` says so first."""
    out, err = safe_stream(out), safe_stream(err)
    noted = set() if noted is None else noted

    def say(line: str) -> None:
        out.flush()  # (what is written so far comes first where both share a file)
        print(line, file=err)
        err.flush()

    def note(line: str) -> None:
        if line not in noted:
            noted.add(line)
            say(line)

    answer: Answer | None = None
    streamed = False
    shown: str | None = None
    for event in events:
        if isinstance(event, SourcesEvent):
            if event.notice:
                note(f"note: {event.notice}")
                shown = event.notice
            searched = event.standalone_question
            if searched and searched.strip() != question.strip():
                # a follow-up as it was searched for, as the UI shows it
                print(f"searched for: {one_line(searched)}", file=out)
        elif isinstance(event, TokenEvent):
            out.write(event.text)
            out.flush()
            streamed = True
        elif isinstance(event, DoneEvent):
            answer = event.answer
    assert answer is not None
    if streamed:
        out.write("\n")
    if answer.mode == "extractive":
        if shown and answer.notice and answer.notice in shown:
            # why no model was used is in the note above (Ollama down): not said twice
            answer_seen = replace(answer, notice="see the note above")
            note(model_free_note(answer_seen, model))
        else:
            note(model_free_note(answer, model))
    elif answer.notice and answer.notice != shown:  # the same note is not printed twice
        extra = answer.notice
        if shown and extra.startswith(shown):
            extra = extra[len(shown) :].lstrip("; ")
        note(f"note: {extra}")
    if answer.invalid_markers:
        say(f"removed citations to no passage: {', '.join(answer.invalid_markers)}")
    if answer.passages:
        if answer.mode == "abstain":  # in the question's language, as the abstention is
            from index.language import detect_language, language_key
            from rag.abstain import abstain_head

            lang = detect_language(answer.question)
            title = abstain_head(lang)[1] + ("：" if language_key(lang) == "zh" else ":")
        else:
            title = "Sources (* = cited):"
        print(f"\n{title}", file=out)
        for line in format_sources(answer.passages, answer.cited, answer.quotes):
            print(line, file=out)
    if answer.unsupported:
        print("\nNot supported by the cited passages:", file=out)
        for sentence in answer.unsupported:
            print(f"  - {sentence}", file=out)
    out.flush()
    return answer


MARK_OPEN, MARK_CLOSE = ">>>", "<<<"


def show_passage(answer: Answer, n: int) -> str:
    """Passage [n] of an answer, with each sentence the answer quotes from it marked
    >>> like this <<<."""
    passage = next((p for p in answer.passages if p.n == n), None)
    if passage is None:
        numbers = ", ".join(str(p.n) for p in answer.passages) or "none"
        return f"no passage [{n}] in the last answer (its passages: {numbers})"
    spans = sorted(
        (q.start - passage.start, q.end - passage.start)
        for q in answer.quotes
        if q.n == n and passage.start <= q.start and q.end <= passage.end
    )
    text, pos, parts = passage.text, 0, []
    for a, b in spans:
        if a < pos:
            continue
        parts += [text[pos:a], MARK_OPEN, text[a:b], MARK_CLOSE]
        pos = b
    parts.append(text[pos:])
    page = f" p.{passage.page}" if passage.page else ""
    head = f"[{n}] {passage.title} ({passage.lang}) {passage.source}:{passage.start}-{passage.end}"
    return f"{head}{page}\n\n{''.join(parts).strip()}"


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
        if args.json:  # (an error: `rag.cli.main` prints it as JSON too)
            answer = answerer.ask(args.question, **_options(args))
            print(json.dumps(answer.as_json(), ensure_ascii=False))
            return 0
        render(
            answerer.stream(args.question, **_options(args)),
            sys.stdout,
            sys.stderr,
            model=args.model or settings.llm_model,
        )
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


CHAT_HELP = """Commands:
  /show N    passage [N] of the last answer, the quoted sentence marked >>> <<<
  /sources   the sources of the last answer again
  /new       start a new conversation (forget the history)
  /help      this list
  /quit      leave (or Ctrl-D)
Anything else is a question; follow-up questions use the conversation so far."""


def chat_command(line: str, last: Answer | None, history: list[Turn], out: TextIO) -> bool | None:
    """Run a /command. True: handled; False: leave the chat; None: not a command."""
    if not line.startswith("/"):
        return None
    name, _, arg = line.partition(" ")
    name, arg = name.lower(), arg.strip()
    if name in ("/quit", "/exit"):
        return False
    if name in ("/new", "/clear"):
        history.clear()
        print("(new conversation)", file=out)
    elif name == "/help":
        print(CHAT_HELP, file=out)
    elif name in ("/sources", "/show") and last is None:
        print("no answer yet: ask a question first", file=out)
    elif name == "/sources":
        assert last is not None
        for source_line in format_sources(last.passages, last.cited, last.quotes):
            print(safe_text(source_line), file=out)
    elif name == "/show":
        assert last is not None
        if not arg.strip("[]").isdigit():
            print("usage: /show N (a passage number of the last answer, e.g. /show 1)", file=out)
        else:
            print(safe_text(show_passage(last, int(arg.strip("[]")))), file=out)
    else:
        print(f"unknown command {name}: type /help for the list", file=out)
    return True


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A REPL: each question streams its answer, then its sources; follow-ups are
    condensed with the conversation so far. /show N, /sources, /new, /help, /quit."""
    from rag.answer import Answerer

    history: list[Turn] = []
    noted: set[str] = set()
    last: Answer | None = None
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask a question (/help for commands, /quit to leave).")
    with Answerer(settings) as answerer:
        while True:
            try:
                line = input("> " if interactive else "")
            except EOFError:
                if interactive:
                    print()  # the shell's prompt on a line of its own
                break
            except KeyboardInterrupt:
                if not interactive:
                    raise
                print()  # Ctrl-C drops the line being typed, as a shell does
                continue
            question = line.strip()
            if not question:
                continue
            handled = chat_command(question, last, history, sys.stdout)
            if handled is False:
                break
            if handled:
                if question.lower().startswith(("/new", "/clear")):
                    last = None
                continue
            try:
                last = render(
                    answerer.stream(question, history=history, **_options(args)),
                    sys.stdout,
                    sys.stderr,
                    model=args.model or settings.llm_model,
                    noted=noted,
                    question=question,
                )
            except RagError as exc:
                sys.stdout.flush()  # (after what the answer wrote, where both share a file)
                print(f"error: {one_line(str(exc))}", file=sys.stderr)
                continue
            except KeyboardInterrupt:
                if not interactive:
                    raise
                sys.stdout.flush()
                print("\n(stopped; the answer is not kept)", file=sys.stderr)
                continue
            history.append(Turn(question=question, answer=last.answer))
            print()
    return 0
