"""Which files an ingest looks at: files named directly, and supported files found by
walking folders (hidden entries and symlinked folders are not followed, so a symlink loop
cannot trap the walk; nor is a link to a file outside the folder)."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from index.loaders import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class Candidate:
    path: Path  # resolved, absolute
    source: str  # as the user would write it
    root: str | None  # resolved folder it was found under, if any


@dataclass
class ScanResult:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    roots: list[str] = field(default_factory=list)  # resolved folders walked
    missing: list[tuple[str, str]] = field(default_factory=list)  # (source, resolved path)


def shown(name: str) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 (Linux
    allows any bytes in a file name; Python carries them as surrogates) become \\xNN."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        try:
            return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return name.encode("utf-8", "backslashreplace").decode("utf-8")


def scan(paths: list[str]) -> ScanResult:
    result = ScanResult()
    seen: dict[tuple[int, int], str] = {}  # (device, inode) -> source of its first path

    def skip(source: str, reason: str) -> None:
        result.skipped.append((shown(source), shown(reason)))

    def add(path: Path, source: str, root: str | None) -> None:
        if shown(source) != source or shown(str(path.absolute())) != str(path.absolute()):
            # the catalog, Chroma and JSON output all need text: the name must be UTF-8
            skip(source, "the file name is not valid UTF-8: rename the file")
            return
        try:
            resolved = path.resolve(strict=True)
            st = resolved.stat()
        except RuntimeError:  # a symlink loop, on Python < 3.13
            skip(source, "symlink loop")
            return
        except OSError as exc:
            reason = (
                "symlink loop"
                if exc.errno == errno.ELOOP
                else f"cannot resolve path ({exc.strerror or exc.__class__.__name__})"
            )
            skip(source, reason)
            return
        if root is not None and not resolved.is_relative_to(root):
            # found in a folder, a link out of it is not followed: indexing a folder must
            # not make /etc/passwd answerable (a file named on its own is read, link or not)
            skip(source, "a link to a file outside the folder (not followed)")
            return
        if not stat.S_ISREG(st.st_mode):  # reading a FIFO would block the ingest forever
            skip(source, "not a regular file (a pipe, socket or device)")
            return
        # One document under two paths (symlink, hard link, named twice) is indexed once.
        first = seen.get((st.st_dev, st.st_ino))
        if first is not None:
            if first != source:
                skip(source, f"same file as {first} (indexed once)")
            return
        seen[(st.st_dev, st.st_ino)] = source
        result.candidates.append(Candidate(resolved, source, root))

    for arg in paths:
        path = Path(arg).expanduser()
        if path.is_dir():
            root = str(path.resolve())
            result.roots.append(root)
            for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if name.startswith("."):
                        continue
                    file = Path(dirpath) / name
                    source = os.path.normpath(str(file))
                    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                        skip(source, f"unsupported file type {file.suffix or '(none)'}")
                        continue
                    add(file, source, root)
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                skip(arg, f"unsupported file type {path.suffix or '(none)'}")
                continue
            add(path, os.path.normpath(arg), None)
        elif path.exists() or path.is_symlink():
            skip(arg, "not a regular file or folder (or a broken link)")
        else:
            result.missing.append((shown(arg), str(path.absolute())))
    return result
