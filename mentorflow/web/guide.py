"""The participant guide, served at ``/guide``: the footer of every participant's e-mail links it.

The text is docs/participant.md (packaged through the link ``mentorflow/web/guide/``), so the
page and the repository's guide are one document. It is written in English: the page says so to
screen readers with ``lang="en"`` around it, whatever the page's own language.
"""

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt

from activities.links import GUIDE
from mentorflow.web.pages import render

__all__ = ["PATH", "guide_html", "router"]

PATH = GUIDE

router = APIRouter()


@cache
def guide_html() -> str:
    """The guide as HTML (raw HTML in the Markdown is escaped, not passed through)."""
    text = files("mentorflow.web").joinpath("guide/participant.md").read_text(encoding="utf-8")
    html: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return html


@router.get(PATH, response_class=HTMLResponse)
async def guide(request: Request) -> HTMLResponse:
    return render(request, "guide.html", guide=guide_html())
