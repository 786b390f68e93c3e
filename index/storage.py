"""What is wrong with the filesystem under a path, in words a user can act on.

Libraries report a full or read-only disk in their own terms ("Failed to apply logs",
"unable to open database file", "File exists"); the error edges ask here first so the
message names the real cause: no space left on the device, a read-only data directory,
or a data directory that is a file.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

MIN_FREE_BYTES = 1 << 20  # less than this free: treat a failed write as a full disk


def _existing(path: Path) -> Path:
    """The path itself or its nearest existing ancestor."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path("/")


def storage_problem(path: Path) -> str | None:
    """One phrase describing why writing under `path` fails, or None when nothing is
    visibly wrong (then the library's own message is the best there is)."""
    base = _existing(path)
    if base != path and not base.is_dir():
        return f"{base} is a file, not a directory"
    if path.exists() and not path.is_dir() and path.suffix == "":
        return f"{path} is a file, not a directory"
    folder = base if base.is_dir() else base.parent
    try:
        vfs = os.statvfs(folder)
    except OSError:
        return None
    if vfs.f_flag & os.ST_RDONLY:
        return f"{folder} is on a read-only file system"
    if not os.access(folder, os.W_OK):
        return f"{folder} is read-only (no write permission)"
    if vfs.f_bavail * vfs.f_frsize < MIN_FREE_BYTES:
        return f"no space left on device (under {folder})"
    return None


def describe_os_error(exc: OSError) -> str:
    """An OSError as one line, naming the device problem plainly."""
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{where}no space left on device"
    if exc.errno == errno.EROFS:
        return f"{where}read-only file system"
    if exc.errno == errno.EFBIG:
        return f"{where}file too large for this file system or limit (no space to write it)"
    return f"{where}{exc.strerror or exc}"
