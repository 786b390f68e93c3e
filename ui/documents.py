"""The Documents tab's backend: store uploads safely under the data directory, ingest
them, list what is indexed, delete a document.

Upload names come from the browser and are not trusted: only the last path component
is kept, reduced to a safe character set, and the final path is checked to lie inside
`<data_dir>/uploads` before anything is written (through a temporary file and an atomic
rename, so a symlink planted at the target is replaced, never followed).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import RagError
from core.settings import Settings
from index.catalog import Catalog, DocumentRow
from index.ingest import Ingestor, forget_documents
from index.loaders import SUPPORTED_SUFFIXES
from index.report import IngestReport
from ui.chat import file_name

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@]", re.UNICODE)


def uploads_dir(settings: Settings) -> Path:
    return settings.uploads_dir


def allowed_types() -> str:
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def human_size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def sanitize_filename(name: str) -> str:
    """A safe file name from an untrusted one: no folders, no hidden or special names,
    no control characters, at most MAX_NAME_CHARS characters, the suffix kept."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem.strip(" .") or "upload"
    suffix = suffix.lower()
    room = MAX_NAME_CHARS - len(suffix) - 1
    stem = stem[: max(room, 1)].rstrip(" .") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


@dataclass
class SavedUploads:
    saved: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (name, stored as)


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(1 << 20), fb.read(1 << 20)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def _place(tmp: Path, target: Path, taken: Sequence[Path]) -> Path:
    """Move a finished upload to `target`, or beside it (`laporan (2).txt`) when another
    file already has that name: an upload never replaces a different file. The same bytes
    under the same name are the same document: kept once. Linking refuses an existing
    name atomically, so two uploads at once cannot take the same one."""
    stem, suffix = target.stem, target.suffix
    n = 1
    while True:
        candidate = target if n == 1 else target.with_name(f"{stem} ({n}){suffix}")
        if candidate.is_symlink():  # planted: replaced, never followed
            os.replace(tmp, candidate)
            return candidate
        if candidate not in taken:
            if candidate.exists() and _same_bytes(candidate, tmp):
                tmp.unlink(missing_ok=True)
                return candidate
            try:
                os.link(tmp, candidate)
            except FileExistsError:
                pass
            except OSError:  # no hard links on this file system
                if not candidate.exists():
                    os.replace(tmp, candidate)
                    return candidate
            else:
                tmp.unlink(missing_ok=True)
                return candidate
        n += 1


def save_uploads(
    files: Sequence[tuple[str, Path]], settings: Settings, *, max_bytes: int | None = None
) -> SavedUploads:
    """Copy uploaded files (original name, temporary path) into `<data_dir>/uploads`.

    Files of an unsupported type or over the size limit are rejected with a reason."""
    limit = max_bytes if max_bytes is not None else int(settings.max_file_mb * 1024 * 1024)
    target_dir = uploads_dir(settings)
    result = SavedUploads()
    for original, temp in files:
        shown = Path(re.split(r"[\\/]", original)[-1]).name or "(unnamed)"
        safe = sanitize_filename(original)
        suffix = Path(safe).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            result.rejected.append(
                (shown, f"unsupported file type {suffix or '(none)'}; allowed: {allowed_types()}")
            )
            continue
        try:
            size = temp.stat().st_size
        except OSError as exc:
            result.rejected.append((shown, f"cannot read the upload ({exc.strerror or exc})"))
            continue
        if size > limit:
            result.rejected.append(
                (
                    shown,
                    f"{human_size(size)} is over the {human_size(limit)} limit (RAG_MAX_FILE_MB)",
                )
            )
            continue
        if size == 0:
            result.rejected.append((shown, "the file is empty"))
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        root = target_dir.resolve()
        target = (root / safe).resolve() if not (root / safe).is_symlink() else root / safe
        if target.parent != root:
            result.rejected.append((shown, "refusing a file name that leaves the upload folder"))
            continue
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=root)
        try:
            with os.fdopen(fd, "wb") as out, open(temp, "rb") as src:
                shutil.copyfileobj(src, out)
            placed = _place(Path(tmp_name), target, result.saved)
        except OSError as exc:
            Path(tmp_name).unlink(missing_ok=True)
            result.rejected.append((shown, f"cannot store the upload ({exc.strerror or exc})"))
            continue
        if placed.name != target.name:
            result.renamed.append((shown, placed.name))
        target = placed
        result.saved.append(target)
    return result


PROGRESS_PREFIX = "embedded "  # a progress line: the UI updates it in place


def ingest_paths(
    settings: Settings, paths: Sequence[Path], *, log: Callable[[str], None] | None = None
) -> IngestReport:
    """Ingest uploads; progress (chunks, chunks/s, time left) goes to `log` too, with the
    upload folder left out of the lines (an internal path: uploads are named by file)."""
    # the absolute form first: the relative one (".rag/uploads/") is inside it, and taken
    # out first it left "/home/me/app/notes.txt", a path that does not exist
    folders = sorted(
        {f"{uploads_dir(settings)}{os.sep}", f"{uploads_dir(settings).resolve()}{os.sep}"},
        key=len,
        reverse=True,
    )

    def public(message: str) -> None:
        for folder in folders:
            message = message.replace(folder, "")
        if log is not None:
            log(message)

    on_progress = (lambda p: public(p.line())) if log is not None else None
    return Ingestor(
        settings, progress=False, log=public if log is not None else None, on_progress=on_progress
    ).run([str(p) for p in paths])


def discard_skipped(settings: Settings, saved: Sequence[Path], report: IngestReport) -> list[str]:
    """Uploads the ingest skipped are removed from the upload folder (nothing would list
    or delete them otherwise). Returns their names."""
    root = uploads_dir(settings).resolve()
    skipped = {source for source, _reason in report.skipped}
    gone = []
    for path in saved:
        if str(path) in skipped and path.parent == root:
            path.unlink(missing_ok=True)
            gone.append(path.name)
    return gone


def gradio_cache_dir(settings: Settings) -> Path:
    return Path(os.environ.get("GRADIO_TEMP_DIR") or settings.data_dir / ".gradio")


def forget_cached(settings: Settings, paths: Sequence[Path] = (), sha256: str | None = None) -> int:
    """Remove uploads from Gradio's file cache, where they would stay downloadable until
    its hourly sweep: the given paths (if inside the cache), and every cached file with
    the content hash `sha256` (a deleted document). Returns how many were removed."""
    import hashlib

    cache = gradio_cache_dir(settings).resolve()
    removed = 0

    def drop(path: Path) -> None:
        nonlocal removed
        path.unlink(missing_ok=True)
        removed += 1
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # Gradio keeps each upload in a folder of its own

    for path in paths:
        resolved = path.resolve()
        if resolved.is_file() and cache in resolved.parents:
            drop(resolved)
    if sha256 and cache.is_dir():
        for path in list(cache.rglob("*")):  # listed first: drop() removes folders
            if not path.is_file() or path.is_symlink():
                continue
            digest = hashlib.sha256()
            with contextlib.suppress(OSError), open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() == sha256:
                drop(path)
    return removed


def ingest_with_progress(
    settings: Settings, paths: Sequence[Path]
) -> Iterator[tuple[str, IngestReport | None]]:
    """Run the ingest in a thread and yield its log lines as they come, ("", None) about
    once a second while it works (a heartbeat), then ("", report). Re-raises the
    ingest's error, if any."""
    lines: list[str] = []
    cond = threading.Condition()
    outcome: list[IngestReport | BaseException] = []

    def log(message: str) -> None:
        with cond:
            lines.append(message)
            cond.notify_all()

    def work() -> None:
        try:
            report: IngestReport | BaseException = ingest_paths(settings, paths, log=log)
        except BaseException as exc:  # re-raised in the caller's thread
            report = exc
        with cond:
            outcome.append(report)
            cond.notify_all()

    thread = threading.Thread(target=work, name="ui-ingest", daemon=True)
    thread.start()
    seen = 0

    def ready(upto: int) -> Callable[[], bool]:
        return lambda: len(lines) > upto or bool(outcome)

    while True:
        with cond:
            cond.wait_for(ready(seen), timeout=1.0)
            fresh = lines[seen:]
            seen = len(lines)
            finished = outcome[0] if outcome else None
        for line in fresh:
            yield line, None
        if finished is not None:
            break
        if not fresh:
            yield "", None
    thread.join()
    if isinstance(finished, BaseException):
        raise finished
    yield "", finished


def list_documents(settings: Settings) -> list[DocumentRow]:
    if not settings.catalog_path.exists():
        return []
    catalog = Catalog(settings.catalog_path)
    try:
        return catalog.documents()
    finally:
        catalog.close()


def delete_document(settings: Settings, doc_id: str) -> str:
    """Remove a document from the index; an uploaded copy is deleted too (a file the user
    ingested from their own folders is left alone). Returns a one-line message."""
    docs = {d.doc_id: d for d in list_documents(settings)}
    doc = docs.get(doc_id)
    if doc is None:
        raise RagError("that document is no longer in the index")
    done = forget_documents(settings, [doc])  # (as `rag remove` does)
    if not done:
        raise RagError(f"{file_name(doc.source)} could not be removed")
    forget_cached(settings, sha256=doc.sha256)
    name = file_name(doc.source)
    if done[0][1]:
        return f"deleted {doc.title} ({name}) from the index and the upload folder"
    return f"deleted {doc.title} ({name}) from the index; the file itself was not touched"
