"""File formats to plain text: one loader per format, each returning a `LoadedDocument`.

We bypass llama-index's readers here: its file readers lose the page boundaries and
character positions our citations need, and several of them pull in optional heavy
dependencies. Each loader raises DocumentError (naming the file) on input it cannot use.
"""

from __future__ import annotations

import bisect
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DocumentError
from index.encoding import decode_text

_MAX_TITLE = 160
_MAX_UNPACKED = 256 * 2**20  # a DOCX (zip) inflating beyond this, 20x its size, is refused


@dataclass
class LoadedDocument:
    """Extracted text plus what we know about it. `pages[i]` = (page_no, start, end)."""

    text: str
    title: str
    format: str
    encoding: str | None = None
    pages: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def page_starts(self) -> list[int]:
        """The text offset where each page starts (page 1 first); empty without pages.
        Stored in the catalog for `Catalog.page_of`."""
        return [start for _page_no, start, _end in self.pages]

    def page_at(self, offset: int) -> int | None:
        if not self.pages:
            return None
        i = bisect.bisect_right(self.page_starts, offset) - 1
        if i >= 0:
            page_no, start, end = self.pages[i]
            if start <= offset < end:
                return page_no
        return self.pages[-1][0] if offset >= self.pages[-1][2] else None


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.lstrip("\ufeff")


# a sentence ends inside the line and another follows: "...吗?订阅我们的简报..."
_INNER_SENTENCE_END = re.compile(r"\w[.!?](?=\s+\S)|[。！？?!](?=\S)")
PARAGRAPH_CHARS = 80  # a first line this long holding two sentences is a paragraph


def _first_line_title(text: str) -> str:
    """The first line with some letters, passing over banners (lines holding a URL);
    none when it is a paragraph (long, several sentences): the file name is a better
    title than a paragraph cut short."""
    fallback = ""
    for line in text.splitlines()[:50]:
        line = line[:1000].strip().lstrip("#").strip()  # titles are short; a line may be 10 MB
        if sum(ch.isalnum() for ch in line) < 2:
            continue
        if re.search(r"https?://|www\.", line):
            fallback = fallback or line
            continue
        if len(line) > PARAGRAPH_CHARS and _INNER_SENTENCE_END.search(line, 1):
            return ""
        return _shorten(line)
    return _shorten(fallback)


def _shorten(title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip()
    if " " not in title[:80] and len(title) > 60:  # CJK and other unspaced scripts
        return title[:60].rstrip() + "…"
    if len(title) <= _MAX_TITLE:
        return title
    cut = title[:_MAX_TITLE]
    space = cut.rfind(" ")
    return (cut[:space] if space > _MAX_TITLE // 2 else cut).rstrip() + "…"


def load_text(data: bytes, name: str) -> LoadedDocument:
    text, enc = decode_text(data, name)
    text = _clean(text)
    return LoadedDocument(text=text, title=_first_line_title(text), format="text", encoding=enc)


def load_markdown(data: bytes, name: str) -> LoadedDocument:
    text, enc = decode_text(data, name)
    text = _clean(text)
    heading = re.search(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    front = re.match(r"^---\n(?:.*\n)*?title:\s*[\"']?(.+?)[\"']?\s*\n(?:.*\n)*?---\n", text)
    title = (front.group(1) if front else None) or (heading.group(1) if heading else "")
    return LoadedDocument(
        text=text,
        title=_shorten(title) or _first_line_title(text),
        format="markdown",
        encoding=enc,
    )


_BLOCK_TAGS = (
    "p div section article header footer main aside nav li ul ol dl dt dd table tr "
    "h1 h2 h3 h4 h5 h6 blockquote pre figure figcaption br hr form fieldset address"
).split()


_SKIP_TAGS = frozenset(["script", "style", "noscript", "template", "head", "svg", "iframe"])
_BLOCK_SET = frozenset(_BLOCK_TAGS)


def _html_text(root: Any) -> str:
    """The text of `root`, with a line break around every block element, minus scripts,
    styles and the head. One iterative walk: mutating the tree instead (insert_before /
    insert_after a "\\n") costs time quadratic in the nesting depth, and a page nested
    20,000 deep then hangs the ingest."""
    from bs4.element import CData, NavigableString, Tag

    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in _SKIP_TAGS:
                continue
            if node.name in _BLOCK_SET:
                parts.append("\n")
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif type(node) in (NavigableString, CData):  # what get_text() keeps: no comments
            parts.append(str(node))
    return "".join(parts)


def load_html(data: bytes, name: str) -> LoadedDocument:
    from bs4 import BeautifulSoup

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            soup = BeautifulSoup(data, "lxml")
    except Exception as exc:  # lxml raises several unrelated types on broken input
        raise DocumentError(f"{name}: cannot parse HTML ({exc})") from None
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else ""
    raw = _html_text(soup)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in _clean(raw).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return LoadedDocument(
        text=text, title=_shorten(title) or _first_line_title(text), format="html"
    )


def load_pdf(data: bytes, name: str) -> LoadedDocument:
    import logging

    from pypdf import PdfReader

    # pypdf logs its repairs ("invalid pdf header", "EOF marker not found") as warnings:
    # on a terminal they were lines naming no file, before the one naming it
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = bool(reader.decrypt(""))  # PasswordType.NOT_DECRYPTED is 0
            except Exception:
                ok = False
            if not ok:
                raise DocumentError(f"{name}: the PDF is encrypted with a password")
        parts: list[str] = []
        pages: list[tuple[int, int, int]] = []
        pos = 0
        for page_no, page in enumerate(reader.pages, start=1):
            page_text = _clean(page.extract_text() or "").strip()
            if parts:
                parts.append("\n\n")
                pos += 2
            parts.append(page_text)
            pages.append((page_no, pos, pos + len(page_text)))
            pos += len(page_text)
        meta_title = ""
        try:
            meta_title = (reader.metadata.title if reader.metadata else None) or ""
        except Exception:
            meta_title = ""
    except DocumentError:
        raise
    except Exception as exc:  # pypdf on hostile input: PdfReadError, but also e.g.
        # NotImplementedError (unknown stream filter), RecursionError, zlib.error
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise DocumentError(f"{name}: cannot read PDF ({type(exc).__name__}: {detail})") from None
    text = "".join(parts)
    if not text.strip():
        raise DocumentError(f"{name}: the PDF has no extractable text (scanned? OCR is not done)")
    if str(meta_title).strip().lower() in ("untitled", "untitled document", "(anonymous)"):
        meta_title = ""  # producers' placeholders (reportlab writes "untitled")
    title = _shorten(str(meta_title)) or _first_line_title(text)
    return LoadedDocument(text=text, title=title, format="pdf", pages=pages)


def load_docx(data: bytes, name: str) -> LoadedDocument:
    import zipfile

    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # BadZipFile, and struct/OSError on a mangled directory
        raise DocumentError(f"{name}: cannot read DOCX ({type(exc).__name__}: {exc})") from None
    if unpacked > _MAX_UNPACKED and unpacked > 20 * len(data):
        # python-docx would inflate and parse it all in memory: a zip bomb stops here
        raise DocumentError(
            f"{name}: the DOCX unpacks to {unpacked / 2**20:,.0f} MB from "
            f"{len(data) / 2**20:,.1f} MB (a zip bomb?); not read"
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{name}: cannot read DOCX ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and others
        raise DocumentError(f"{name}: cannot read DOCX ({type(exc).__name__}: {exc})") from None
    lines: list[str] = []
    heading = ""
    for para in document.paragraphs:
        lines.append(para.text)
        style = (para.style.name if para.style is not None else "") or ""
        if not heading and para.text.strip() and style.lower().startswith(("title", "heading")):
            heading = para.text
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    text = re.sub(r"\n{3,}", "\n\n", _clean("\n".join(lines))).strip()
    core_title = document.core_properties.title or ""
    title = _shorten(core_title) or _shorten(heading) or _first_line_title(text)
    return LoadedDocument(text=text, title=title, format="docx")


LOADERS: dict[str, Callable[[bytes, str], LoadedDocument]] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}

SUPPORTED_SUFFIXES = frozenset(LOADERS)


def load_bytes(data: bytes, name: str) -> LoadedDocument:
    """Dispatch on the file name's suffix. Raises DocumentError naming `name`."""
    suffix = Path(name).suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise DocumentError(f"{name}: unsupported file type {suffix or '(none)'}")
    if not data:
        raise DocumentError(f"{name}: the file is empty")
    doc = loader(data, name)
    if not doc.text.strip():
        raise DocumentError(f"{name}: no text found")
    return doc
