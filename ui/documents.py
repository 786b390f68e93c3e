"""The Documents tab's backend: store uploads safely under the data directory, ingest
them, list what is indexed, delete a document.

Upload names come from the browser and are not trusted: only the last path component
is kept, reduced to a safe character set, and the final path is checked to lie inside
`<data_dir>/uploads` before anything is written (through a temporary file and an atomic
rename, so a symlink planted at the target is replaced, never followed).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.catalog import Catalog, DocumentRow
from index.ingest import Ingestor, IngestReport
from index.loaders import SUPPORTED_SUFFIXES
from rag.errors import RagError
from rag.settings import Settings

UPLOAD_FOLDER = "uploads"
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@]", re.UNICODE)


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / UPLOAD_FOLDER


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
            os.replace(tmp_name, target)
        except OSError as exc:
            Path(tmp_name).unlink(missing_ok=True)
            result.rejected.append((shown, f"cannot store the upload ({exc.strerror or exc})"))
            continue
        result.saved.append(target)
    return result


def ingest_paths(
    settings: Settings, paths: Sequence[Path], *, log: Callable[[str], None] | None = None
) -> IngestReport:
    return Ingestor(settings, progress=False, log=log).run([str(p) for p in paths])


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
    report = Ingestor(settings, progress=False).remove([doc.doc_id])
    if not report.removed:
        raise RagError(f"{doc.source} could not be removed")
    upload_root = uploads_dir(settings).resolve()
    path = Path(doc.path)
    if path.parent == upload_root:
        path.unlink(missing_ok=True)
        return f"deleted {doc.title} ({doc.source}) from the index and the upload folder"
    return f"deleted {doc.title} ({doc.source}) from the index; the file itself was not touched"
