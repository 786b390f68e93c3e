"""Property-based fuzzing of the loaders and the chunker (hypothesis).

Loaders: for any bytes under any supported suffix, `load_bytes` returns a document with
text or raises DocumentError naming the file; nothing else may escape (an escaping
exception would abort the whole ingest instead of skipping one file). Structured inputs
(valid PDF, DOCX, HTML and UTF-16 seeds, then mutated and truncated) reach deeper than
random bytes.

Chunker: for any text (CJK, no punctuation, long runs, control characters), every span is
a non-empty slice within the token cap, spans are ordered, and together they cover every
non-whitespace character.

Examples per test are modest for the suite's time; `RAG_FUZZ_EXAMPLES=2000 pytest
tests/test_fuzz.py` runs a longer, randomised campaign.
"""

from __future__ import annotations

import functools
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DocumentError
from index.chunker import chunk_spans
from index.loaders import SUPPORTED_SUFFIXES, LoadedDocument, load_bytes
from index.tokens import count_tokens

_LONG = os.environ.get("RAG_FUZZ_EXAMPLES")
EXAMPLES = int(_LONG or "40")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=_LONG is None,  # the suite is reproducible; a long campaign explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# seeds -------------------------------------------------------------------------------------


@functools.cache
def _pdf_seed() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setTitle("Seed PDF")
    c.drawString(72, 720, "Meta akan memiliki 340.000 GPU H100 pada akhir tahun.")
    c.showPage()
    c.drawString(72, 720, "Second page, second sentence.")
    c.showPage()
    c.save()
    return buf.getvalue()


@functools.cache
def _docx_seed() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Seed document", level=1)
    document.add_paragraph("Zuckerberg ingin membangun kecerdasan umum.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "H100"
    table.rows[0].cells[1].text = "340,000"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


_HTML_SEED = (
    "<!DOCTYPE html><html><head><title>Seed</title><script>var x=1</script></head>"
    "<body><h1>Judul</h1><p>Paragraf <b>tebal</b> dan <a href='#'>tautan</a>.</p>"
    "<div><div><ul><li>satu</li><li>二</li></ul></div></div><!-- c --></body></html>"
).encode()
_TEXT_SEED = "Halo dunia. 元宇宙和人工智能的未来。\nSecond line, café.\n"

SEEDS: dict[str, list[bytes]] = {
    ".txt": [
        _TEXT_SEED.encode("utf-8"),
        _TEXT_SEED.encode("utf-16"),
        _TEXT_SEED.encode("utf-16-le"),
        "Café, naïve résumé.".encode("cp1252"),
    ],
    ".md": [("---\ntitle: Seed\n---\n# Heading\n\n" + _TEXT_SEED).encode()],
    ".html": [_HTML_SEED],
    ".pdf": [],  # filled lazily (reportlab)
    ".docx": [],
}


def _seeds(suffix: str) -> list[bytes]:
    if suffix == ".pdf":
        return [_pdf_seed()]
    if suffix == ".docx":
        return [_docx_seed()]
    if suffix in (".markdown",):
        return SEEDS[".md"]
    if suffix in (".htm",):
        return SEEDS[".html"]
    return SEEDS.get(suffix, SEEDS[".txt"])


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few bytes overwritten, a slice cut out, or truncated."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if data and draw(st.booleans()):
        a = draw(st.integers(0, len(data) - 1))
        b = draw(st.integers(a, min(len(data), a + 64)))
        del data[a:b]
    if data and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def _any_bytes(suffix: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=500).map(lambda s: s.encode("utf-8", "surrogatepass")),
        mutated(_seeds(suffix)),
    )


def _check_loaded(doc: LoadedDocument) -> None:
    assert isinstance(doc.text, str) and doc.text.strip()
    assert isinstance(doc.title, str)
    for page_no, start, end in doc.pages:
        assert page_no >= 1 and 0 <= start <= end <= len(doc.text)


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_loaders_raise_only_document_error(suffix: str) -> None:
    name = f"fuzzed file{suffix}"

    @FUZZ
    @given(data=_any_bytes(suffix))
    def run(data: bytes) -> None:
        try:
            doc = load_bytes(data, name)
        except DocumentError as exc:
            assert str(exc).startswith(f"{name}: ")
            assert "\n" not in str(exc).strip()
        else:
            _check_loaded(doc)

    run()


def test_seeds_load() -> None:
    """The fuzz seeds are valid documents (so the mutations start from real structure)."""
    for suffix in sorted(SUPPORTED_SUFFIXES):
        for seed in _seeds(suffix):
            _check_loaded(load_bytes(seed, f"seed{suffix}"))


# chunker -----------------------------------------------------------------------------------

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
_TEXTS = st.one_of(
    st.text(max_size=1500),  # anything, control characters included
    st.text(alphabet=st.one_of(_CJK, st.sampled_from("。！？；，\n ")), max_size=1500),
    st.text(alphabet=_CJK, max_size=1500),  # CJK, no punctuation at all
    st.lists(st.sampled_from(["kecerdasan", "buatan", "GPU", "H100", "340.000", "Zuckerberg"])).map(
        " ".join
    ),  # words, no punctuation
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["x", "元", " ", "ab", "\u0301", "🙂"]),
        st.integers(0, 3000),
    ),
    st.lists(st.sampled_from(["Meta.", "Ya!", "Tidak?", " ", "\n", "\n\n", "...", "«»", "A"])).map(
        "".join
    ),
)


@FUZZ
@given(text=_TEXTS, size=st.integers(8, 80), overlap_frac=st.floats(0, 0.9))
def test_chunker_spans_are_exact_capped_ordered_and_cover_everything(
    text: str, size: int, overlap_frac: float
) -> None:
    overlap = min(size - 1, int(size * overlap_frac))
    spans = chunk_spans(text, size, overlap)
    covered = bytearray(len(text))
    prev = None
    for span in spans:
        piece = text[span.start : span.end]
        assert 0 <= span.start < span.end <= len(text)
        assert piece.strip(), (span, piece)
        assert span.tokens == count_tokens(piece) <= size, (span, piece)
        if prev is not None:
            assert prev.start < span.start and prev.end < span.end, (prev, span)
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
        prev = span
    missed = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not missed, (missed[:10], text[missed[0] : missed[0] + 20])
