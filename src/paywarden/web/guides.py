"""The merchant quick-start as a page: ``docs/merchant-quickstart.md`` at
``/docs/merchant-quickstart``, so the landing page can link to it and it reads offline.

The Markdown is the repository's own file (a test runs its blocks), rendered with raw
HTML off: the ``<!-- quickstart: … -->`` lines that tell that test what each block is
are dropped first, and anything else HTML-like is shown as text. An installation without
the repository's ``docs/`` folder answers 404 and names the file.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Response
from markdown_it import MarkdownIt

from .render import page_headers, render_page

router = APIRouter(include_in_schema=False)
QUICKSTART = Path(__file__).resolve().parents[3] / "docs" / "merchant-quickstart.md"
TEST_MARKERS = re.compile(r"^<!-- quickstart: [^>]*-->\n", re.MULTILINE)


@cache
def quickstart_html() -> str | None:
    if not QUICKSTART.is_file():
        return None
    text = TEST_MARKERS.sub("", QUICKSTART.read_text(encoding="utf-8"))
    text = re.sub(r"\A# .*\n", "", text)  # the page's own <h1> carries the title
    html: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return html


@router.get("/docs/merchant-quickstart")
def quickstart_page() -> Response:
    body = quickstart_html()
    if body is None:
        return Response("The merchant quick-start is docs/merchant-quickstart.md in "
                        "PayWarden's repository.", status_code=404, media_type="text/plain",
                        headers=page_headers(personal=False))
    return render_page("guide.html", personal=False, wide=True, body=body,
                       title="Merchant quick-start: from nothing to a released payment")
