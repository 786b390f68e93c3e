"""The page at a phone's size (400 x 800) in a real headless Chromium: the Documents
tab's table readable, not squeezed to a few letters a column."""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from tests.browser.conftest import shot
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
