"""Text from documents, titles and questions, made safe for a terminal.

A passage can hold escape sequences (`\\x1b]0;title\\x07`, `\\x1b[2J`), carriage returns that
overwrite a line, or bidirectional overrides that reorder what is shown. Printed as they
are, they act on the user's terminal. Here every such character becomes a visible escape
(`\\x1b`, `\\u202e`); newlines and tabs stay, so answers keep their shape.
"""

from __future__ import annotations

import re
from typing import Any, TextIO, cast

# C0 controls but tab and newline, DEL and C1 controls, bidi embeddings/overrides/isolates
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """`text` with every terminal-controlling character shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def one_line(text: str) -> str:
    """`safe_text`, and newlines and tabs escaped too: a message that stays one line."""
    return safe_text(text).replace("\n", "\\n").replace("\t", "\\t")


class _SafeStream:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(safe_text(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def safe_stream(stream: TextIO) -> TextIO:
    """A stream whose writes go through `safe_text` (print(..., file=...) works on it)."""
    return cast(TextIO, _SafeStream(stream))
