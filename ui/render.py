"""Turn answers, passages, documents and status into HTML for the page.

Every piece of text that comes from a document, a model or a user goes through
`html.escape` and is shown as text, never as HTML or Markdown: a document holding
`<script>` shows the tag literally. The only markup is what this module writes itself,
and its attributes carry numbers, never document text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from html import escape
from typing import Any

from index.language import detect_language, language_key
from rag.abstain import abstain_head
from rag.citations import MARKER, marker_numbers
from rag.compound import missing_parts
from rag.extractive import also_label, holds_quotation, said_by_label, shown
from rag.extractive import quoted as quote_text
from rag.schema import ATTRIBUTION, PART, Passage, Quote
from rag.terminal import safe_text
from ui.chat import ChatTurn, DocumentView, file_name

# [1], [1, 2], [1][2] (two matches), 【1】, 【1，2】
CITE_RE = MARKER  # the answer checker's own marker grammar, so what it counts is linked

# The badge over an answer, in the question's language (the languages an abstention is
# worded in, `rag.abstain.ABSTAIN_HEAD`; any other: English): the answer below it is in
# that language, and an English badge over it read as a second voice. "model": what
# "{model}" says when the answer names none.
MODE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "llm": "answer written by {model}",
        "extractive": "no language model used: quoted passages",
        "abstain": "not in your documents",
        "model": "the model",
    },
    "id": {
        "llm": "jawaban ditulis oleh {model}",
        "extractive": "tanpa model bahasa: kutipan dari dokumen",
        "abstain": "tidak ada di dokumen Anda",
        "model": "model bahasa",
    },
    "zh": {
        "llm": "由 {model} 撰写的回答",
        "extractive": "未使用语言模型：引用原文段落",
        "abstain": "不在您的文档中",
        "model": "语言模型",
    },
    "vi": {
        "llm": "câu trả lời do {model} viết",
        "extractive": "không dùng mô hình ngôn ngữ: trích dẫn các đoạn văn",
        "abstain": "không có trong tài liệu của bạn",
        "model": "mô hình ngôn ngữ",
    },
}

EXAMPLE_QUESTION = "how many H100s does Meta plan to have?"
EXAMPLE_QUESTIONS = (
    EXAMPLE_QUESTION,
    "Siapa pendiri dan CEO Character.AI?",
    "Llama 3.1最大的版本有多少参数?",
)
_LIST_ITEM = re.compile(r"^\s*(?:(?P<bullet>[-*•])|(?P<number>\d{1,3})[.)])\s+")


def esc(value: object) -> str:
    """HTML-escaped, with control characters (ESC, CR, bidi overrides) shown as visible
    escapes like `\\x1b`, as the terminal shows them."""
    return escape(safe_text(str(value)), quote=True)


_COMMAND = re.compile(r"`([^`\n]+)`")


def esc_message(value: object) -> str:
    """A message written for the command line and the page alike ("run `rag ingest`"),
    escaped, its `commands` shown as code rather than between backticks."""
    return _COMMAND.sub(r"<code>\1</code>", esc(value))


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


def _render_line(text: str, turn: int, valid: set[int], unsupported: Sequence[str]) -> str:
    """One line: escaped text with linked markers; unsupported sentences marked."""
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


def render_answer_text(
    text: str, turn: int, valid: set[int], unsupported: Sequence[str] = ()
) -> str:
    """The answer as escaped text with linked markers, unsupported sentences marked, and
    its lists as real lists: lines starting "- ", "* " or "1. " become <ul>/<ol> items,
    blank lines separate paragraphs. No other Markdown is interpreted."""
    blocks: list[str] = []
    items: list[str] = []
    kind = ""
    para: list[str] = []

    def flush_list() -> None:
        nonlocal items, kind
        if items:
            blocks.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
        items, kind = [], ""

    def flush_para() -> None:
        nonlocal para
        if para:
            blocks.append('<p class="para">' + "<br>".join(para) + "</p>")
        para = []

    for line in text.split("\n"):
        m = _LIST_ITEM.match(line)
        if m:
            flush_para()
            want = "ol" if m.group("number") else "ul"
            if kind and kind != want:
                flush_list()
            kind = want
            items.append(_render_line(line[m.end() :], turn, valid, unsupported))
        elif not line.strip():
            flush_list()
            flush_para()
        else:
            flush_list()
            para.append(_render_line(line, turn, valid, unsupported))
    flush_list()
    flush_para()
    return "".join(blocks)


def render_quote(q: Quote, turn: int, valid: set[int]) -> str:
    link = cite_link(turn, q.n) if q.n in valid else esc(f"[{q.n}]")
    # (single quotation marks around a sentence holding double ones: `quoted`)
    inner = " inner" if holds_quotation(q.text) else ""
    return f'<q class="quote{inner}">{esc(shown(q.text))}</q> {link}'


def render_answer_first(turn: ChatTurn, index: int, valid: set[int]) -> str:
    """A model-free answer, answer first: the value asked for, the best sentence quoted,
    the sentence naming who said it (if that was asked), then the sentences that agree
    with it."""
    best = turn.quotes[0]
    lang = _question_language(turn.question)  # (the answer's own words: in its language)
    rest = [q for q in turn.quotes[1:] if q.role not in (ATTRIBUTION, PART)]
    parts = ['<div class="answer-first">']
    value = turn.value or best.value  # (a later part's, when the first found nothing)
    if value:
        parts.append(f'<div class="value">{esc(value)}</div>')
    parts.append(f'<blockquote class="best">{render_quote(best, index, valid)}</blockquote>')
    for q in turn.quotes[1:]:
        if q.role == ATTRIBUTION:
            said = render_quote(q, index, valid)
            parts.append(f'<div class="said-by">{esc(said_by_label(lang))} {said}</div>')
        elif q.role == PART:  # the answer to the question's next part
            if q.value:
                parts.append(f'<div class="value">{esc(q.value)}</div>')
            quote = render_quote(q, index, valid)
            parts.append(f'<blockquote class="best part">{quote}</blockquote>')
    for line in missing_parts(turn.text):  # a part of the question nothing answers
        parts.append(f'<div class="part-missing">{esc(line)}</div>')
    if rest:
        items = "".join(f"<li>{render_quote(q, index, valid)}</li>" for q in rest)
        also = esc(also_label(lang))
        parts.append(f'<div class="also">{also}</div><ul class="also-list">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


def render_sources(
    passages: Sequence[Passage],
    turn: int,
    cited: set[int],
    quotes: Sequence[Quote] = (),
    *,
    related: str | None = None,
) -> str:
    """The numbered sources: a cited one shows the sentence the answer quotes from it; the
    others their opening words. `related`: an abstention lists the closest passages as
    related, not as sources of an answer, under this title."""
    if not passages:
        return ""
    quoted: dict[int, list[Quote]] = {}
    for q in quotes:
        quoted.setdefault(q.n, []).append(q)
    items = []
    for p in passages:
        page = next((q.page for q in quoted.get(p.n, []) if q.page), p.page)
        where = f" · p. {page}" if page else ""
        if quoted.get(p.n):
            snippet = " … ".join(quote_text(q.text) for q in quoted[p.n])
            css = "src cited quoted"
        else:
            snippet = " ".join(p.text.split())
            if len(snippet) > 160:
                snippet = snippet[:160] + "…"
            css = "src cited" if p.n in cited else "src"
        if related:
            css += " related"
        items.append(
            f'<li class="{css}" data-n="{p.n}">{cite_link(turn, p.n)} '
            f'<span class="src-title">{esc(p.title)}</span>'
            f'<span class="src-meta"> · {esc(p.lang)} · {esc(file_name(p.source))}{esc(where)}'
            "</span>"
            f'<div class="src-snippet">{esc(snippet)}</div></li>'
        )
    if related:
        label = related
        listed, more = items, []
    else:
        n_cited = len(cited & {p.n for p in passages})
        label = f"Sources: {len(passages)} passages" + (f", {n_cited} cited" if n_cited else "")
        # the cited ones first and in view; the rest folded away
        listed = [i for i, p in zip(items, passages, strict=True) if p.n in cited] or items
        more = [i for i in items if i not in listed]
    folded = (
        f'<details class="more-sources"><summary>{len(more)} more passage'
        f"{'s' if len(more) != 1 else ''}, not cited</summary>"
        f'<ol class="src-list">{"".join(more)}</ol></details>'
        if more
        else ""
    )
    return (
        f'<details class="sources{" related" if related else ""}" open>'
        f"<summary>{esc(label)}</summary>"
        f'<ol class="src-list">{"".join(listed)}</ol>{folded}</details>'
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
            quotes = turn.quotes_in(p.n)
            if quotes:
                quote = " … ".join(shown(q.text) for q in quotes)
                start, end = quotes[0].start, quotes[-1].end
            else:
                quote = " ".join(p.text.split())
                if len(quote) > 300:
                    quote = quote[:300] + "…"
                start, end = p.start, p.end
            lines.append(
                f"[{p.n}] {p.title} ({p.lang}), `{file_name(p.source)}`{page}, chars {start}–{end}"
            )
            lines.append(f"> {quote}")
            lines.append("")
    if turn.mode == "extractive":
        lines.append("_No language model was used: the answer quotes the passages._")
    elif turn.model:
        lines.append(f"_Answer written by {turn.model}._")
    return "\n".join(lines).rstrip() + "\n"


QUESTION_SHOWN_CHARS = 600  # a longer question (a pasted document) is shown cut


def shown_question(question: str) -> str:
    """The question as the transcript shows it: a pasted page would push its answer (or
    the error saying it is too long) out of view. Its length is counted as the limit
    counts it (`rag.schema.too_long`), without the spaces around it."""
    question = question.strip()
    if len(question) <= QUESTION_SHOWN_CHARS:
        return question
    return f"{question[:QUESTION_SHOWN_CHARS].rstrip()}… ({len(question):,} characters)"


@functools.lru_cache(maxsize=64)
def _question_language(question: str) -> str:
    """The question's language (`language_key`), read once per question (the whole
    transcript is rendered again for every streamed token)."""
    return language_key(detect_language(question))


def mode_label(mode: str, lang: str, model: str | None = None) -> str:
    """The badge over an answer given in `mode`, in `lang` (English for a language
    `MODE_LABELS` has no words for); an unknown mode is shown as it is."""
    words = MODE_LABELS.get(language_key(lang), MODE_LABELS["en"])
    return words.get(mode, mode).format(model=model or words["model"])


def render_turn(turn: ChatTurn, index: int) -> str:
    valid = {p.n for p in turn.passages}
    abstaining = turn.mode == "abstain"  # the sources came: related ones, even while it streams
    # in the question's language, as the abstention's own words are (`Answerer`)
    lang = _question_language(turn.question)
    head, related = abstain_head(lang) if abstaining else ("", "")
    question = esc(shown_question(turn.question))
    parts = [
        f'<div class="turn" id="turn-{index}" data-turn="{index}">',
        f'<div class="q"><span class="who">You</span><div class="q-text">{question}</div></div>',
        f'<div class="a{"" if turn.done else " streaming"} mode-{esc(turn.mode or "pending")}">',
    ]
    if turn.mode:
        label = mode_label(turn.mode, lang, turn.model)
        # why no model was used is said once, by the banner; here only on hover
        title = f' title="{esc(turn.notice)}"' if turn.notice else ""
        parts.append(f'<div class="badge"{title}>{esc(label)}</div>')
    if turn.standalone_question and turn.standalone_question.strip() != turn.question.strip():
        parts.append(f'<div class="standalone">searched for: {esc(turn.standalone_question)}</div>')
    if turn.notice and turn.mode == "llm":
        parts.append(f'<div class="notice">{esc(turn.notice)}</div>')
    if not turn.text and not turn.done:
        body = '<span class="thinking">searching…</span>'
    elif turn.done and abstaining:
        body = (
            f'<div class="abstain"><strong class="abstain-head">{esc(head)}</strong> '
            f"{render_answer_text(turn.text, index, set())}</div>"
        )
    elif turn.done and turn.mode == "extractive" and turn.quotes:
        body = render_answer_first(turn, index, valid)
    else:
        body = render_answer_text(turn.text, index, valid, turn.unsupported if turn.done else ())
    cursor = '<span class="cursor">▍</span>' if not turn.done and turn.text else ""
    parts.append(f'<div class="answer-text">{body}{cursor}</div>')
    if turn.error:
        parts.append(f'<div class="error">error: {esc_message(turn.error)}</div>')
    if turn.done and turn.unsupported:
        k = len(turn.unsupported)
        parts.append(
            f'<div class="check-note">{k} sentence{"s" if k != 1 else ""} not backed by the '
            'passages they cite (marked <span class="unsupported-tag">unsupported</span>).'
            "</div>"
        )
    if turn.done and turn.invalid_markers:
        shown_markers = ", ".join(turn.invalid_markers)
        parts.append(
            f'<div class="check-note">removed citation markers that point to no passage: '
            f"{esc(shown_markers)}</div>"
        )
    parts.append(
        render_sources(
            turn.passages, index, turn.cited, turn.quotes, related=related if abstaining else None
        )
    )
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
        examples = "".join(
            f'<li><button type="button" class="example" data-q="{esc(q)}">{esc(q)}</button></li>'
            for q in EXAMPLE_QUESTIONS
        )
        return (
            '<div class="transcript empty"><p class="hint">Ask a question about your documents, '
            "in any language. Every claim in the answer carries a number: click it to see the "
            "quoted sentence inside its document. Try:</p>"
            f'<ul class="examples">{examples}</ul></div>'
        )
    return (
        '<div class="transcript">'
        + "".join(render_turn(t, i) for i, t in enumerate(turns))
        + "</div>"
    )


def render_document(view: DocumentView) -> str:
    """The document around a cited passage: the passage lightly shaded, each sentence the
    answer quotes from it highlighted (`mark.cited`; the whole passage when no sentence
    is known), the rest of the document plain."""
    p = view.passage
    text = view.text
    before = text[: view.start]
    after = text[view.end :]
    if view.offset:
        before = f"[… {view.offset:,} characters before]\n" + before
    tail = view.total - view.offset - len(text)
    if tail > 0:
        after = after + f"\n[… {tail:,} characters after]"
    inside: list[str] = []
    pos = view.start
    quotes = [(a, b) for a, b in view.quotes if view.start <= a < b <= view.end]
    if not quotes:
        inside.append(
            f'<mark class="cited" id="cited-span">{esc(text[view.start : view.end])}</mark>'
        )
    else:
        for i, (a, b) in enumerate(quotes):
            if a < pos:
                continue
            ident = ' id="cited-span"' if i == 0 else ""
            inside.append(esc(text[pos:a]))
            inside.append(f'<mark class="cited"{ident}>{esc(text[a:b])}</mark>')
            pos = b
        inside.append(esc(text[pos : view.end]))
    where = f" · p. {p.page}" if p.page else ""
    what = "the quoted sentence highlighted" if quotes else "the passage highlighted"
    head = (
        f'<div class="doc-head"><span class="doc-n">[{p.n}]</span> '
        f'<span class="doc-title">{esc(p.title)}</span>'
        f'<div class="doc-meta">{esc(p.lang)} · {esc(file_name(p.source))}{esc(where)} · '
        f"{esc(what)}</div></div>"
    )
    note = f'<div class="notice">{esc(view.note)}</div>' if view.note else ""
    return (
        f'<div class="docview" data-n="{p.n}">{head}{note}'
        f'<div class="doc-text"><span class="doc-out">{esc(before)}</span>'
        f'<span class="passage">{"".join(inside)}</span>'
        f'<span class="doc-out">{esc(after)}</span></div></div>'
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
    else:  # the banner says why and what to do: said once
        model = "model-free answers"
    langs = ", ".join(f"{k} {v}" for k, v in status.get("languages", {}).items()) or "none"
    items = [
        model,
        f"embedder {emb.get('kind')} {emb.get('model')} (dim {emb.get('dim') or '?'})",
        f"index {status.get('documents', 0)} documents, {status.get('chunks', 0)} chunks ({langs})",
        f"store {status.get('store')}",
    ]
    # a problem is marked: a phone-width window shows the first item and the problems
    # only (app.css; the Status tab has it all)
    problems = []
    dense = status.get("dense") or {}
    if dense and not dense.get("on"):
        problems.append(f"dense search off: {dense.get('reason')} (answers use BM25 only)")
    elif dense.get("reason"):
        problems.append(f"dense search: {dense.get('reason')}")
    lexical_problem = (status.get("lexical") or {}).get("problem")
    if lexical_problem:
        problems.append(f"lexical index: {lexical_problem}")
    lis = "".join(f"<li>{esc(x)}</li>" for x in items)
    lis += "".join(f'<li class="problem">{esc_message(x)}</li>' for x in problems)
    note = status.get("embedder_note") or ""
    if not ol.get("reachable"):  # the banner says Ollama is not reachable: not again here
        if note.startswith("Ollama is not reachable: using the bundled"):
            note = ""  # ... and the embedder item names the bundled model
        note = note.removeprefix("Ollama is not reachable; ")  # why the bundled one failed
    extra = f'<div class="status-note">{esc_message(note)}</div>' if note else ""
    return f'<div class="status"><ul>{lis}</ul>{extra}</div>'


def render_banner(status: dict[str, Any], llm_model: str, embed_model: str) -> str:
    """The one model-free notice, when Ollama is unreachable (or the model is not pulled):
    a small banner the user can dismiss, the commands folded away."""
    ol = status.get("ollama", {})
    host = ol.get("host", "")
    close = (
        '<button type="button" class="banner-close" title="dismiss" aria-label="dismiss">×</button>'
    )
    if not ol.get("reachable"):
        commands = ["ollama serve", f"ollama pull {llm_model}", f"ollama pull {embed_model}"]
        cmds = "".join(f"<li><code>{esc(c)}</code></li>" for c in commands)
        return (
            f'<div class="banner model-free" role="status" data-kind="model-free">{close}'
            '<strong>Model-free mode.</strong> <span class="banner-why">No language model '
            f"is reachable at {esc(host)}: answers quote the most relevant sentences of your "
            "documents, with their citations.</span> <details><summary>Get written answers"
            "</summary>"
            f"Run<ol>{cmds}</ol>then press “Refresh status” on the Status tab (or set "
            "<code>OLLAMA_HOST</code> to point at another Ollama).</details></div>"
        )
    if not status.get("llm", {}).get("available"):
        return (
            f'<div class="banner model-missing" role="status" data-kind="model-missing">{close}'
            f"<strong>Model not pulled.</strong> Ollama is running at {esc(host)} but has no "
            f"{esc(llm_model)}: run <code>{esc(f'ollama pull {llm_model}')}</code>, or pick "
            "another model below. Until then answers are model-free.</div>"
        )
    return ""
