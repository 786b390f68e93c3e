"""Hostile and broken files: each one is indexed or skipped with a one-line reason naming
the file, the rest of the ingest goes on and `rag ingest` exits 0; it exits 1 only when
nothing at all could be ingested.

The folder is built once per module and ingested through the real CLI (`rag.cli.main`);
the tests then read what the CLI printed, the catalog, Chroma and the BM25 index.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.settings import load_settings
from index.catalog import Catalog
from index.chunker import chunk_spans
from index.ingest import Ingestor
from index.lexical import LexicalIndex
from index.loaders import load_bytes
from index.scan import shown
from index.tokens import count_tokens
from index.vectors import VectorStore
from rag.cli import main

GOOD = "Meta plans to own more than 340,000 Nvidia H100 GPUs by the end of the year.\n"
ZH = "元宇宙和人工智能的未来。Meta 计划拥有超过 34 万块 H100。\n"


def make_pdf(text: str, *, title: str | None = None) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    if title:
        c.setTitle(title)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypt_pdf(data: bytes, user_password: str, algorithm: str = "RC4-128") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx_bomb(unpacked_mb: int) -> bytes:
    """A valid DOCX whose document.xml inflates to `unpacked_mb` MB of spaces (written
    in slices, so making it costs little memory)."""
    import docx

    document = docx.Document()
    document.add_paragraph("PLACEHOLDER")
    seed = io.BytesIO()
    document.save(seed)
    src = zipfile.ZipFile(seed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "word/document.xml":
                bomb.writestr(info.filename, data)
                continue
            head, tail = data.split(b"PLACEHOLDER")
            with bomb.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(head)
                for _ in range(unpacked_mb):
                    fh.write(b" " * 2**20)
                fh.write(tail)
    return out.getvalue()


@dataclass
class Expect:
    indexed: bool
    reason: str = ""  # substring of the skip reason
    contains: str = ""  # substring of the extracted text, when indexed
    encoding: str | None = None


def build_hostile_folder(root: Path) -> dict[str, Expect]:
    """Write the hostile files; return {file name: what must happen to it}."""
    root.mkdir(parents=True)
    e: dict[str, Expect] = {}

    def put(name: str, data: bytes | str, expect: Expect) -> None:
        path = root / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        e[name] = expect

    put("good.txt", GOOD, Expect(True, contains="340,000"))
    put("zero-byte.txt", b"", Expect(False, "the file is empty"))
    put("blank.md", " \n\n\t  \n", Expect(False, "no text found"))
    put("binary.txt", bytes(range(256)) * 64, Expect(False, "binary"))
    put("png-as-text.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(4000), Expect(False, "binary"))
    bad = ZH.encode() * 40
    put(
        "invalid-utf8.txt",
        bad[:300] + b"\xff\xc3(" + bad[300:],
        Expect(True, contains="元宇宙和人工智能", encoding="utf-8"),
    )
    put(
        "utf16-bom.txt",
        ("Halo dunia: teks UTF-16 dengan BOM. " + ZH).encode("utf-16"),
        Expect(True, contains="teks UTF-16 dengan BOM", encoding="utf-16-le"),
    )
    put(
        "utf16le-nobom.txt",
        "Halo dunia: teks UTF-16 tanpa BOM, café.".encode("utf-16-le"),
        Expect(True, contains="tanpa BOM, café", encoding="utf-16-le"),
    )
    put(
        "utf16be-nobom.txt",
        "Big-endian UTF-16 without a byte order mark.".encode("utf-16-be"),
        Expect(True, contains="without a byte order mark", encoding="utf-16-be"),
    )
    # a 1 MB single line, no punctuation, no spaces (the 10 MB one is tested on its own
    # below and, in this folder, hits the size limit: RAG_MAX_FILE_MB=8 for this ingest)
    put("one-line.txt", "x" * 1_000_000, Expect(True, contains="xxxx"))
    put("ten-mb-line.txt", "y" * (10 * 1024 * 1024), Expect(False, "larger than RAG_MAX_FILE_MB"))
    put(
        "corrupt.pdf",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n%%EOF",
        Expect(False, "PDF"),
    )
    put("truncated.pdf", make_pdf("Truncated PDF text")[:300], Expect(False, "PDF"))
    put(
        "encrypted.pdf",
        encrypt_pdf(make_pdf("Secret text about H100"), "secret"),
        Expect(False, "encrypted with a password"),
    )
    put(
        "owner-only.pdf",  # encrypted, empty user password: opens without asking
        encrypt_pdf(make_pdf("Readable although encrypted, H100"), ""),
        Expect(True, contains="Readable although encrypted"),
    )
    put(
        "aes-owner-only.pdf",  # AES needs `cryptography` (pypdf[crypto]): often no password
        encrypt_pdf(make_pdf("AES but readable, H100"), "", "AES-256"),
        Expect(True, contains="AES but readable"),
    )
    put(
        "aes-password.pdf",
        encrypt_pdf(make_pdf("AES secret"), "secret", "AES-128"),
        Expect(False, "encrypted with a password"),
    )
    put("scanned.pdf", make_pdf(" "), Expect(False, "no extractable text"))
    depth = 20_000
    nested = (
        "<html><head><title>Deep</title></head><body>"
        + "<div><span>" * depth
        + "deep text here"
        + "</span></div>" * depth
        + "<p>after the depths</p></body></html>"
    )
    put("nested.html", nested, Expect(True, contains="after the depths"))
    put(
        "broken.html",
        "<html><body><p>unclosed <b>tags <div>and <<>> junk",
        Expect(True, contains="junk"),
    )
    put("corrupt.docx", b"PK\x03\x04 this is not really a zip", Expect(False, "DOCX"))
    put("zip-bomb.docx", make_docx_bomb(300), Expect(False, "zip bomb"))
    os.symlink("loop-b.txt", root / "loop-a.txt")
    os.symlink("loop-a.txt", root / "loop-b.txt")
    e["loop-a.txt"] = Expect(False, "symlink loop")
    e["loop-b.txt"] = Expect(False, "symlink loop")
    os.symlink("does-not-exist.txt", root / "dangling.txt")
    e["dangling.txt"] = Expect(False, "cannot resolve")
    os.link(root / "good.txt", root / "hard-link.txt")
    e["hard-link.txt"] = Expect(False, "same file as")
    os.symlink("good.txt", root / "sym-link.txt")
    e["sym-link.txt"] = Expect(False, "same file as")
    os.mkfifo(root / "fifo.txt")  # reading it would block forever
    e["fifo.txt"] = Expect(False, "not a regular file")
    # unreadable: chmod 000 stops everyone but root; /proc/self/mem fails even for root
    put("no-permission.txt", "Unreadable unless you are root.", Expect(True, contains="root"))
    (root / "no-permission.txt").chmod(0)
    if os.geteuid() != 0:
        e["no-permission.txt"] = Expect(False, "Permission denied")
    # a link out of the folder is not followed (it made /etc/passwd answerable)
    os.symlink("/etc/passwd", root / "passwd.txt")
    e["passwd.txt"] = Expect(False, "a link to a file outside the folder")
    os.symlink("../outside.txt", root / "sibling.txt")
    (root.parent / "outside.txt").write_text("Outside the folder.", encoding="utf-8")
    e["sibling.txt"] = Expect(False, "a link to a file outside the folder")
    put("name with spaces.txt", "A name with spaces, about Llama.", Expect(True, contains="spaces"))
    put("ünïcødé 文件.md", "# Judul\n\nNama berkas Unicode.", Expect(True, contains="Unicode"))
    put("new\nline.txt", "A file name holding a newline.", Expect(True, contains="newline"))
    put("bad\nname.pdf", b"%PDF-broken", Expect(False, "PDF"))
    # Linux allows any bytes in a name; Python carries non-UTF-8 ones as surrogates
    put(os.fsdecode(b"latin1-caf\xe9.txt"), "Named in Latin-1.", Expect(False, "not valid UTF-8"))
    put("notes.xyz", "unsupported suffix", Expect(False, "unsupported file type"))
    return e


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The hostile folder, ingested once with `rag ingest` (text output) and once more
    with `--json` (everything unchanged by then)."""
    from tests.conftest import _clean_env

    base = tmp_path_factory.mktemp("hostile")
    folder = base / "docs"
    expect = build_hostile_folder(folder)
    mp = pytest.MonkeyPatch()
    out, err = io.StringIO(), io.StringIO()
    try:
        _clean_env(mp, base / "data")
        mp.setenv("RAG_EMBEDDER", "builtin")
        mp.setenv("RAG_MAX_FILE_MB", "8")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["ingest", str(folder)])
        out2 = io.StringIO()
        with contextlib.redirect_stdout(out2), contextlib.redirect_stderr(io.StringIO()):
            code2 = main(["ingest", "--json", str(folder)])
        settings = load_settings()
    finally:
        mp.undo()
    return {
        "folder": folder,
        "expect": expect,
        "code": code,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "code2": code2,
        "report2": json.loads(out2.getvalue()),
        "settings": settings,
    }


def _source(folder: Path, name: str) -> str:
    """The path as the report gives it (non-UTF-8 bytes shown as \\xNN)."""
    return shown(os.path.normpath(str(folder / name)))


def test_ingest_goes_on_and_exits_zero(hostile: dict[str, Any]) -> None:
    assert hostile["code"] == 0, hostile["stderr"]
    assert hostile["code2"] == 0
    assert "nothing could be ingested" not in hostile["stderr"]


def test_every_skip_is_one_line_naming_the_file(hostile: dict[str, Any]) -> None:
    folder: Path = hostile["folder"]
    lines = hostile["stderr"].splitlines()
    skip_lines = [line for line in lines if line.startswith("skipped: ")]
    skipped = {n: x for n, x in hostile["expect"].items() if not x.indexed}
    for name, exp in skipped.items():
        shown = _source(folder, name).replace("\n", "\\n")  # control chars shown escaped
        mine = [line for line in skip_lines if line.startswith(f"skipped: {shown}: ")]
        assert len(mine) == 1, (name, skip_lines)
        assert exp.reason in mine[0], (name, mine[0])
    # no other skips, and no line that is not a skip, the note or the summary
    assert len(skip_lines) == len(skipped), skip_lines
    for line in lines:
        assert line.startswith(("skipped: ", "note: ")), line


def test_json_report_lists_every_skip_with_its_real_path(hostile: dict[str, Any]) -> None:
    folder: Path = hostile["folder"]
    report = hostile["report2"]
    reasons = {s["source"]: s["reason"] for s in report["skipped"]}
    for name, exp in hostile["expect"].items():
        source = _source(folder, name)
        if exp.indexed:
            assert source in report["unchanged"], (name, reasons.get(source))
        else:
            assert exp.reason in reasons[source], (name, reasons.get(source))
    assert report["added"] == [] and report["updated"] == [] and report["chunks"] == 0


def test_indexed_files_have_exact_chunks_in_every_store(hostile: dict[str, Any]) -> None:
    settings = hostile["settings"]
    folder: Path = hostile["folder"]
    catalog = Catalog(settings.catalog_path)
    try:
        docs = {d.source: d for d in catalog.documents()}
        expected = {_source(folder, n): x for n, x in hostile["expect"].items() if x.indexed}
        assert set(docs) == set(expected)
        for source, exp in expected.items():
            doc = docs[source]
            text = catalog.document_text(doc.doc_id)
            assert exp.contains in text, (source, text[:200])
            if exp.encoding:
                assert doc.encoding == exp.encoding, source
            chunks = catalog.chunks_of(doc.doc_id)
            assert chunks and len(chunks) == doc.n_chunks
            views = catalog.chunk_views([c.chunk_id for c in chunks])
            for c in chunks:
                assert views[c.chunk_id].text == text[c.start : c.end]
                assert text[c.start : c.end].strip()
                assert c.n_tokens <= settings.chunk_size
        chunk_ids = catalog.all_chunk_ids()
        (name, *_), *_ = catalog.collections()
    finally:
        catalog.close()
    store = VectorStore(settings)
    col = store.named(name)
    assert col is not None
    assert store.ids(col) == chunk_ids  # no orphans, nothing missing
    lexical = LexicalIndex.load(settings.lexical_dir)
    assert lexical is not None and sorted(lexical.ids) == sorted(chunk_ids)
    hits = lexical.search("H100 GPUs 340,000", 3)
    assert hits and hits[0][0] in {
        c for c in chunk_ids if c.startswith(docs[_source(folder, "good.txt")].doc_id)
    }


def test_nothing_ingestable_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 nope")
    assert main(["ingest", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "error: nothing could be ingested" in err
    assert err.count("skipped: ") == 3
    # one good file among them: exit 0
    (folder / "ok.txt").write_text(GOOD, encoding="utf-8")
    assert main(["ingest", str(folder)]) == 0

    # a folder with no file to index says so (it printed "added 0, ... skipped 0" alone)
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert main(["ingest", str(empty)]) == 0
    err = capsys.readouterr().err
    assert f"note: no file to index in {empty} (looked for .docx," in err, err


def test_a_file_named_directly_is_read_even_through_a_link(tmp_path: Path) -> None:
    """Named on its own (not found in a folder), a link is followed: the user chose it.
    A read error there is one line naming it (/proc/self/mem fails even for root)."""
    from index.scan import scan

    target = tmp_path / "elsewhere" / "notes.txt"
    target.parent.mkdir()
    target.write_text("Notes kept elsewhere.", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    os.symlink(target, tmp_path / "docs" / "notes.txt")
    named = scan([str(tmp_path / "docs" / "notes.txt")])
    assert [c.path for c in named.candidates] == [target] and named.skipped == []
    walked = scan([str(tmp_path / "docs")])
    assert walked.candidates == []
    assert [reason for _, reason in walked.skipped] == [
        "a link to a file outside the folder (not followed)"
    ]
    if sys.platform.startswith("linux"):
        os.symlink("/proc/self/mem", tmp_path / "io-error.txt")
        report = Ingestor(load_settings(), progress=False).run([str(tmp_path / "io-error.txt")])
        assert [(Path(s).name, "cannot read" in r) for s, r in report.skipped] == [
            ("io-error.txt", True)
        ]


def test_a_missing_path_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["ingest", str(good), str(tmp_path / "nope.txt")]) == 0
    err = capsys.readouterr().err
    assert f"skipped: {tmp_path / 'nope.txt'}: no such file or folder" in err
    assert main(["ingest", str(tmp_path / "nope.txt")]) == 1


def test_ten_megabyte_single_line_loads_and_chunks_in_bounded_time() -> None:
    """No punctuation, no line break: a minified dump or a base64 blob. Encoding
    detection, the title and the chunker must stay linear (pytest-timeout guards)."""
    words = "kecerdasan buatan umum terbuka Meta Llama GPU H100 元宇宙和人工智能 "
    line = (words * (10 * 1024 * 1024 // len(words.encode())))[: 5 * 1024 * 1024]
    line += "z" * (10 * 1024 * 1024 - len(line.encode()))  # and one unbroken run
    data = line.encode()
    assert len(data) >= 10 * 1024 * 1024 and b"\n" not in data
    doc = load_bytes(data, "big.txt")
    assert doc.text == line and len(doc.title) <= 161
    spans = chunk_spans(doc.text, 300, 40)
    assert spans[0].start == 0 and spans[-1].end == len(line)
    for prev, span in itertools.pairwise(spans):
        assert prev.start < span.start and prev.end <= span.end
        assert not line[prev.end : span.start].strip()  # nothing but spaces dropped
    for span in spans[:: max(1, len(spans) // 200)]:  # spot-check the cap (counting all is slow)
        assert span.tokens == count_tokens(line[span.start : span.end]) <= 300


def test_a_broken_pdf_is_one_line_on_a_real_terminal_run(tmp_path: Path) -> None:
    """pytest captures logging; the command line does not, and pypdf's warnings were
    lines of their own naming no file ("invalid pdf header: b'Ini b'")."""
    import subprocess
    import sys

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "fake.pdf").write_bytes(b"Ini bukan PDF sama sekali, hanya teks biasa.\n")
    (folder / "truncated.pdf").write_bytes(make_pdf("Truncated PDF text")[:300])
    (folder / "good.txt").write_text("Meta akan memiliki 340.000 GPU H100.\n", encoding="utf-8")
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_EMBEDDER": "builtin"}
    run = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", str(folder)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("skipped: ") for line in lines), lines
