"""Reasoning text removed from a model's reply.

Every chat request asks for no thinking (`think: false` to Ollama), but a model whose
template does not know the switch (or a server that ignores it) still writes its
reasoning inside the text, between `<think>` and `</think>`. That text is not the answer:
it would be shown, cited-checked and, for a condensed follow-up, searched for. `ThinkFilter`
removes it from a stream whose chunks may split a tag anywhere; `strip_think` does the
same for a whole reply.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkFilter:
    """Feed stream chunks in order; get back the text outside <think>…</think>.

    Text that could be the start of a tag is held back until the next chunk decides; an
    unclosed <think> swallows the rest of the reply (it was all reasoning).
    """

    def __init__(self) -> None:
        self._inside = False
        self._pending = ""
        self._started = False  # some visible non-blank text was returned

    def feed(self, chunk: str) -> str:
        text = self._pending + chunk
        self._pending = ""
        out: list[str] = []
        while text:
            tag = CLOSE if self._inside else OPEN
            i = text.find(tag)
            if i >= 0:
                if not self._inside:
                    out.append(text[:i])
                text = text[i + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(text, tag)
            if not self._inside:
                out.append(text[: len(text) - keep])
            self._pending = text[len(text) - keep :]
            break
        visible = "".join(out)
        if not self._started:
            visible = visible.lstrip()  # the blank lines a reasoning block leaves behind
            self._started = bool(visible)
        return visible

    def flush(self) -> str:
        """The held-back text at the end of the stream (never reasoning)."""
        pending, self._pending = self._pending, ""
        if self._inside:
            return ""
        return pending if self._started else pending.lstrip()


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


def strip_think(text: str) -> str:
    """`text` without its <think>…</think> blocks (an unclosed one runs to the end)."""
    f = ThinkFilter()
    return f.feed(text) + f.flush()
