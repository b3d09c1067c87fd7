"""Lines into a Page: headings cut sections, lists and criteria are read as blocks, loose values become fields."""

from __future__ import annotations

from trialmatch.trials.record import AgeLimit
from trialmatch.trials.web_page.bare import bare, standalone
from trialmatch.trials.web_page.fields import Ages, Field, field, parse
from trialmatch.trials.web_page.lines import Line, is_chrome, is_prose
from trialmatch.trials.web_page.page import Page, Section
from trialmatch.trials.web_page.rules import CRITERIA, LISTS, PROSE, SKIPPED, Label, Rules, norm

_BARE_KEYS = {"bare_age", "sex", "yes_no"}  # values a mirror prints after its criteria list


def _segment(lines: list[Line], rules: Rules) -> tuple[list[Section], list[Field]]:
    sections = [Section("header", "", -1)]
    fields: list[Field] = []
    for line in lines:
        current = sections[-1]
        if line.kind == "blank":
            current.lines.append(line)
            continue
        in_criteria = current.key in CRITERIA
        heading = None if _not_heading(line, in_criteria, rules) else rules.headings.get(norm(line.text))
        if heading:
            sections.append(Section(heading.key, line.text, line.no, heading.spec))
            continue
        if current.key == "ignore":
            continue
        if is_chrome(line.text, rules):
            line.kind = "chrome"
        elif not in_criteria and (found := field(line, rules, lists=current.key != "other")):
            line.kind = "field"
            fields.append(found)
        current.lines.append(line)
    return sections, fields


def _not_heading(line: Line, in_criteria: bool, rules: Rules) -> bool:
    # Inside criteria a bullet is an item; a CT.gov value in capitals ("TREATMENT") is a value.
    return (in_criteria and line.bullet) or len(line.text) > 120 or line.text in rules.not_headings


def block(section: Section, sentences_end: bool = True) -> tuple[list[Line], list[Line]]:
    """The list under a heading, and the text lines after it. The list runs across single blank
    lines (HTML paragraphs) and ends at a field, a bare value, a sentence or a wider gap."""
    block: list[Line] = []
    rest: list[Line] = []
    gap = 0
    ended = False
    for line in section.lines:
        if line.kind == "blank":
            gap += 1
            continue
        if line.kind == "chrome":
            continue
        ended = (
            ended
            or line.kind == "field"
            or (bool(block) and gap > 1)
            or standalone_value(line.text)
            or (sentences_end and is_prose(line.text))
        )
        gap = 0
        if line.kind == "text":
            (rest if ended else block).append(line)
    return block, rest


def standalone_value(text: str) -> bool:
    found = standalone(text)
    return found is not None and found[0] != "organisation"


def _value_section(section: Section, fields: list[Field]) -> list[Line]:
    """A label alone on its line takes the next line as its value when it fits."""
    content = [line for line in section.lines if line.kind in {"text", "field"}]
    if content and content[0].kind == "text":
        label = Label(section.key, section.heading, section.spec)
        parsed = parse(label, content[0].text)
        if parsed is not None:
            fields.append(Field(section.key, parsed, content[0].text, content[0].no, section.heading))
            return [line for line in content[1:] if line.kind == "text"]
    return [line for line in content if line.kind == "text"]


def criteria(section: Section) -> tuple[list[str], list[Line]]:
    """The items of a criteria list, and the lines that are not items (sub-headings, trailing values).
    In a bulleted list only bullets are items; an unbulleted list has one item per line."""
    bulleted = any(line.bullet for line in section.content())
    items: list[str] = []
    other: list[Line] = []
    last: Line | None = None
    after_blank = False
    for line in section.lines:
        if line.kind != "text":
            after_blank = after_blank or line.kind == "blank"
            continue
        if line.bullet or not (bulleted or _is_bare(line.text)):
            items.append(line.text)
            last = line
        elif bulleted and last and not after_blank and line.indent > last.indent:
            items[-1] += " " + line.text  # a wrapped bullet
        else:
            other.append(line)
            last = None
        after_blank = False
    return items, other


def _is_bare(text: str) -> bool:
    found = bare(text)
    return found is not None and found[0] in _BARE_KEYS


def read_page(lines: list[Line], rules: Rules) -> Page:
    sections, fields = _segment(lines, rules)
    loose: list[tuple[Line, str]] = []
    for section in sections:
        if section.key in CRITERIA:
            rest = _criteria_leftovers(section, fields, rules)
        elif section.key in LISTS - {"locations", "other_ids"}:
            rest = block(section, sentences_end=section.key != "interventions")[1]
        elif section.key in {"header", "basic"}:
            rest = section.content()
        elif section.key in PROSE | SKIPPED | LISTS:
            rest = []
        else:  # a field label alone on its line
            rest = _value_section(section, fields)
        loose.extend((line, section.key) for line in rest)
    page = Page(sections, fields, loose)
    _read_bare_values(page)
    return page


def _criteria_leftovers(section: Section, fields: list[Field], rules: Rules) -> list[Line]:
    """Lines of a bulleted list that are not items: "Principal Investigator: …" after the list is a field."""
    rest = []
    for line in criteria(section)[1]:
        found = field(line, rules)
        if found:
            fields.append(found)
        else:
            rest.append(line)
    return rest


def _read_bare_values(page: Page) -> None:
    """Turn loose bare values into fields; pair the age lines and the Yes/No after a sex line."""
    previous: str | None = None
    runs: list[list[AgeLimit | None]] = []  # runs of adjacent age lines
    dates: list[str] = []
    for line, section_key in page.loose:
        key, value = standalone(line.text) or (None, None)
        if key == "bare_age":
            if previous != "bare_age":
                runs.append([])
            runs[-1].append(value)
        elif key == "yes_no" and previous == "sex":
            page.fields.append(Field("healthy_volunteers", value, line.text, line.no))
        elif key == "date" and section_key == "basic":
            dates.append(value)
        elif key and key not in {"yes_no", "date"}:
            page.fields.append(Field(key, value, line.text, line.no))
        previous = key
    ages = next((run for run in runs if any(run)), None)
    if ages:
        # Mirrors print the minimum then the maximum, "N/A" for no limit.
        low, high = [*ages, None][:2]
        page.fields.append(Field("age", Ages(low, high), "", -1))
    for key, iso in zip(("start_date", "completion_date"), dates, strict=False):
        page.fields.append(Field(key, iso, iso, -1))
