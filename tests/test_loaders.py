"""One test group per format: text in every encoding we promise, Markdown, HTML, PDF (with
pages and metadata title), DOCX; titles and languages as stored."""

from __future__ import annotations

import io

import pytest

from core.errors import DocumentError
from index.language import detect_language
from index.loaders import load_bytes
from tests.conftest import CORPUS

INDONESIAN = "Meta akan memiliki lebih dari 340.000 GPU Nvidia H100 pada akhir tahun ini."
CHINESE = "到今年年底,Meta将拥有超过340,000个Nvidia的H100 GPU。"


# plain text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (INDONESIAN.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + INDONESIAN.encode("utf-8"), "utf-8"),
        (b"\xff\xfe" + INDONESIAN.encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + INDONESIAN.encode("utf-16-be"), "utf-16-be"),
        (INDONESIAN.encode("utf-16-le"), "utf-16-le"),  # no BOM
        (CHINESE.encode("utf-8"), "utf-8"),
    ],
)
def test_text_encodings(encoded: bytes, encoding: str) -> None:
    doc = load_bytes(encoded, "a.txt")
    expected = CHINESE if CHINESE.encode("utf-8") == encoded else INDONESIAN
    assert doc.text == expected
    assert doc.encoding == encoding
    assert not doc.text.startswith("\ufeff")


def test_legacy_single_byte_encoding() -> None:
    text = (
        "Le café de la gare était fermé ; nous avons marché jusqu'à la cathédrale, "
        "où l'été dernier déjà la fête réunissait des élèves très bruyants."
    )
    doc = load_bytes(text.encode("cp1252"), "old.txt")
    assert doc.text == text
    assert doc.encoding is not None and doc.encoding.lower().replace("_", "-") != "utf-8"


def test_crlf_becomes_lf_and_title_is_first_line() -> None:
    doc = load_bytes(b"\r\n  Judul Berita  \r\nIsi paragraf pertama.\r\n", "n.txt")
    assert "\r" not in doc.text
    assert doc.title == "Judul Berita"


def test_a_first_line_that_is_a_paragraph_is_no_title() -> None:
    para = "想要探索生成式人工智能的前沿进展吗?订阅我们的简报,深入解析最新的技术突破。" * 3
    assert load_bytes(f"{para}\n正文。\n".encode(), "n.txt").title == ""  # the file name, then
    short = "Will AI take over? A short look."  # a short line of two sentences is a title
    assert load_bytes(f"{short}\nBody text.\n".encode(), "n.txt").title == short


def test_binary_posing_as_text_is_refused_with_the_name() -> None:
    with pytest.raises(DocumentError, match=r"^blob\.txt: looks like binary"):
        load_bytes(bytes(range(256)) * 20, "blob.txt")


def test_empty_and_unsupported() -> None:
    with pytest.raises(DocumentError, match=r"e\.txt: the file is empty"):
        load_bytes(b"", "e.txt")
    with pytest.raises(DocumentError, match=r"x\.xlsx: unsupported file type \.xlsx"):
        load_bytes(b"data", "x.xlsx")
    with pytest.raises(DocumentError, match=r"w\.txt: no text found"):
        load_bytes(b"  \n\t \n", "w.txt")


# markdown and html ----------------------------------------------------------------------


def test_markdown_title_from_heading_and_front_matter() -> None:
    doc = load_bytes(b"Intro line\n\n## Llama 3.1 dirilis\n\nIsi.\n", "a.md")
    assert doc.title == "Llama 3.1 dirilis"
    assert doc.format == "markdown"
    front = load_bytes(b"---\ntitle: 'Era Komputasi'\nauthor: x\n---\n# Other\n", "b.md")
    assert front.title == "Era Komputasi"


def test_html_title_text_and_no_script() -> None:
    html = (
        "<html><head><title>Zuckerberg &amp; AGI</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body><h1>Judul</h1><p>Paragraf <b>satu</b>.</p>"
        "<div>Paragraf dua.</div><script>evil()</script></body></html>"
    )
    doc = load_bytes(html.encode(), "page.html")
    assert doc.title == "Zuckerberg & AGI"
    assert "Paragraf satu." in doc.text
    assert "Paragraf dua." in doc.text
    assert "alert" not in doc.text and "evil" not in doc.text and "color" not in doc.text
    lines = doc.text.splitlines()
    assert lines.index("Paragraf satu.") < lines.index("Paragraf dua.")


def test_html_without_title_uses_h1() -> None:
    doc = load_bytes(b"<body><h1>Tentang Llama</h1><p>Teks.</p></body>", "p.htm")
    assert doc.title == "Tentang Llama"


# pdf ------------------------------------------------------------------------------------


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    if title:
        c.setTitle(title)
    for page in pages:
        y = 800
        for line in page.split("\n"):
            c.drawString(50, y, line)
            y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_pages_offsets_and_metadata_title() -> None:
    data = make_pdf(
        ["Halaman pertama tentang Meta.", "Halaman kedua: 340.000 GPU H100."],
        title="Laporan GPU",
    )
    doc = load_bytes(data, "r.pdf")
    assert doc.title == "Laporan GPU"
    assert [p[0] for p in doc.pages] == [1, 2]
    for page_no, start, end in doc.pages:
        assert doc.text[start:end].startswith("Halaman")
        assert doc.page_at(start) == page_no
    assert doc.page_at(doc.text.index("340.000")) == 2


def test_pdf_without_metadata_title_uses_first_line() -> None:
    doc = load_bytes(make_pdf(["Judul Dokumen\nIsi dokumen."]), "t.pdf")
    assert doc.title == "Judul Dokumen"


def test_corrupt_pdf_names_the_file() -> None:
    with pytest.raises(DocumentError, match=r"^bad\.pdf: cannot read PDF"):
        load_bytes(b"%PDF-1.4\n this is not a pdf at all", "bad.pdf")


def test_encrypted_pdf_is_refused() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf(["Rahasia."]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match=r"^locked\.pdf: the PDF is encrypted"):
        load_bytes(buf.getvalue(), "locked.pdf")


# docx -----------------------------------------------------------------------------------


def test_docx_heading_title_paragraphs_and_tables() -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("catatan kecil")
    d.add_heading("Rencana GPU Meta", level=1)
    d.add_paragraph("Meta akan memiliki 600.000 GPU.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "H100"
    table.rows[0].cells[1].text = "340.000"
    buf = io.BytesIO()
    d.save(buf)
    doc = load_bytes(buf.getvalue(), "plan.docx")
    assert doc.title == "Rencana GPU Meta"
    assert "Meta akan memiliki 600.000 GPU." in doc.text
    assert "H100\t340.000" in doc.text


def test_docx_core_title_wins_and_garbage_is_refused() -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Judul Inti"
    d.add_heading("Heading", level=1)
    buf = io.BytesIO()
    d.save(buf)
    assert load_bytes(buf.getvalue(), "c.docx").title == "Judul Inti"
    with pytest.raises(DocumentError, match=r"^z\.docx: cannot read DOCX"):
        load_bytes(b"PK\x03\x04 not really a zip", "z.docx")


# language -------------------------------------------------------------------------------


def test_language_of_every_corpus_file() -> None:
    for path in sorted(CORPUS.iterdir()):
        expected = path.name.rsplit(".", 2)[-2]  # name.<lang>.txt
        text = load_bytes(path.read_bytes(), path.name).text
        assert detect_language(text) == expected, path.name


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The company will own more than three hundred thousand graphics processors.", "en"),
        ("ok", "und"),
        ("メタは年末までにGPUを持つでしょう。これはテストです。", "ja"),
    ],
)
def test_language_samples(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_title_passes_over_a_banner_line_with_a_url() -> None:
    text = "Langganan buletin kami: https://example.org/x\nJudul Sebenarnya\nIsi.\n"
    assert load_bytes(text.encode(), "b.txt").title == "Judul Sebenarnya"
    zh = load_bytes((CORPUS / "zuckerberg-agi-interview.zh.txt").read_bytes(), "zh.txt")
    # after the banner comes the article's first paragraph, no title: the file name stands in
    assert zh.title == "" and zh.text.startswith("?每周跟踪AI热点")


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("H100 total?", "id"),  # a general classifier says Catalan
        ("Who is Yann LeCun?", "en"),  # ... Irish
        ("Meta 有多少 GPU?", "zh"),  # ... Cantonese
        ("Siapa CEO Microsoft?", "id"),
        ("how many H100s does Meta plan to have?", "en"),
        ("?", "und"),
    ],
)
def test_a_question_is_read_in_a_corpus_language_or_english(question: str, lang: str) -> None:
    from index.language import question_language

    assert question_language(question, ["id", "zh"]) == lang


def test_languages_compare_as_one_where_a_short_question_cannot_tell_them_apart() -> None:
    from index.language import crossing, same_language

    assert same_language("ms", "id") and same_language("yue", "zh")
    assert not same_language("und", "und") and not same_language("en", "und")
    assert crossing("en", "zh") == (1.0, 1.0) and crossing("en", "id") == (1.0, 0.0)
    assert crossing("en", "und") == (0.0, 0.0) and crossing("und", "zh") == (0.0, 0.0)
