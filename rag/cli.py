"""The `rag` command line. Errors become one line on stderr and exit code 1; `--debug`
shows the traceback instead."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import RagError
from core.offline import configure_offline
from core.settings import Settings, load_settings
from rag import __version__

if TYPE_CHECKING:
    from index.catalog import DocumentRow


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=None))


def _one_line(text: str) -> str:
    """A file name may hold a newline or other control characters: show them escaped, so
    each message stays one line and nothing acts on the terminal."""
    from rag.terminal import one_line

    return one_line(text)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from index.ingest import Ingestor

    paths = args.paths or ["corpus"]
    log = (lambda m: print(_one_line(m), file=sys.stderr)) if args.verbose else None
    report = Ingestor(settings, progress=None if not args.json else False, log=log).run(paths)
    indexed = report.added or report.updated or report.unchanged or report.reembedded
    if args.json:
        _print_json(report.as_dict())
    else:
        if report.note:
            print(f"note: {report.note}", file=sys.stderr)
        for source, reason in report.skipped:
            print(f"skipped: {_one_line(source)}: {_one_line(reason)}", file=sys.stderr)
        for line in report.repaired:
            print(f"repaired: {_one_line(line)}", file=sys.stderr)
        print(_one_line(report.summary()))
        if not (indexed or report.skipped or report.removed):
            from index.loaders import SUPPORTED_SUFFIXES

            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            print(f"note: no file to index in {_one_line(' '.join(paths))} (looked for "
                  f"{kinds})", file=sys.stderr)  # fmt: skip
    if report.skipped and not indexed and not report.removed:
        print("error: nothing could be ingested", file=sys.stderr)
        return 1
    return 0


def _documents_named(name: str, docs: Sequence[DocumentRow]) -> list[DocumentRow]:
    """The indexed documents `name` names: its id, its source or path as ingested, the
    file it resolves to, every file under the folder it resolves to, or else its file
    name (which may name several)."""
    exact = [d for d in docs if name in (d.doc_id, d.source, d.path)]
    if exact:
        return exact
    resolved = Path(name).expanduser().resolve()
    exact = [d for d in docs if str(resolved) in (d.source, d.path)]
    if exact or resolved.is_dir():
        return exact or [d for d in docs if resolved in Path(d.path).resolve().parents]
    return [d for d in docs if Path(d.source.replace("\\", "/")).name == name]


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """What the UI's delete does (`index.ingest.forget_documents`): the documents are
    forgotten, the files stay, an uploaded copy is deleted."""
    from index.catalog import Catalog
    from index.ingest import forget_documents

    if not settings.catalog_path.exists():
        raise RagError("nothing is indexed yet: there is nothing to remove")
    catalog = Catalog(settings.catalog_path)
    try:
        docs = catalog.documents()
    finally:
        catalog.close()
    chosen: dict[str, DocumentRow] = {}
    failed = False
    for name in args.documents:
        hits = _documents_named(name, docs)
        if not hits:
            what = "a folder holding no indexed file" if Path(name).is_dir() else "not in the index"
            print(f"skipped: {_one_line(name)}: {what}", file=sys.stderr)
            failed = True
        elif len(hits) > 1 and not Path(name).is_dir():  # a file name several files have
            where = ", ".join(_one_line(d.source) for d in hits)
            print(f"skipped: {_one_line(name)}: names {len(hits)} documents ({where}): "
                  "give the path", file=sys.stderr)  # fmt: skip
            failed = True
        else:
            chosen.update((d.doc_id, d) for d in hits)
    for doc, copy_deleted in forget_documents(settings, list(chosen.values())):
        print(f"removed: {_one_line(doc.source)}" + (" (and its uploaded copy)" * copy_deleted))
        chosen.pop(doc.doc_id)
    for doc in chosen.values():  # gone meanwhile (another process removed it)
        print(f"skipped: {_one_line(doc.source)}: not in the index", file=sys.stderr)
        failed = True
    return 1 if failed else 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from rag.status import collect_status, format_status

    st = collect_status(settings)
    if args.json:
        _print_json(st)
    else:
        from rag.terminal import safe_text

        print(safe_text(format_status(st)))
    return 0


def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    from index.sentence_store import SENTENCE_DB
    from index.vectors import VectorStore

    if not args.yes:
        if not sys.stdin.isatty():
            raise RagError("refusing to delete the index without --yes (stdin is not a terminal)")
        answer = input(f"Delete the index in {settings.data_dir}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing deleted")
            return 0
    from index.writer_lock import ingest_lock

    dropped: list[str] = []
    with ingest_lock(settings.data_dir):  # never under a running ingest (the one writer)
        if settings.chroma_url:
            dropped = VectorStore(settings).drop_all()
        for db in ("catalog.sqlite3", SENTENCE_DB):
            for name in (db, f"{db}-wal", f"{db}-shm"):
                (settings.data_dir / name).unlink(missing_ok=True)
        for folder in ("chroma", "bm25", "bm25.tmp", "bm25.old", "dense"):
            shutil.rmtree(settings.data_dir / folder, ignore_errors=True)
    where = f" and {len(dropped)} server collection(s)" if dropped else ""
    print(f"index in {settings.data_dir}{where} deleted")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.cli_ask import run_ask

    return run_ask(args, settings)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from rag.cli_ask import run_chat

    return run_chat(args, settings)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from rag.evaluate import (
        GoldError,
        evaluate,
        format_report,
        indexed_documents,
        load_gold,
        summarise,
        unlocated,
    )

    gold = load_gold(args.gold)
    if args.split != "all":
        gold = [g for g in gold if g.split == args.split]
        if not gold:
            raise GoldError(f"gold set {args.gold} has no questions in the {args.split} half")
    for where in unlocated(gold, indexed_documents(settings)):
        print(f"warning: evidence not found in the index: {where}", file=sys.stderr)
    results = evaluate(settings, gold, no_llm=args.no_llm, top_k=args.top_k)
    metrics = summarise(results, gold=str(args.gold), no_llm=args.no_llm)
    if args.json:
        _print_json(metrics)
    else:
        print(format_report(metrics))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.safety import check_bind, parse_auth, url_for

    auth = parse_auth(args.auth if args.auth is not None else settings.ui_auth)
    check_bind(args.host, auth)  # before the slow UI import: refuse at once

    from ui.app import launch

    demo = launch(settings, host=args.host, port=args.port, auth=auth)
    port = getattr(demo, "server_port", None) or args.port
    print(f"serving the chat on {url_for(args.host, port)}  (Ctrl-C to stop)", flush=True)
    demo.block_thread()
    return 0


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range (0-65535): {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Offline question answering over your documents, with checked citations.",
        epilog="Configuration comes from RAG_* environment variables and OLLAMA_HOST "
        "(see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "ingest",
        help="index files and folders (incremental)",
        description="Index .txt, .md, .html, .pdf and .docx files. Unchanged files are "
        "skipped without embedding; changed ones are replaced; files gone from an ingested "
        "folder are removed from the index.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="list each document as it is done")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "remove",
        help="remove documents from the index (the files stay)",
        description="Forget documents: their passages, vectors and search entries. Name each "
        "by its path as ingested, by a folder (every indexed file under it), or by its file "
        "name when no other indexed file has it. "
        "Your files are not touched, except a file uploaded through the UI, whose copy in "
        "the data folder is deleted (as the UI's delete does). A later ingest of a folder "
        "holding the file adds it again.",
    )
    p.add_argument(
        "documents", nargs="+", metavar="PATH", help="files, or folders (every file under them)"
    )
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser(
        "status",
        help="show the index, the embedder, the store and Ollama",
        description="Show what is indexed, which embedder and store are in use, and whether "
        "Ollama is reachable and which models it has.",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "reset",
        help="delete the index",
        description="Delete the catalog, the lexical index and the vectors (on a Chroma "
        "server: this tool's collections). Your documents are not touched.",
    )
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_reset)

    from rag.cli_ask import add_ask_arguments, add_chat_arguments

    p = sub.add_parser(
        "ask",
        help="answer a question with cited sources",
        description="Answer a question from the indexed documents. With Ollama, a model "
        "writes a short answer citing passages as [n], checked by this tool; without it "
        "(or with --no-llm), the most relevant source sentences are quoted with their [n]. "
        "Text output streams the answer, then lists the sources.",
    )
    add_ask_arguments(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "chat",
        help="ask questions in a conversation (follow-ups understood)",
        description="An interactive chat: answers stream as they are written, then their "
        "sources are listed. With a model, a follow-up is rewritten with the conversation "
        "into a standalone question before retrieval; model-free, the previous question is "
        'searched with a question that leans on it ("and how many A100s?"). Commands: '
        "/show N prints passage [N] of the last answer with the quoted sentence marked, "
        "/sources lists its sources again, /new starts over, /help lists the commands, "
        "/quit or Ctrl-D leaves; Ctrl-C drops the line or stops an answer.",
    )
    add_chat_arguments(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser(
        "eval",
        help="score retrieval and answers against a gold set",
        description="Ask every question of a gold set (JSONL: id, question, accept regexes, "
        "evidence quotes) and report recall@1/3/5/10, MRR, answer accuracy, citation "
        "precision and recall, abstention accuracy, latency and the failed questions.",
    )
    p.add_argument(
        "--gold",
        type=Path,
        default=Path("bench/gold.jsonl"),
        metavar="FILE",
        help="gold set (default: bench/gold.jsonl)",
    )
    p.add_argument("--no-llm", action="store_true", help="model-free answers (no Ollama)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON line")
    p.add_argument("--top-k", type=int, default=None, metavar="N", help="passages given as context")
    p.add_argument(
        "--split",
        choices=("all", "dev", "test"),
        default="all",
        help="score one half of a split gold set: dev (tune on it) or test (report it); "
        "default all, with each half reported too",
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "serve",
        help="serve the chat in the browser (Gradio)",
        description="Serve the chat UI: streamed answers with clickable citations, the "
        "passage shown inside its document, status, and document upload/delete. Listens on "
        "127.0.0.1 only unless --host says otherwise; a non-loopback host requires "
        "--auth (or RAG_UI_AUTH).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=7860, help="port (default: 7860)")
    p.add_argument(
        "--auth",
        default=None,
        metavar="USER:PASS",
        help="require this login (default: RAG_UI_AUTH; required for a non-loopback host)",
    )
    p.set_defaults(func=cmd_serve)
    return parser


def _fail(args: argparse.Namespace, message: str) -> int:
    """The one-line error on stderr; with --json, also as JSON on stdout (a script reading
    the JSON gets JSON, as `ask --questions` gives per line). Status 1."""
    if getattr(args, "json", False):
        print(json.dumps({"error": message}, ensure_ascii=False))
    print(f"error: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    configure_offline()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if settings.data_dir.exists() and not settings.data_dir.is_dir():
            raise RagError(f"RAG_DATA_DIR {settings.data_dir} is a file, not a directory")
        code: int = args.func(args, settings)
        return code
    except RagError as exc:
        if args.debug:
            raise
        return _fail(args, _one_line(str(exc)))
    except BrokenPipeError:  # `rag status --json | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except (OSError, UnicodeDecodeError) as exc:
        # What the deep code leaves unwrapped: an unusable RAG_DATA_DIR, an unreadable or
        # non-UTF-8 --questions/--gold file. Still one line, naming the path when known.
        if args.debug:
            raise
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return _fail(args, _one_line(f"{where}{detail}".replace("\n", " ")))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
