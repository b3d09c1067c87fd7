"""Trials from free-text pages: trial finders, hospital study pages, ClinicalTrials.gov mirrors.

A page is read line by line. Each line is classified (blank, chrome, heading, field, text) with
the portal knowledge in ``data/pages/*.yaml``; headings cut the page into sections; small
extractors read each Trial field from the sections, the labelled fields and the bare values
left between them. Nothing here knows any one page: new wording goes in the data files.

Pages are untrusted. Any input gives a Trial or raises RecordError; every regular expression
is linear, and oversized input is refused before it is parsed.
"""

from __future__ import annotations

from pydantic import ValidationError

from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import Trial
from trialmatch.trials.web_page.extract import build, title
from trialmatch.trials.web_page.html import html_to_text
from trialmatch.trials.web_page.lines import clean, read_lines
from trialmatch.trials.web_page.rules import load_rules
from trialmatch.trials.web_page.sections import read_page

__all__ = ["trial_from_page"]

MAX_TEXT_CHARS = 2_000_000  # a real trial page is 5-100 kB of text


def trial_from_page(text: str, location: str, *, html: bool = False) -> Trial:
    """A Trial from a trial page given as plain text or (``html=True``) as HTML."""
    if not isinstance(text, str):
        raise RecordError(f"expected the page as text, got {type(text).__name__}")
    hint = None
    if html:
        text, hint = html_to_text(text)
    if len(text) > MAX_TEXT_CHARS:
        raise RecordError(f"the page is over {MAX_TEXT_CHARS:,} characters of text; too large for one trial")
    rules = load_rules()
    lines = read_lines(clean(text), rules)
    if hint:  # navigation menus come before the page's own heading
        start = next((index for index, line in enumerate(lines) if line.text == hint), 0)
        lines = lines[start:]
    page = read_page(lines, rules)
    try:
        return build(page, location, title(page, hint))
    except ValidationError as error:
        raise RecordError(f"the page gives values a trial can't hold: {error.errors()[0]['msg']}") from error
