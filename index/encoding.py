"""Bytes to text for plain-text formats: BOMs first, then UTF-8, then detection."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from core.errors import DocumentError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return b"\x00" in sample or controls / len(sample) > 0.1


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding). Raises DocumentError for binary data posing as text."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace"), enc
    # UTF-16 without a BOM: every other byte is NUL for Latin text. Checked before UTF-8,
    # because NUL bytes are valid UTF-8 and ASCII-range UTF-16 would decode "successfully".
    if len(data) >= 4 and len(data) % 2 == 0:
        if data[1::2].count(0) > len(data) // 4 and data[0::2].count(0) == 0:
            return data.decode("utf-16-le", errors="replace"), "utf-16-le"
        if data[0::2].count(0) > len(data) // 4 and data[1::2].count(0) == 0:
            return data.decode("utf-16-be", errors="replace"), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_binary(data):
        raise DocumentError(f"{name}: looks like binary data, not text")
    # UTF-8 with a few corrupt bytes (a truncated download, a bad copy): keep it UTF-8
    # with U+FFFD for the bad bytes, rather than reading all of it as mojibake or refusing
    # it. Legacy single-byte text has no valid multi-byte sequences, so it is not caught.
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    multibyte = sum(1 for ch in lenient if ord(ch) > 0x7F) - lenient.count("\ufffd")
    if bad * 20 <= multibyte:
        return lenient, "utf-8"
    encoding = _detect_legacy(data[:200_000])
    if encoding is None:
        raise DocumentError(f"{name}: cannot detect the text encoding")
    return data.decode(encoding, errors="replace"), encoding


def _detect_legacy(sample: bytes) -> str | None:
    """The most plausible legacy encoding. charset-normalizer's own `best()` ranks by
    "chaos" alone and picks e.g. cp1257 for French cp1252 text; among the near-equally
    clean candidates we take the most coherent one, preferring the common Western ones."""
    results = [m for m in from_bytes(sample) if m.encoding]
    if not results:
        return None
    least = min(m.chaos for m in results)
    close = [m for m in results if m.chaos <= least + 0.05]
    preferred = ("cp1252", "latin_1", "iso8859_15")

    def rank(m: object) -> tuple[float, int]:
        enc = getattr(m, "encoding", "")
        return (round(getattr(m, "coherence", 0.0), 2), int(enc in preferred))

    return str(max(close, key=rank).encoding)
