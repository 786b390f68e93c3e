"""The Gradio app: a chat whose answers stream in with linked citations, a viewer that
shows a cited passage inside its document, the index status, and a Documents tab.

Offline by construction: analytics are off (core.offline), the theme uses system fonts
only (no Google Fonts), our CSS is a local file and our JS is inline, and server-side
rendering, PWA, MCP and share links are off. The page loads nothing but this server.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.errors import RagError
from core.offline import configure_offline
from core.settings import Settings
from ui.chat import ChatBackend, ChatTurn, file_name, turns_from_json, turns_to_json
from ui.documents import (
    PROGRESS_PREFIX,
    allowed_types,
    delete_document,
    discard_skipped,
    forget_cached,
    ingest_with_progress,
    list_documents,
    save_uploads,
)
from ui.render import (
    VIEWER_HINT,
    esc,
    render_banner,
    render_document,
    render_status,
    render_transcript,
    render_viewer_message,
)
from ui.safety import LoginGuard, check_bind, check_port, url_for

configure_offline()

import gradio as gr  # noqa: E402  (after configure_offline: analytics off before import)

ASSETS = Path(__file__).resolve().parent / "assets"
_USER_GRADIO_TEMP = os.environ.get("GRADIO_TEMP_DIR")  # a user's own choice wins

SYSTEM_FONTS = [
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Noto Sans",
    "Helvetica Neue",
    "Arial",
    "sans-serif",
]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

# Delegated handlers on the transcript: a click on [n] asks the server for the passage
# view; "Copy as Markdown" copies the answer with its sources.
TRANSCRIPT_JS = """
// The chat takes the window's height, the question box's bottom at the window's bottom:
// the CSS guess of the header's height was too small on a phone, where the header wraps
// (the box fell below the fold, and an answer's first line above it). Some slack is
// left below it: a page that just fills the window scrolls on the least change.
function fit() {
  const box = element.querySelector('.transcript');
  const row = document.querySelector('#ask-row');
  if (!box || !row) return;
  const top = box.getBoundingClientRect().top + window.scrollY;
  const below = row.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom;
  box.style.minHeight = '200px';
  box.style.height = Math.max(200, window.innerHeight - top - below - 48) + 'px';
}
window.addEventListener('resize', fit);
// ... and again whenever the page's layout changes (a banner or the status line arriving
// after load pushed the box down)
let fitting = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(fitting);
  fitting = requestAnimationFrame(fit);
}).observe(document.body);
// Each update re-renders the transcript: keep the latest question at the top of the view.
watch('value', () => {
  fit();
  const box = element.querySelector('.transcript');
  const turns = element.querySelectorAll('.turn');
  if (!box || !turns.length) return;
  const last = turns[turns.length - 1];
  box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
});
element.addEventListener('click', (event) => {
  const example = event.target.closest('button.example');
  if (example) {  // an example question: type it into the box and ask it
    const box = document.querySelector('#question textarea');
    if (!box) return;
    box.value = example.dataset.q;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => document.querySelector('#ask').click(), 100);
    return;
  }
  const cite = event.target.closest('a.cite');
  if (cite) {
    event.preventDefault();
    element.querySelectorAll('a.cite.active').forEach((a) => a.classList.remove('active'));
    cite.classList.add('active');
    window.ragCiteClicked = Date.now();
    trigger('cite', {turn: Number(cite.dataset.turn), n: Number(cite.dataset.n)});
    return;
  }
  const copy = event.target.closest('button.copy-md');
  if (!copy) return;
  const box = copy.parentElement.querySelector('textarea.md');
  const text = box ? box.value : '';
  const done = () => {
    const note = copy.parentElement.querySelector('.copied');
    if (note) { note.hidden = false; setTimeout(() => { note.hidden = true; }, 2000); }
  };
  const fallback = () => {
    const tmp = document.createElement('textarea');
    tmp.value = text;
    tmp.setAttribute('readonly', '');
    tmp.style.position = 'fixed';
    tmp.style.opacity = '0';
    document.body.appendChild(tmp);
    tmp.select();
    try { document.execCommand('copy'); } finally { document.body.removeChild(tmp); }
    done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else {
    fallback();
  }
});
"""

# The viewer scrolls the highlighted span into view whenever it shows a new passage:
# inside its own box (the page stays put, header and tabs in view), and, after a click on
# [n] while the box is out of the window (a narrow window puts the viewer below the
# chat), the page as far as needed to show it.
VIEWER_JS = """
const show = () => {
  const mark = element.querySelector('mark.cited');
  const box = mark && mark.closest('.doc-text');
  if (!box) return;
  const m = mark.getBoundingClientRect();
  const b = box.getBoundingClientRect();
  box.scrollTop += m.top - b.top - Math.max(0, (box.clientHeight - m.height) / 2);
  // the page scrolls to the viewer after a click on [n] only, and only when the sentence
  // is out of the window (a narrow window puts it below the chat): the passage that
  // follows each new answer must not take a phone's window away from that answer, nor
  // a wide window's header out of view
  // (or the box is partly in the window but the highlighted sentence is not, wholly)
  const v = mark.getBoundingClientRect();
  const clicked = Date.now() - (window.ragCiteClicked || 0) < 5000;
  if (clicked && (v.top < 0 || v.bottom > window.innerHeight)) {
    window.ragCiteClicked = 0;
    mark.scrollIntoView({block: 'nearest', inline: 'nearest'});
  }
};
watch('value', show);
show();
"""


# The model-free banner: dismissed once, it stays dismissed (this browser) until the
# situation changes (another kind of banner).
BANNER_JS = """
const hide = () => {
  const banner = element.querySelector('.banner');
  let gone = null;
  try { gone = localStorage.getItem('rag-banner-dismissed'); } catch (e) {}
  if (banner && gone && gone === banner.dataset.kind) banner.hidden = true;
};
element.addEventListener('click', (event) => {
  const close = event.target.closest('.banner-close');
  if (!close) return;
  const banner = close.closest('.banner');
  banner.hidden = true;
  try { localStorage.setItem('rag-banner-dismissed', banner.dataset.kind || ''); } catch (e) {}
});
watch('value', hide);
hide();
"""

HISTORY_KEY = "rag-offline-conversation"


def theme() -> gr.themes.Base:
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)


class App:
    """The handlers behind the page, bound to one Settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend = ChatBackend(settings)
        self._status_lock = threading.Lock()
        self._views = itertools.count()

    # status ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        from rag.status import collect_status

        with self._status_lock:
            return collect_status(self.settings)

    def model_choices(
        self, status: dict[str, Any]
    ) -> tuple[list[str | tuple[str, str]], str | None, bool]:
        """(choices, selected, interactive) for the model picker, from /api/tags. With no
        model to pick, the configured one is shown as not available (the label says why)."""
        ol = status.get("ollama", {})
        wanted = self.settings.llm_model
        if self.settings.llm_backend != "ollama":
            return [wanted], wanted, False  # the server's model (RAG_LLM_MODEL)
        unavailable: list[str | tuple[str, str]] = [(f"{wanted} (not available)", wanted)]
        if not ol.get("reachable"):
            return unavailable, wanted, False
        embed = self.settings.embed_model
        models = [
            m
            # chat_models: what /api/tags says can chat (an embedding-only model cannot)
            for m in ol.get("chat_models", ol.get("models", []))
            if "embed" not in m.lower() and m not in (embed, f"{embed}:latest")
        ]
        if not models:
            return unavailable, wanted, False
        selected = next((m for m in models if m in (wanted, f"{wanted}:latest")), models[0])
        return list(models), selected, True

    def refresh(self) -> tuple[str, str, Any, str, Any, str]:
        """Status line, banner, model picker, documents table, delete picker, and the
        full status (what `rag status` prints) for the Status tab."""
        from rag.status import format_status

        st = self.status()
        choices, selected, interactive = self.model_choices(st)
        picker = gr.Dropdown(
            choices=choices,
            value=selected,
            interactive=interactive,
            label=model_label(st, interactive, self.settings.llm_backend),
        )
        table, delete_picker = self.documents()
        return (
            render_status(st, self.settings.llm_model),
            render_banner(st, self.settings.llm_model, self.settings.embed_model),
            picker,
            table,
            delete_picker,
            f'<pre class="status-detail">{esc(format_status(st))}</pre>',
        )

    # chat -----------------------------------------------------------------------------
    def ask(
        self, question: str, turns: list[ChatTurn] | None, model: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the transcript; the question box is cleared once, at the start, so
        the next question can be typed while this answer streams. When the answer is
        done, the viewer shows its first quoted sentence (it follows the newest answer)
        and the conversation is stored in the browser (it survives a reload)."""
        history = list(turns or [])
        skip = gr.skip()
        if not (question or "").strip():
            yield render_transcript(history), history, skip, skip, skip
            return
        clear: Any = ""
        current = history
        for turn in self.backend.ask(question, history, model=model, min_interval=0.05):
            current = [*history, turn]
            if turn.done:
                if turn.error and clear == "":
                    clear = skip  # refused at once (too long): kept in the box to edit
                break
            yield render_transcript(current), current, clear, skip, skip
            clear = skip
        yield (
            render_transcript(current),
            current,
            clear,
            self.follow(current),
            turns_to_json(current),
        )

    def follow(self, turns: Sequence[ChatTurn]) -> Any:
        """The viewer for the newest answer: its first quoted passage, the sentence
        highlighted; an abstention or an error leaves a hint."""
        if not turns:
            return render_viewer_message(VIEWER_HINT)
        index = len(turns) - 1
        turn = turns[index]
        first = turn.quotes[0].n if turn.quotes else min(turn.cited, default=None)
        if turn.error and not turn.passages:
            return render_viewer_message("This question got no answer: see the message under it.")
        if first is None or turn.mode == "abstain":
            return render_viewer_message(
                "This answer quotes no passage: its sources list shows the closest ones."
            )
        return self.view(turn, first)

    def view(self, turn: ChatTurn, n: int) -> str:
        passage = turn.passage(n)
        if passage is None:
            return render_viewer_message(f"Passage [{n}] is not among this answer's sources.")
        try:
            html = render_document(self.backend.document_view(passage, turn.quotes_in(n)))
        except RagError as exc:
            return render_viewer_message(str(exc))
        # a new value every time, so a second click on the same [n] scrolls to it again
        return f"{html}<!-- view {next(self._views)} -->"

    def cite(self, turns: list[ChatTurn] | None, evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            turn = (turns or [])[int(data.get("turn", -1))]
            n = int(data.get("n", -1))
        except (IndexError, TypeError, ValueError):
            return render_viewer_message("That answer is no longer in this conversation.")
        return self.view(turn, n)

    def restore(self, stored: Any) -> tuple[str, list[ChatTurn], str]:
        """The conversation kept in the browser, shown again after a reload."""
        turns = turns_from_json(stored)
        return render_transcript(turns), turns, self.follow(turns)

    def new_chat(self) -> tuple[str, list[ChatTurn], str, str, list[Any]]:
        return render_transcript([]), [], render_viewer_message(VIEWER_HINT), "", []

    def ask_new_chat(self, turns: list[ChatTurn] | None) -> tuple[Any, ...]:
        """Step one of "New chat", as a delete asks first: with a conversation to lose,
        ask for confirmation (saying how much would go); an empty chat is started afresh
        at once. (confirmation box, its message, then what `new_chat` gives)"""
        n = len(turns or [])
        if not n:
            return (gr.Column(visible=False), "", *self.new_chat())
        question = (
            f"Clear this conversation ({n} question{'s' if n != 1 else ''} and "
            f"{'their answers' if n != 1 else 'its answer'})? It cannot be brought back."
        )
        skip = gr.skip()
        return (
            gr.Column(visible=True),
            f'<p class="confirm-msg">{esc(question)}</p>',
            *(skip,) * 5,
        )

    def confirm_new_chat(self) -> tuple[Any, ...]:
        return (gr.Column(visible=False), "", *self.new_chat())

    def cancel_new_chat(self) -> tuple[Any, str]:
        return gr.Column(visible=False), ""

    # documents ------------------------------------------------------------------------
    def documents(self) -> tuple[str, Any]:
        docs = list_documents(self.settings)
        if not docs:
            table = '<p class="hint">No documents are indexed yet: upload some above.</p>'
        else:
            rows = "".join(
                f"<tr><td class='title'>{esc(d.title)}</td>"
                f"<td class='file'>{esc(file_name(d.source))}</td>"
                f"<td>{esc(d.lang)}</td><td class='num'>{d.n_chunks}</td>"
                f"<td class='format'>{esc(d.format)}</td>"
                f"<td class='num'>{d.size / 1024:,.1f} KB</td></tr>"
                for d in docs
            )
            total = sum(d.n_chunks for d in docs)
            # in a box of its own that scrolls sideways: a phone-width window squeezed
            # the columns to a few letters each
            table = (
                '<div class="docs-box"><table class="docs">'
                f"<caption>{len(docs)} documents, {total} chunks</caption>"
                "<thead><tr><th>Title</th><th>File</th><th>Language</th><th>Chunks</th>"
                "<th class='format'>Format</th><th>Size</th></tr></thead>"
                f"<tbody>{rows}</tbody></table></div>"
            )
        choices = [(f"{d.title} — {file_name(d.source)}", d.doc_id) for d in docs]
        picker = gr.Dropdown(choices=choices, value=None, interactive=bool(choices))
        return table, picker

    def upload(self, files: Sequence[str] | None) -> Iterator[tuple[Any, ...]]:
        """Save, ingest and report, streaming progress lines."""
        paths = [Path(f) for f in (files or [])]
        lines: list[str] = []

        def view(state: str = "running") -> str:
            items = "".join(f"<li>{esc(line)}</li>" for line in lines)
            return f'<div class="ingest-log {state}"><ul>{items}</ul></div>'

        skip = gr.skip()
        if not paths:
            yield view("idle"), skip, skip, skip, skip
            return
        lines.append(f"received {len(paths)} file(s)")
        yield view(), skip, skip, skip, skip
        saved = save_uploads([(p.name, p) for p in paths], self.settings)
        forget_cached(self.settings, paths)  # copied: no second copy stays downloadable
        for name, reason in saved.rejected:
            lines.append(f"rejected {name}: {reason}")
        for name, stored in saved.renamed:
            lines.append(f"{name}: a different file has that name: stored as {stored}")
        state = "done"
        if saved.saved:
            waiting = f"indexing {len(saved.saved)} file(s)…"
            lines.append(waiting)
            at = len(lines) - 1  # this line counts the seconds while the ingest works
            yield view(), skip, skip, skip, skip
            started = time.monotonic()
            try:
                for line, report in ingest_with_progress(self.settings, saved.saved):
                    if line.startswith(PROGRESS_PREFIX) and lines[-1].startswith(PROGRESS_PREFIX):
                        lines[-1] = line  # chunks, chunks/s and time left, updated in place
                    elif line:
                        lines.append(line)
                    elif report is None:
                        lines[at] = f"{waiting} {time.monotonic() - started:.0f} s"
                    if report is not None:
                        for source, reason in report.skipped:
                            lines.append(f"skipped {Path(source).name}: {reason}")
                        for name in discard_skipped(self.settings, saved.saved, report):
                            lines.append(f"removed {name} from the upload folder")
                        lines.append(report.summary())
                    yield view(), skip, skip, skip, skip
            except RagError as exc:
                lines.append(f"error: {exc}")
                state = "failed"
        elif saved.rejected:
            state = "failed"
        table, picker = self.documents()
        st = self.status()
        yield (
            view(state),
            table,
            picker,
            render_status(st, self.settings.llm_model),
            None,
        )

    def confirm_delete(self, doc_id: str | None) -> tuple[Any, str]:
        """Step one of a delete: ask for confirmation, naming the document."""
        docs = {d.doc_id: d for d in list_documents(self.settings)}
        doc = docs.get(doc_id or "")
        if doc is None:
            message = "pick a document to delete first"
            return gr.Row(visible=False), f'<p class="delete-msg">{esc(message)}</p>'
        question = (
            f"Delete {doc.title} ({file_name(doc.source)}) from the index? Its passages can no "
            "longer be found or cited."
        )
        return gr.Row(visible=True), f'<p class="delete-msg confirm">{esc(question)}</p>'

    def cancel_delete(self) -> tuple[Any, str]:
        return gr.Row(visible=False), '<p class="delete-msg">nothing was deleted</p>'

    def delete(self, doc_id: str | None) -> tuple[str, str, Any, str]:
        if not doc_id:
            message = "pick a document to delete first"
        else:
            try:
                message = delete_document(self.settings, doc_id)
            except RagError as exc:
                message = f"error: {exc}"
        table, picker = self.documents()
        st = self.status()
        return (
            f'<p class="delete-msg">{esc(message)}</p>',
            table,
            picker,
            render_status(st, self.settings.llm_model),
        )


def build_app(settings: Settings) -> gr.Blocks:
    app = App(settings)
    # Gradio keeps uploads in its own cache before our handler copies them: keep that
    # cache inside the data directory too (not /tmp/gradio), and clean it hourly.
    os.environ["GRADIO_TEMP_DIR"] = _USER_GRADIO_TEMP or str(
        (settings.data_dir / ".gradio").resolve()
    )
    demo = gr.Blocks(title="Ask your documents", analytics_enabled=False, delete_cache=(3600, 3600))
    with demo:
        turns = gr.State([])
        stored = gr.BrowserState([], storage_key=HISTORY_KEY)
        # the header: compact on a phone (app.css), where it took half the window
        with gr.Column(elem_id="header"):
            gr.HTML('<h1 class="app-title">Ask your documents</h1>', js_on_load=None)
            status_html = gr.HTML(
                '<div class="status">checking…</div>', elem_id="status", js_on_load=None
            )
            banner = gr.HTML("", elem_id="banner", js_on_load=BANNER_JS)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=360):
                    transcript = gr.HTML(
                        render_transcript([]),
                        elem_id="transcript",
                        js_on_load=TRANSCRIPT_JS,
                    )
                    # "New chat" asks here first, just above the question box (in
                    # view: the tools row under the box can be below the window's edge)
                    with gr.Column(visible=False, elem_id="new-chat-confirm") as new_confirm:
                        new_msg = gr.HTML("", elem_id="new-chat-msg", js_on_load=None)
                        with gr.Row():
                            new_yes = gr.Button(
                                "Yes, clear it", variant="stop", size="sm", elem_id="new-chat-yes"
                            )
                            new_no = gr.Button("Cancel", size="sm", elem_id="new-chat-no")
                    with gr.Row(elem_id="ask-row"):
                        question = gr.Textbox(
                            placeholder="Ask a question in any language…",
                            show_label=False,
                            lines=1,
                            max_lines=6,
                            scale=5,
                            elem_id="question",
                            autofocus=True,
                        )
                        ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    with gr.Row(elem_id="chat-tools"):
                        new_btn = gr.Button("New chat", size="sm", elem_id="new-chat")
                        model = gr.Dropdown(
                            choices=[settings.llm_model],
                            value=settings.llm_model,
                            label="Model (from Ollama)",
                            interactive=False,
                            elem_id="model",
                            scale=2,
                        )
                with gr.Column(scale=2, min_width=320):
                    viewer = gr.HTML(
                        render_viewer_message(VIEWER_HINT),
                        elem_id="viewer",
                        js_on_load=VIEWER_JS,
                    )
            with gr.Tab("Documents", id="documents"):
                upload = gr.File(
                    label=f"Add documents ({allowed_types()}; up to "
                    f"{settings.max_file_mb:g} MB each)",
                    file_count="multiple",
                    # no file_types: Gradio would refuse other files in a toast that
                    # fades, unnamed in the log; `upload` names each with its reason
                    type="filepath",
                    elem_id="upload",
                )
                upload_log = gr.HTML("", elem_id="upload-log", js_on_load=None)
                docs_table = gr.HTML("", elem_id="documents", js_on_load=None)
                with gr.Row():
                    delete_pick = gr.Dropdown(
                        choices=[], label="Document to delete", elem_id="delete-pick", scale=3
                    )
                    delete_btn = gr.Button(
                        "Delete from index", variant="stop", elem_id="delete", scale=1
                    )
                delete_msg = gr.HTML("", elem_id="delete-msg", js_on_load=None)
                with gr.Row(visible=False, elem_id="delete-confirm") as confirm_row:
                    confirm_btn = gr.Button(
                        "Yes, delete it", variant="stop", size="sm", elem_id="delete-yes"
                    )
                    cancel_btn = gr.Button("Cancel", size="sm", elem_id="delete-no")
            with gr.Tab("Status", id="status-tab"):
                refresh_btn = gr.Button("Refresh status", size="sm", elem_id="refresh")
                status_detail = gr.HTML("", elem_id="status-detail", js_on_load=None)
                gr.Markdown(
                    "Answers come from your documents only. With Ollama running, a local "
                    "model writes them; without it, the best passages are quoted verbatim "
                    "(model-free mode). Nothing leaves this machine."
                )

        refresh_outputs = [status_html, banner, model, docs_table, delete_pick, status_detail]
        demo.load(app.refresh, None, refresh_outputs, show_progress="hidden")
        demo.load(app.restore, [stored], [transcript, turns, viewer], show_progress="hidden")
        refresh_btn.click(app.refresh, None, refresh_outputs)
        gr.on(
            [question.submit, ask_btn.click],
            app.ask,
            [question, turns, model],
            [transcript, turns, question, viewer, stored],
            concurrency_limit=4,
            show_progress="hidden",
        )
        transcript.cite(
            app.cite, [turns], [viewer], show_progress="hidden", trigger_mode="always_last"
        )
        cleared = [new_confirm, new_msg, transcript, turns, viewer, question, stored]
        new_btn.click(app.ask_new_chat, [turns], cleared, show_progress="hidden")
        new_yes.click(app.confirm_new_chat, None, cleared, show_progress="hidden")
        new_no.click(app.cancel_new_chat, None, [new_confirm, new_msg], show_progress="hidden")
        upload.upload(
            app.upload,
            [upload],
            [upload_log, docs_table, delete_pick, status_html, upload],
            show_progress="minimal",
        )
        delete_btn.click(app.confirm_delete, [delete_pick], [confirm_row, delete_msg])
        cancel_btn.click(app.cancel_delete, None, [confirm_row, delete_msg])
        confirm_btn.click(
            app.delete, [delete_pick], [delete_msg, docs_table, delete_pick, status_html]
        ).then(lambda: gr.Row(visible=False), None, [confirm_row])
    demo.queue(default_concurrency_limit=2)
    return demo


def model_label(status: dict[str, Any], available: bool, backend: str = "ollama") -> str:
    """The model picker's label: says so when there is no model to pick."""
    if backend != "ollama":
        return "Model (RAG_LLM_MODEL, from the OpenAI-compatible server)"
    if available:
        return "Model (from Ollama)"
    if not status.get("ollama", {}).get("reachable"):
        return "Model: none available (Ollama not reachable), answers are model-free"
    return "Model: none pulled in Ollama, answers are model-free"


# serving ------------------------------------------------------------------------------


def launch_options(settings: Settings) -> dict[str, Any]:
    """The `launch()` arguments that keep the page offline and safe."""
    return {
        "theme": theme(),
        "css_paths": [ASSETS / "app.css"],
        "ssr_mode": False,
        "share": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "footer_links": ["api", "settings"],
        "max_file_size": int(settings.max_file_mb * 1024 * 1024),
        "show_error": True,
        "quiet": True,
    }


def launch(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
) -> gr.Blocks:
    """Check the bind, build the app and start serving it in the background.

    Returns the running Blocks: `.block_thread()` waits (the CLI), `.close()` stops it."""
    check_bind(host, auth)
    check_port(host, port)
    demo = build_app(settings)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            # a delay after failed logins; Gradio awaits a coroutine function
            auth=LoginGuard(*auth).check if auth else None,  # type: ignore[arg-type]
            prevent_thread_lock=True,
            **launch_options(settings),
        )
    except OSError as exc:
        reason = str(exc).split(". ")[0].split("\n")[0]
        raise RagError(f"cannot serve on {url_for(host, port)}: {reason}") from None
    return demo
