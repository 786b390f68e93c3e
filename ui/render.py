"""Turn answers, passages, documents and status into HTML for the page.

Every piece of text that comes from a document, a model or a user goes through
`html.escape` and is shown as text, never as HTML or Markdown: a document holding
`<script>` shows the tag literally. The only markup is what this module writes itself,
and its attributes carry numbers, never document text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from rag.citations import MARKER, marker_numbers
from rag.schema import Passage
from rag.terminal import safe_text
from ui.chat import ChatTurn, DocumentView

# [1], [1, 2], [1][2] (two matches), 【1】, 【1，2】
CITE_RE = MARKER  # the answer checker's own marker grammar, so what it counts is linked

MODE_LABELS = {
    "llm": "answer written by {model}",
    "extractive": "no language model used: quoted passages",
    "abstain": "no relevant passage found",
}

EXAMPLE_QUESTION = "how many H100s does Meta plan to have?"


def esc(value: object) -> str:
    """HTML-escaped, with control characters (ESC, CR, bidi overrides) shown as visible
    escapes like `\\x1b`, as the terminal shows them."""
    return escape(safe_text(str(value)), quote=True)


def _marker_numbers(match: re.Match[str]) -> list[int]:
    return marker_numbers(match.group("body"))


def cite_link(turn: int, n: int) -> str:
    return (
        f'<a href="#" class="cite" data-turn="{turn}" data-n="{n}" '
        f'title="show passage {n} in its document">[{n}]</a>'
    )


def render_inline(text: str, turn: int, valid: set[int]) -> str:
    """Escape `text`, turning each marker that names a passage into a link."""
    out: list[str] = []
    pos = 0
    for match in CITE_RE.finditer(text):
        out.append(esc(text[pos : match.start()]))
        numbers = _marker_numbers(match)
        if numbers and all(n in valid for n in numbers):
            out.append("".join(cite_link(turn, n) for n in numbers))
        else:
            out.append(esc(match.group(0)))
        pos = match.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _unsupported_spans(text: str, sentences: Sequence[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        needle = sentence.strip()
        if not needle:
            continue
        at = text.find(needle)
        while at >= 0 and any(a < at + len(needle) and at < b for a, b in spans):
            at = text.find(needle, at + 1)
        if at >= 0:
            spans.append((at, at + len(needle)))
    return sorted(spans)


def render_answer_text(
    text: str, turn: int, valid: set[int], unsupported: Sequence[str] = ()
) -> str:
    """The answer as escaped text with linked markers; unsupported sentences marked."""
    out: list[str] = []
    pos = 0
    for a, b in _unsupported_spans(text, unsupported):
        out.append(render_inline(text[pos:a], turn, valid))
        out.append(
            '<span class="unsupported" title="not supported by the passages it cites">'
            f"{render_inline(text[a:b], turn, valid)}"
            '<span class="unsupported-tag">unsupported</span></span>'
        )
        pos = b
    out.append(render_inline(text[pos:], turn, valid))
    return "".join(out)


def _score(value: float) -> str:
    return f"{value:.3f}"


def render_sources(passages: Sequence[Passage], turn: int, cited: set[int]) -> str:
    if not passages:
        return ""
    items = []
    for p in passages:
        page = f" · p. {p.page}" if p.page else ""
        snippet = " ".join(p.text.split())
        if len(snippet) > 220:
            snippet = snippet[:220] + "…"
        css = "src cited" if p.n in cited else "src"
        items.append(
            f'<li class="{css}" data-n="{p.n}">{cite_link(turn, p.n)} '
            f'<span class="src-title">{esc(p.title)}</span>'
            f'<span class="src-meta"> · {esc(p.lang)} · {esc(p.source)}{esc(page)}'
            f" · score {esc(_score(p.score))}</span>"
            f'<div class="src-snippet">{esc(snippet)}</div></li>'
        )
    n_cited = len(cited & {p.n for p in passages})
    label = f"Sources: {len(passages)} passages" + (f", {n_cited} cited" if n_cited else "")
    return (
        f'<details class="sources" open><summary>{esc(label)}</summary>'
        f'<ol class="src-list">{"".join(items)}</ol></details>'
    )


def answer_markdown(turn: ChatTurn) -> str:
    """An answer with its sources, as Markdown to paste elsewhere."""
    lines = [f"**Q:** {turn.question.strip()}", "", turn.text.strip() or "_(no answer)_", ""]
    cited = [p for p in turn.passages if p.n in turn.cited] or list(turn.passages)
    if cited:
        lines.append("**Sources**")
        lines.append("")
        for p in cited:
            page = f", p. {p.page}" if p.page else ""
            quote = " ".join(p.text.split())
            if len(quote) > 300:
                quote = quote[:300] + "…"
            lines.append(
                f"[{p.n}] {p.title} ({p.lang}), `{p.source}`{page}, chars {p.start}–{p.end}"
            )
            lines.append(f"> {quote}")
            lines.append("")
    if turn.mode == "extractive":
        lines.append("_No language model was used: the answer quotes the passages._")
    elif turn.model:
        lines.append(f"_Answer written by {turn.model}._")
    return "\n".join(lines).rstrip() + "\n"


def render_turn(turn: ChatTurn, index: int) -> str:
    valid = {p.n for p in turn.passages}
    parts = [
        f'<div class="turn" id="turn-{index}" data-turn="{index}">',
        f'<div class="q"><span class="who">You</span><div class="q-text">{esc(turn.question)}</div>'
        "</div>",
        f'<div class="a{"" if turn.done else " streaming"} mode-{esc(turn.mode or "pending")}">',
    ]
    if turn.mode:
        label = MODE_LABELS.get(turn.mode, turn.mode).format(model=turn.model or "the model")
        parts.append(f'<div class="badge">{esc(label)}</div>')
    if turn.standalone_question and turn.standalone_question.strip() != turn.question.strip():
        parts.append(f'<div class="standalone">searched for: {esc(turn.standalone_question)}</div>')
    if turn.notice:
        parts.append(f'<div class="notice">{esc(turn.notice)}</div>')
    if not turn.text and not turn.done:
        body = '<span class="thinking">searching…</span>'
    else:
        body = render_answer_text(turn.text, index, valid, turn.unsupported if turn.done else ())
    cursor = '<span class="cursor">▍</span>' if not turn.done and turn.text else ""
    parts.append(f'<div class="answer-text">{body}{cursor}</div>')
    if turn.error:
        parts.append(f'<div class="error">error: {esc(turn.error)}</div>')
    if turn.done and turn.unsupported:
        k = len(turn.unsupported)
        parts.append(
            f'<div class="check-note">{k} sentence{"s" if k != 1 else ""} not backed by the '
            'passages they cite (marked <span class="unsupported-tag">unsupported</span>).'
            "</div>"
        )
    if turn.done and turn.invalid_markers:
        shown = ", ".join(turn.invalid_markers)
        parts.append(
            f'<div class="check-note">removed citation markers that point to no passage: '
            f"{esc(shown)}</div>"
        )
    parts.append(render_sources(turn.passages, index, turn.cited))
    if turn.done and not turn.error:
        parts.append(
            '<div class="actions"><button type="button" class="copy-md">Copy as Markdown'
            '</button><span class="copied" hidden>copied</span>'
            f'<textarea class="md" hidden readonly>{esc(answer_markdown(turn))}</textarea>'
            "</div>"
        )
    parts.append("</div></div>")
    return "".join(parts)


def render_transcript(turns: Sequence[ChatTurn]) -> str:
    if not turns:
        return (
            '<div class="transcript empty"><p class="hint">Ask a question about your documents, '
            f"in any language, e.g. <q>{esc(EXAMPLE_QUESTION)}</q>. Every claim in the answer "
            "carries a number: click it to see the passage inside its document.</p></div>"
        )
    return (
        '<div class="transcript">'
        + "".join(render_turn(t, i) for i, t in enumerate(turns))
        + "</div>"
    )


def render_document(view: DocumentView) -> str:
    p = view.passage
    text = view.text
    before = text[: view.start]
    span = text[view.start : view.end]
    after = text[view.end :]
    if view.offset:
        before = f"[… {view.offset:,} characters before]\n" + before
    tail = view.total - view.offset - len(text)
    if tail > 0:
        after = after + f"\n[… {tail:,} characters after]"
    page = f" · p. {p.page}" if p.page else ""
    head = (
        f'<div class="doc-head"><span class="doc-n">[{p.n}]</span> '
        f'<span class="doc-title">{esc(p.title)}</span>'
        f'<div class="doc-meta">{esc(p.lang)} · {esc(p.source)}{esc(page)} · characters '
        f"{p.start:,}–{p.end:,} · score {esc(_score(p.score))}</div></div>"
    )
    note = f'<div class="notice">{esc(view.note)}</div>' if view.note else ""
    return (
        f'<div class="docview" data-n="{p.n}">{head}{note}'
        f'<div class="doc-text">{esc(before)}<mark class="cited" id="cited-span">{esc(span)}'
        f"</mark>{esc(after)}</div></div>"
    )


def render_viewer_message(message: str) -> str:
    return f'<div class="docview empty"><p class="hint">{esc(message)}</p></div>'


VIEWER_HINT = "Click a citation number such as [1] to see the passage inside its document."


def render_status(status: dict[str, Any], settings_model: str) -> str:
    """One compact line: the answer model, the embedder, the index size."""
    ol = status.get("ollama", {})
    emb = status.get("embedder", {})
    if ol.get("reachable"):
        if status.get("llm", {}).get("available"):
            model = f"model {settings_model} via Ollama at {ol.get('host')}"
        else:
            model = f"model {settings_model} not pulled in Ollama at {ol.get('host')}"
    else:
        model = "no language model (Ollama not reachable): model-free answers"
    langs = ", ".join(f"{k} {v}" for k, v in status.get("languages", {}).items()) or "none"
    items = [
        model,
        f"embedder {emb.get('kind')} {emb.get('model')} (dim {emb.get('dim') or '?'})",
        f"index {status.get('documents', 0)} documents, {status.get('chunks', 0)} chunks ({langs})",
        f"store {status.get('store')} at {status.get('store_location')}",
    ]
    dense = status.get("dense") or {}
    if dense and not dense.get("on"):
        items.append(f"dense search off: {dense.get('reason')} (answers use BM25 only)")
    elif dense.get("reason"):
        items.append(f"dense search: {dense.get('reason')}")
    lexical_problem = (status.get("lexical") or {}).get("problem")
    if lexical_problem:
        items.append(f"lexical index: {lexical_problem}")
    lis = "".join(f"<li>{esc(x)}</li>" for x in items)
    note = status.get("embedder_note")
    extra = f'<div class="status-note">{esc(note)}</div>' if note else ""
    return f'<div class="status"><ul>{lis}</ul>{extra}</div>'


def render_banner(status: dict[str, Any], llm_model: str, embed_model: str) -> str:
    """The model-free banner when Ollama is unreachable (or the model is not pulled)."""
    ol = status.get("ollama", {})
    host = ol.get("host", "")
    if not ol.get("reachable"):
        commands = ["ollama serve", f"ollama pull {llm_model}", f"ollama pull {embed_model}"]
        cmds = "".join(f"<li><code>{esc(c)}</code></li>" for c in commands)
        return (
            '<div class="banner model-free" role="status"><strong>Model-free mode.</strong> '
            f"No language model is reachable at {esc(host)}, so answers quote the most "
            "relevant passages verbatim, with their citations. To have a local model write "
            f"the answers, run:<ol>{cmds}</ol>then press “Refresh status” (or set "
            "<code>OLLAMA_HOST</code> to point at another Ollama).</div>"
        )
    if not status.get("llm", {}).get("available"):
        return (
            '<div class="banner model-missing" role="status"><strong>Model not pulled.</strong> '
            f"Ollama is running at {esc(host)} but has no {esc(llm_model)}: run "
            f"<code>{esc(f'ollama pull {llm_model}')}</code>, or pick another model below. "
            "Until then answers are model-free.</div>"
        )
    return ""
