"""HTML pages as text, with inscriptis: hidden elements dropped, list and line structure kept."""

from __future__ import annotations

import re

from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml import etree
from lxml import html as lxml_html

from trialmatch.trials.errors import RecordError
from trialmatch.trials.web_page.lines import CONTROL

MAX_HTML_CHARS = 10_000_000  # markup carries scripts and styles, so allow more before conversion
_HIDDEN_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "head",
    "svg",
    "iframe",
    "object",
    "embed",
    "textarea",
    "select",
    "button",
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,200}>")


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Text of an HTML page with its list and line structure, and its <h1> as a title hint."""
    if len(markup) > MAX_HTML_CHARS:
        raise RecordError(f"the HTML page is over {MAX_HTML_CHARS:,} characters; too large for one trial")
    markup = _XML_DECLARATION.sub("", CONTROL.sub(" ", markup))
    if not markup.strip():
        raise RecordError("the page is empty")
    try:
        tree = lxml_html.fromstring(markup)
        etree.strip_elements(tree, *_HIDDEN_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)
        for element in tree.xpath("//*[@hidden or @aria-hidden='true']"):
            element.drop_tree()
        heading = next((" ".join(h.text_content().split()) for h in tree.iter("h1") if h.text_content().strip()), None)
        return Inscriptis(tree, ParserConfig()).get_text(), heading
    except (etree.ParserError, ValueError, TypeError, AssertionError) as error:
        raise RecordError(f"unreadable HTML: {error}") from error
    except RecursionError as error:
        raise RecordError("the HTML is nested too deeply to read") from error
