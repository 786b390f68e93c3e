"""The page at a phone's size (400 x 800) in a real headless Chromium: a compact header
that leaves most of the window to the chat, and the Documents tab's table readable, not
squeezed to a few letters a column."""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from tests.browser.conftest import rects, shot
from tests.browser.test_browser_chat import open_app

PHONE = {"width": 400, "height": 800}

# The documents table as laid out: each column's width (hidden ones left out), the lines
# each file name takes, the page's and the table box's widths.
TABLE_LAYOUT = """() => {
  const table = document.querySelector('#documents table.docs');
  const box = table.parentElement;
  const lines = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  return {
    columns: [...table.querySelectorAll('thead th')]
      .filter((th) => th.offsetParent !== null)
      .map((th) => [th.innerText, th.getBoundingClientRect().width]),
    fileLines: [...table.querySelectorAll('td.file')].map((td) => [td.innerText, lines(td)]),
    page: document.scrollingElement.scrollWidth,
    boxRight: box.getBoundingClientRect().right,
  };
}"""


def test_the_documents_table_is_readable_at_phone_width(
    corpus_index: Settings, serve_app: Any, page: Any
) -> None:
    page.set_viewport_size(PHONE)
    open_app(page, serve_app())
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_selector("#documents table.docs tbody tr")
    layout = page.evaluate(TABLE_LAYOUT)
    widths = dict(layout["columns"])
    # no column squeezed to a few letters (the title and file ones were ~25 px wide)
    assert all(w >= 48 for w in widths.values()), widths
    assert widths["Title"] >= 120 and widths["File"] >= 150, widths
    # a file name reads on at most two lines (it broke after every few letters)
    assert len(layout["fileLines"]) == 5
    assert all(n <= 2 for _name, n in layout["fileLines"]), layout["fileLines"]
    # the table scrolls sideways inside its own box: the page itself does not
    assert layout["page"] <= PHONE["width"] and layout["boxRight"] <= PHONE["width"], layout
    box = page.locator("#documents .docs-box")
    box.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    size = page.locator("#documents thead th", has_text="Size").bounding_box()
    assert size and size["x"] >= 0 and size["x"] + size["width"] <= PHONE["width"] + 1, size
    shot(page, "browser-phone-documents")
    assert page.js_errors == []


def test_the_header_is_compact_at_phone_width(
    corpus_index: Settings, serve_app: Any, page: Any
) -> None:
    page.set_viewport_size(PHONE)
    open_app(page, serve_app())
    # a fresh machine (no Ollama): the banner is there too, the tallest header there is
    page.wait_for_selector("#banner .banner.model-free")
    height = PHONE["height"]
    # the chat is fitted to the window after the header: waited for, not slept on (a busy
    # machine lays the page out late); the figures below are then read in one layout
    page.wait_for_function(
        """(height) => {
            const r = (sel) => document.querySelector(sel)?.getBoundingClientRect();
            const chat = r('#transcript .transcript'), box = r('#question textarea');
            return chat && box && chat.height >= 0.45 * height && box.bottom <= height;
        }""",
        arg=height,
        timeout=10_000,
    )
    at = rects(
        page,
        header="#header",
        tabs="[role=tablist]",
        chat="#transcript .transcript",
        question="#question textarea",
    )
    header, tabs = at["header"], at["tabs"]
    # it took about half the window (the tabs began at 416 px of 800)
    assert header["y"] + header["height"] <= 0.25 * height, header
    assert tabs["y"] <= 0.25 * height, tabs
    # ... and the chat gets most of it (it was about 200 px tall)
    chat, question = at["chat"], at["question"]
    assert chat["height"] >= 0.45 * height, chat
    assert question["y"] + question["height"] <= height
    # still said: the title, the answer mode, the banner's headline and its commands
    assert page.locator(".app-title").is_visible()
    assert page.locator("#status li").first.inner_text() == "model-free answers"
    assert "Model-free mode." in page.inner_text("#banner")
    assert page.locator("#banner summary").is_visible()
    shot(page, "browser-phone-header")

    # a wide window shows it all, as before
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#banner .banner-why").wait_for(state="visible")
    page.wait_for_function(
        """() => [...document.querySelectorAll('#status li')]
            .filter((li) => li.getClientRects().length > 0).length === 4""",
        timeout=10_000,
    )
    assert page.locator("#status li:visible").count() == 4
    assert page.js_errors == []
