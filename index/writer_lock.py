"""One writer per data directory: the ingest lock (`<data_dir>/ingest.lock`, an `flock`).

The embedded Chroma store is not safe with several processes at once, so only the
process holding this lock opens it (and closes it before releasing the lock): `rag
ingest`, an upload or delete in the UI, and `rag reset`. A second writer is refused with
one line naming the holder's pid; readers never take it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import StoreError
from index.storage import describe_os_error, storage_problem


def _data_dir_ready(data_dir: Path) -> None:
    """Create the data directory, or say in one line why it cannot be used."""
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"RAG_DATA_DIR {data_dir} is a file, not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = storage_problem(data_dir) or describe_os_error(exc)
        raise StoreError(f"cannot create the data directory {data_dir}: {problem}") from None


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Refuse a second concurrent ingest on the same data directory. The holder is the
    only process that opens the embedded vector store."""
    _data_dir_ready(data_dir)
    path = data_dir / "ingest.lock"
    try:
        fh = open(path, "a+")  # noqa: SIM115
    except OSError as exc:
        problem = storage_problem(data_dir) or describe_os_error(exc)
        raise StoreError(f"cannot write to the data directory {data_dir}: {problem}") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise StoreError(
                f"another ingest is running on {data_dir} (pid {holder}); wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
