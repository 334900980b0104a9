"""URLs the pages build quote each id as one whole path segment ("/" included)."""

import re
from pathlib import Path

from mentorflow.web.pages import segment
from tests.web_helpers import app_for

TEMPLATES = Path(__file__).parent.parent / "mentorflow" / "web" / "templates"
ATTRIBUTE = re.compile(r'\b(?:href|action|src)="([^"]*)"')
EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
NOT_IDS = {"e.number", "code", "action"}
"""Values in paths that are not ids: an escalation's number, a language code, a form's action."""


def test_a_segment_quotes_every_reserved_character_slash_included():
    assert segment("p-1:2/x?y#z%20 ä") == "p-1%3A2%2Fx%3Fy%23z%2520%20%C3%A4"
    assert segment("plain-id_1.2~") == "plain-id_1.2~"


def test_every_value_in_a_templates_url_path_is_a_whole_segment():
    """Inside a link's or form's path (before any query or fragment), a value after a "/" is
    filtered by ``segment``; one at the start is a path the view built (with ``segment``)."""
    unquoted = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for url in ATTRIBUTE.findall(template.read_text()):
            path = re.split(r"[?#]", url)[0]  # the query and the fragment are not the path
            for found in EXPRESSION.finditer(path):
                value = found.group(1)
                if found.start() > 0 and not value.endswith("|segment") and value not in NOT_IDS:
                    unquoted.append(f"{template.relative_to(TEMPLATES)}: {url}")
    assert unquoted == []


async def test_the_pages_templates_have_the_segment_filter(env, pool, mail):
    app, _ = app_for(env.client, pool, mail)
    link = app.state.web.templates.from_string('<a href="/g/{{ rid|segment }}/agreement">')
    assert link.render(rid="p/1:2") == '<a href="/g/p%2F1%3A2/agreement">'
