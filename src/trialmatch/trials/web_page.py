"""Trials from free-text pages: trial finders, hospital study pages, ClinicalTrials.gov mirrors.

A page is read line by line. Each line is classified (blank, chrome, heading, field, text) with
the portal knowledge in ``data/pages/*.yaml``; headings cut the page into sections; small
extractors read each Trial field from the sections, the labelled fields and the bare values
left between them. Nothing here knows any one page: new wording goes in the data files.

Pages are untrusted. Any input gives a Trial or raises RecordError; every regular expression
is linear, and oversized input is refused before it is parsed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml
from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml import etree
from lxml import html as lxml_html
from pydantic import ValidationError

from trialmatch.places import country_code
from trialmatch.trials.errors import RecordError
from trialmatch.trials.normalize import (
    match_status,
    parse_age,
    parse_bool,
    parse_date,
    parse_phases,
    parse_sex,
    parse_study_type,
)
from trialmatch.trials.record import (
    AgeLimit,
    Eligibility,
    Intervention,
    Official,
    Organization,
    Provenance,
    RegistryId,
    Site,
    Trial,
    primary_id,
)
from trialmatch.vocabulary import load_vocabulary

SOURCE = "web-page"
_T = TypeVar("_T")
MAX_TEXT_CHARS = 2_000_000  # a real trial page is 5-100 kB of text
MAX_HTML_CHARS = 10_000_000  # markup carries scripts and styles, so allow more before conversion
MAX_LINES = 20_000  # non-blank lines; the seeds have under 200
MAX_TITLE_CHARS = 500

_CRITERIA = {"inclusion", "exclusion", "eligibility"}
_PROSE = {"summary", "description"}
_SKIPPED = {"other", "ignore"}
_LISTS = {"conditions", "interventions", "sponsor", "collaborators", "officials", "locations", "other_ids",
          "keywords"}
_DATE_KEYS = {"start_date", "primary_completion_date", "completion_date", "recruitment_end", "first_posted",
              "last_update"}
_GLUED_KEYS = _DATE_KEYS | {"id"}  # "Clinical Study IdentifierNCT…", "Last Modified on14 October 2022"
_BARE_KEYS = {"bare_age", "sex", "yes_no"}  # values a mirror prints after its criteria list

# --- rules from the data files ----------------------------------------------------------------


@dataclass(frozen=True)
class _Label:
    key: str
    text: str
    #: For organisation numbers: {"type", "domain", "value"} from patterns.yaml id_labels.
    spec: dict[str, str] | None = None


@dataclass(frozen=True)
class _Rules:
    headings: dict[str, _Label]
    not_headings: frozenset[str]
    labels: dict[str, list[_Label]]  # first three letters -> labels, longest first
    chrome_start: re.Pattern[str]
    chrome_any: re.Pattern[str] | None
    inline_chrome: re.Pattern[str] | None
    registry_ids: list[tuple[str, re.Pattern[str], str | None]]
    patterns: dict[str, Any]


def _norm(text: str) -> str:
    """A heading's comparable form: case, spacing, curly quotes, "(s)", qualifiers like "(Actual)"
    and end punctuation ignored."""
    text = text.replace("’", "'").replace("‘", "'").replace("(s)", "").casefold()
    text = _qualifiers().sub("", text)
    return " ".join(text.split()).rstrip(" :?.")


@cache
def _qualifiers() -> re.Pattern[str]:
    words = _load_data().get("label_qualifiers", [])
    return re.compile(rf"\s*\((?:{_words(words)})\)", re.IGNORECASE) if words else re.compile(r"(?!)")


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key].extend(value)
        else:
            into[key] = value


def _alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    listed = list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in listed), re.IGNORECASE) if listed else None


@cache
def _load_data() -> dict[str, Any]:
    data: dict[str, Any] = {}
    folder = resources.files("trialmatch.data").joinpath("pages")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            _merge(data, yaml.safe_load(entry.read_text("utf-8")) or {})
    return data


@cache
def _rules() -> _Rules:
    data = _load_data()
    labels = [_Label(key, text) for key, texts in data.get("fields", {}).items() for text in texts]
    labels += [_Label(key, text) for key, texts in data.get("sections", {}).items() if key in _LISTS
               for text in texts]
    for spec in data.get("id_labels", []):
        details = {k: str(v) for k, v in spec.items() if k != "labels"}
        labels += [_Label("id", text, details) for text in spec["labels"]]
    headings = {_norm(text): _Label(key, text) for key, texts in data.get("sections", {}).items()
                for text in texts}
    headings.update({_norm(label.text): label for label in labels if label.key not in _LISTS})
    by_start: dict[str, list[_Label]] = {}
    for label in sorted(labels, key=lambda lb: -len(lb.text)):
        by_start.setdefault(label.text[:3].lower(), []).append(label)
    chrome = data.get("chrome_lines", []) + data.get("section_descriptions", [])
    anchored = [p for p in chrome if p.startswith("^")]
    return _Rules(
        headings=headings,
        not_headings=frozenset(data.get("not_headings", [])),
        labels=by_start,
        chrome_start=_alternation(anchored) or re.compile(r"(?!)"),
        chrome_any=_alternation(p for p in chrome if not p.startswith("^")),
        inline_chrome=_alternation(rf"\s*{re.escape(p)}" for p in data.get("inline_chrome", [])),
        registry_ids=[(e["type"], re.compile(e["pattern"]), e.get("domain")) for e in data.get("registry_ids", [])],
        patterns=data,
    )


# --- lines ------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_BULLET = re.compile(r"^(?:[•●○◦▪▫■□‣∙·➢➤►▶✓✔*+\-–]|\\[-*+]|\d{1,3}[.)]|\(?[a-z]\)|\(\d{1,3}\))\s+")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_PROSE_END = re.compile(r"[.!?][\"'”’)\]]*$")


@dataclass
class _Line:
    no: int
    text: str
    indent: int = 0
    bullet: bool = False
    kind: str = "text"  # blank | chrome | field | text


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _INVISIBLE.sub("", _SPACES.sub(" ", _CONTROL.sub(" ", text)))


def _lines(text: str, rules: _Rules) -> list[_Line]:
    lines: list[_Line] = []
    blanks = filled = 0
    for no, raw in enumerate(text.split("\n")):
        blanks = 0 if raw.strip() else blanks + 1
        filled += not blanks
        if blanks > 2:  # a wider gap means nothing more than two blank lines do
            continue
        if filled > MAX_LINES:
            raise RecordError(f"the page has over {MAX_LINES:,} lines of text; too long for one trial")
        body = raw.lstrip()
        bullet = _BULLET.match(body)
        if bullet:
            body = body[bullet.end():]
        body = " ".join(_MD_ESCAPE.sub(r"\1", body).split())
        if rules.inline_chrome and body:
            body = " ".join(rules.inline_chrome.sub("", body).split())
        lines.append(_Line(no, body, len(raw) - len(raw.lstrip()), bool(bullet), "text" if body else "blank"))
    return lines


def _is_chrome(text: str, rules: _Rules) -> bool:
    return bool(rules.chrome_start.match(text) or (rules.chrome_any and rules.chrome_any.search(text)))


def _is_prose(text: str) -> bool:
    return len(text.split()) >= 5 and bool(_PROSE_END.search(text))


# --- field values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ages:
    low: AgeLimit | None = None
    high: AgeLimit | None = None
    at_diagnosis: bool = False


@dataclass(frozen=True)
class _Field:
    key: str
    value: Any
    text: str
    no: int
    #: The label or heading it stood under; None for a bare value on a line of its own.
    label: str | None = None


def _words(items: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


@cache
def _age_patterns() -> dict[str, list[re.Pattern[str]]]:
    cfg = _rules().patterns["age"]
    num, unit = r"(\d{1,3}(?:\.\d{1,2})?)", rf"({_words(cfg['units'])})\b"
    tail, diag = r"(?:\s+old|\s+of\s+age)?", rf"(?P<diag>{cfg['at_diagnosis']})?"
    cue = r"(?<![A-Za-z])(?:{})"
    compiled = {
        "range": [rf"(?<![\d.]){num}\s*(?:{unit}\s*)?(?:{_words(cfg['range_joiners'])})\s*{num}\s*{unit}{tail}{diag}"],
        "low": [rf"{cue.format(_words(cfg['min_before']))}\s*{num}\s*{unit}{tail}{diag}",
                rf"{num}\s*{unit}(?:\s+old)?\s*(?:{_words(cfg['min_after'])})(?![A-Za-z]){diag}",
                rf"{num}\s*\+\s*{unit}{diag}"],
        "high": [rf"{cue.format(_words(cfg['max_before']))}\s*{num}\s*{unit}{tail}{diag}",
                 rf"{num}\s*{unit}(?:\s+old)?\s*(?:{_words(cfg['max_after'])})(?![A-Za-z]){diag}"],
    }
    return {kind: [re.compile(p, re.IGNORECASE) for p in group] for kind, group in compiled.items()}


def _age_limit(number: str, unit: str, text: str) -> AgeLimit | None:
    limit = parse_age(f"{number} {unit}")
    return limit.model_copy(update={"text": text.strip()}) if limit else None


def _age_bounds(text: str) -> _Ages | None:
    """Age limits in a phrase: "at least 18 years old", "0-1 year at diagnosis", "> 1 month and < 18 years".
    A strict "< 18 years" keeps 18 as the limit: one day too generous beats hiding the trial."""
    found: dict[str, tuple[int, AgeLimit, bool]] = {}
    patterns = _age_patterns()
    for match in (m for p in patterns["range"] for m in [p.search(text)] if m):
        unit = match.group(2) or match.group(4)
        for side, limit in (("low", _age_limit(match.group(1), unit, match.group(0))),
                            ("high", _age_limit(match.group(3), match.group(4), match.group(0)))):
            if limit:
                found[side] = (match.start(), limit, bool(match.group("diag")))
    for side in ("low", "high"):
        for match in (m for p in patterns[side] for m in [p.search(text)] if m):
            limit = _age_limit(match.group(1), match.group(2), match.group(0))
            if limit and (side not in found or match.start() < found[side][0]):
                found[side] = (match.start(), limit, bool(match.group("diag")))
    if not found:
        return None
    low, high = found.get("low"), found.get("high")
    return _Ages(low[1] if low else None, high[1] if high else None, any(f[2] for f in found.values()))


def _registry_ids(text: str) -> list[RegistryId]:
    return [RegistryId(id=match.group(0), type=id_type, domain=domain)
            for id_type, pattern, domain in _rules().registry_ids for match in pattern.finditer(text)]


def _labelled_ids(value: str, spec: dict[str, str] | None) -> list[RegistryId] | None:
    if spec:
        match = re.search(rf"(?<![\w-]){spec['value']}(?![\w-])", value)
        return [RegistryId(id=match.group(0), type=spec["type"], domain=spec.get("domain"))] if match else None
    return _registry_ids(value) or None


def _count(value: str) -> int | None:
    match = re.search(r"\d[\d,]{0,9}", value)
    number = int(match.group(0).replace(",", "")) if match else None
    return number if number is not None and 0 < number < 10_000_000 else None


def _date(value: str) -> str | None:
    value = value.strip()
    return parse_date(value) if len(value) <= 40 else None


def _plain(value: str) -> str | None:
    """A list entry given after its label: a name, not a sentence."""
    value = value.strip(" :-")
    if not value or not (value[0].isupper() or value[0].isdigit()) or len(value.split()) > 20:
        return None
    return value


def _age_value(key: str, value: str) -> _Ages | None:
    bounds = _age_bounds(value) or _age_bounds(f"{value} years")
    limit = parse_age(value)
    if key == "minimum_age":
        return _Ages(low=limit) if limit else (_Ages(low=bounds.low) if bounds and bounds.low else None)
    if key == "maximum_age":
        return _Ages(high=limit) if limit else (_Ages(high=bounds.high) if bounds and bounds.high else None)
    return bounds


def _parse(label: _Label, value: str) -> Any:
    """The parsed value of a labelled field, or None when the value doesn't fit the label."""
    key = label.key
    parsers: dict[str, Callable[[str], Any]] = {
        "status": match_status,
        "phase": lambda v: parse_phases(v) or parse_phases(f"Phase {v}") or None,
        "study_type": parse_study_type,
        "enrollment": _count,
        "sex": parse_sex,
        "healthy_volunteers": parse_bool,
        "id": lambda v: _labelled_ids(v, label.spec),
        "official_title": lambda v: v if 3 <= len(v) <= MAX_TITLE_CHARS else None,
    }
    if key in parsers:
        return parsers[key](value)
    if key in {"age", "minimum_age", "maximum_age"}:
        return _age_value(key, value)
    if key in _DATE_KEYS:
        return _date(value)
    return _plain(value) if key in _LISTS else None


def _field(line: _Line, rules: _Rules, lists: bool = True) -> _Field | None:
    """A "Label: value" line, read only when the value fits the label. Without ``lists`` only
    single values are read (an arm's "Drug: X" in a section we skip is not an intervention)."""
    text = line.text
    lowered = text[:80].lower()
    for label in rules.labels.get(lowered[:3], []):
        size = len(label.text)
        if lowered[:size] != label.text.lower() or len(text) == size or (label.key in _LISTS and not lists):
            continue
        rest = text[size:]
        if qualifier := _qualifiers().match(rest):  # "Study Start (Actual): …"
            rest = rest[qualifier.end():]
        if not rest:
            continue
        colon = rest.lstrip().startswith(":")
        if rest[0].isalpha() and label.key not in _GLUED_KEYS:
            continue
        # Without a colon, only a short line that isn't a sentence is a label line.
        if not colon and (len(text.split()) > 12 or _PROSE_END.search(text)):
            continue
        value = rest.strip().lstrip(":").strip()
        parsed = _parse(label, value) if value else None
        if parsed is not None:
            return _Field(label.key, parsed, value, line.no, label.text)
    return None


# --- bare values on a line of their own -------------------------------------------------------

_DATE_LINE = re.compile(
    r"^(?:\d{4}-\d{2}(?:-\d{2})?|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})$")
_BARE_AGE = re.compile(r"^\d{1,3}\s+[A-Za-z]{1,7}$")
_PHASE_LINE = re.compile(r"^(?:early[\s_]*)?phase", re.IGNORECASE)


def _bare(text: str) -> tuple[str, Any] | None:
    """Values that mirrors and AI listings print without a label: "Non Recruiting", "PHASE2", "ALL"."""
    status = match_status(text)
    if status and status[1].casefold() == text.casefold():
        return "status", status
    if _PHASE_LINE.match(text) and (phases := parse_phases(text)):
        return "phase", phases
    if study_type := parse_study_type(text):
        return "study_type", study_type
    if (match := re.search(_rules().patterns["enrollment_sentences"][-1], text, re.IGNORECASE)) and (
            count := _count(match.group(1))):
        return "enrollment", count
    if len(text) >= 3 and (sex := parse_sex(text)):
        return "sex", sex
    if text.lower() in {"yes", "no"}:
        return "yes_no", text.lower() == "yes"
    if _BARE_AGE.match(text) and (limit := parse_age(text)):
        return "bare_age", limit
    if text.upper() in {"N/A", "NA"}:
        return "bare_age", None
    if _DATE_LINE.match(text) and (iso := parse_date(text)):
        return "date", iso
    return None


def _standalone(text: str) -> tuple[str, Any] | None:
    """A short line that is only a value: a bare value, an age phrase, an id or an organisation."""
    words = text.split()
    if len(words) > 8 or _PROSE_END.search(text):
        return None
    if found := _bare(text):
        return found
    if len(words) <= 6 and (ages := _age_bounds(text)):
        return "age", ages
    if len(words) <= 4 and (ids := _registry_ids(text)):
        return "id", ids
    if not re.search(r"\d", text) and re.search(_rules().patterns["organisation_words"], text, re.IGNORECASE):
        return "organisation", text
    return None


# --- sections ---------------------------------------------------------------------------------


@dataclass
class _Section:
    key: str
    heading: str
    no: int
    spec: dict[str, str] | None = None
    lines: list[_Line] = field(default_factory=list)

    def content(self) -> list[_Line]:
        return [line for line in self.lines if line.kind == "text"]


@dataclass
class _Page:
    sections: list[_Section]
    fields: list[_Field]
    #: Text lines no section took: the header, what follows a value or list, bare values.
    loose: list[tuple[_Line, str]]
    notice_lines: set[int] = field(default_factory=set)

    def of(self, *keys: str) -> list[_Section]:
        return [s for s in self.sections if s.key in keys]

    def values(self, key: str) -> list[_Field]:
        """Fields for key: labelled ones first, then bare values, each in page order."""
        found = [f for f in self.fields if f.key == key]
        return [f for f in found if f.label] + [f for f in found if not f.label]

    def value(self, key: str) -> Any:
        found = self.values(key)
        return found[0].value if found else None


def _segment(lines: list[_Line], rules: _Rules) -> tuple[list[_Section], list[_Field]]:
    sections = [_Section("header", "", -1)]
    fields: list[_Field] = []
    for line in lines:
        current = sections[-1]
        if line.kind == "blank":
            current.lines.append(line)
            continue
        in_criteria = current.key in _CRITERIA
        heading = None if _not_heading(line, in_criteria, rules) else rules.headings.get(_norm(line.text))
        if heading:
            sections.append(_Section(heading.key, line.text, line.no, heading.spec))
            continue
        if current.key == "ignore":
            continue
        if _is_chrome(line.text, rules):
            line.kind = "chrome"
        elif not in_criteria and (found := _field(line, rules, lists=current.key != "other")):
            line.kind = "field"
            fields.append(found)
        current.lines.append(line)
    return sections, fields


def _not_heading(line: _Line, in_criteria: bool, rules: _Rules) -> bool:
    # Inside criteria a bullet is an item; a CT.gov value in capitals ("TREATMENT") is a value.
    return (in_criteria and line.bullet) or len(line.text) > 120 or line.text in rules.not_headings


def _block(section: _Section, sentences_end: bool = True) -> tuple[list[_Line], list[_Line]]:
    """The list under a heading, and the text lines after it. The list runs across single blank
    lines (HTML paragraphs) and ends at a field, a bare value, a sentence or a wider gap."""
    block: list[_Line] = []
    rest: list[_Line] = []
    gap = 0
    ended = False
    for line in section.lines:
        if line.kind == "blank":
            gap += 1
            continue
        if line.kind == "chrome":
            continue
        ended = ended or line.kind == "field" or (bool(block) and gap > 1) or _standalone_value(line.text) or (
            sentences_end and _is_prose(line.text))
        gap = 0
        if line.kind == "text":
            (rest if ended else block).append(line)
    return block, rest


def _standalone_value(text: str) -> bool:
    found = _standalone(text)
    return found is not None and found[0] != "organisation"


def _value_section(section: _Section, fields: list[_Field]) -> list[_Line]:
    """A label alone on its line takes the next line as its value when it fits."""
    content = [line for line in section.lines if line.kind in {"text", "field"}]
    if content and content[0].kind == "text":
        label = _Label(section.key, section.heading, section.spec)
        parsed = _parse(label, content[0].text)
        if parsed is not None:
            fields.append(_Field(section.key, parsed, content[0].text, content[0].no, section.heading))
            return [line for line in content[1:] if line.kind == "text"]
    return [line for line in content if line.kind == "text"]


def _criteria(section: _Section) -> tuple[list[str], list[_Line]]:
    """The items of a criteria list, and the lines that are not items (sub-headings, trailing values).
    In a bulleted list only bullets are items; an unbulleted list has one item per line."""
    bulleted = any(line.bullet for line in section.content())
    items: list[str] = []
    other: list[_Line] = []
    last: _Line | None = None
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
    found = _bare(text)
    return found is not None and found[0] in _BARE_KEYS


def _read_page(lines: list[_Line], rules: _Rules) -> _Page:
    sections, fields = _segment(lines, rules)
    loose: list[tuple[_Line, str]] = []
    for section in sections:
        if section.key in _CRITERIA:
            rest = _criteria_leftovers(section, fields, rules)
        elif section.key in _LISTS - {"locations", "other_ids"}:
            rest = _block(section, sentences_end=section.key != "interventions")[1]
        elif section.key in {"header", "basic"}:
            rest = section.content()
        elif section.key in _PROSE | _SKIPPED | _LISTS:
            rest = []
        else:  # a field label alone on its line
            rest = _value_section(section, fields)
        loose.extend((line, section.key) for line in rest)
    page = _Page(sections, fields, loose)
    _read_bare_values(page)
    return page


def _criteria_leftovers(section: _Section, fields: list[_Field], rules: _Rules) -> list[_Line]:
    """Lines of a bulleted list that are not items: "Principal Investigator: …" after the list is a field."""
    rest = []
    for line in _criteria(section)[1]:
        found = _field(line, rules)
        if found:
            fields.append(found)
        else:
            rest.append(line)
    return rest


def _read_bare_values(page: _Page) -> None:
    """Turn loose bare values into fields; pair the age lines and the Yes/No after a sex line."""
    previous: str | None = None
    runs: list[list[AgeLimit | None]] = []  # runs of adjacent age lines
    dates: list[str] = []
    for line, section_key in page.loose:
        key, value = _standalone(line.text) or (None, None)
        if key == "bare_age":
            if previous != "bare_age":
                runs.append([])
            runs[-1].append(value)
        elif key == "yes_no" and previous == "sex":
            page.fields.append(_Field("healthy_volunteers", value, line.text, line.no))
        elif key == "date" and section_key == "basic":
            dates.append(value)
        elif key and key not in {"yes_no", "date"}:
            page.fields.append(_Field(key, value, line.text, line.no))
        previous = key
    ages = next((run for run in runs if any(run)), None)
    if ages:
        # Mirrors print the minimum then the maximum, "N/A" for no limit.
        low, high = [*ages, None][:2]
        page.fields.append(_Field("age", _Ages(low, high), "", -1))
    for key, iso in zip(("start_date", "completion_date"), dates, strict=False):
        page.fields.append(_Field(key, iso, iso, -1))


# --- extractors -------------------------------------------------------------------------------


def _title(page: _Page, hint: str | None) -> str:
    header = [line.text for line, key in page.loose if key == "header"]
    title = hint if hint in header else next((text for text in header if not _standalone_value(text)), None)
    if not title:
        raise RecordError("the page has no title: no text line before its first section heading")
    letters = sum(c.isalpha() for c in title)
    if len(title) > MAX_TITLE_CHARS or letters < 3 or letters < len(title.replace(" ", "")) / 2:
        raise RecordError(f"the page has no usable title: its first line is {title[:80]!r}…")
    return title


def _scan_lines(page: _Page) -> Iterator[_Line]:
    """Lines where a status notice or an enrolment sentence may stand: not criteria, not skipped."""
    for section in page.sections:
        if section.key not in _CRITERIA | _SKIPPED:
            yield from (line for line in section.lines if line.kind in {"text", "chrome"})


def _status(page: _Page) -> tuple[Any, str] | tuple[None, None]:
    found = page.value("status")
    if found:
        return found
    cue = re.compile(_rules().patterns["status_sentence"], re.IGNORECASE)
    for line in _scan_lines(page):
        for match in cue.finditer(line.text):
            sentence = re.split(r"[.;!?]", line.text[match.end():match.end() + 200], maxsplit=1)[0]
            status = match_status(sentence)
            if status and sentence.lower().startswith(status[1].lower()):
                page.notice_lines.add(line.no)
                return status
    return None, None


def _enrollment(page: _Page) -> int | None:
    if found := page.value("enrollment"):
        return found
    for pattern in _rules().patterns["enrollment_sentences"]:
        for line in _scan_lines(page):
            if line.kind == "text" and (match := re.search(pattern, line.text, re.IGNORECASE)):
                return _count(match.group(1))
    return None


def _ages(page: _Page, inclusion: list[str]) -> _Ages:
    low = high = None
    at_diagnosis = False
    context = re.compile(_rules().patterns["age"]["context"], re.IGNORECASE)
    stated = [f.value for key in ("minimum_age", "maximum_age", "age") for f in page.values(key) if f.label]
    stated += [f.value for f in page.values("age") if not f.label]
    stated += [b for item in inclusion if context.search(item) and (b := _age_bounds(item))]
    for ages in stated:
        if (low is None and ages.low) or (high is None and ages.high):
            at_diagnosis = at_diagnosis or ages.at_diagnosis
        low, high = low or ages.low, high or ages.high
    return _Ages(low, high, at_diagnosis)


def _criteria_text(inclusion: list[str], exclusion: list[str]) -> str | None:
    blocks = [f"{name} Criteria:\n\n" + "\n".join(f"* {item}" for item in items)
              for name, items in (("Inclusion", inclusion), ("Exclusion", exclusion)) if items]
    return "\n\n".join(blocks) or None


def _eligibility(page: _Page) -> Eligibility:
    def items(key: str) -> list[str]:
        return [item for section in page.of(key) for item in _criteria(section)[0]]

    inclusion = items("inclusion") or items("eligibility")
    exclusion = items("exclusion")
    ages = _ages(page, inclusion)
    return Eligibility(
        criteria_text=_criteria_text(inclusion, exclusion),
        minimum_age=ages.low,
        maximum_age=ages.high,
        age_reference="diagnosis" if ages.at_diagnosis else "enrollment",
        sex=page.value("sex"),
        healthy_volunteers=page.value("healthy_volunteers"),
    )


def _paragraphs(lines: Iterable[_Line], skip: set[int]) -> list[str]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.kind == "text" and line.no not in skip:
            paragraphs[-1].append(line.text)
        elif line.kind == "blank" and paragraphs[-1]:
            paragraphs.append([])
    return ["\n".join(p) for p in paragraphs if p]


def _summary(page: _Page, title: str) -> str | None:
    """Prose before the criteria that no heading names, then the summary sections."""
    first_criteria = min((s.no for s in page.of(*_CRITERIA)), default=10**9)
    lead = [line.text for line, _ in page.loose
            if line.no < first_criteria and line.text != title and line.no not in page.notice_lines
            and _is_prose(line.text)]
    parts = lead + [p for s in page.of("summary") for p in _paragraphs(s.lines, page.notice_lines)]
    return "\n\n".join(parts) or None


def _description(page: _Page) -> str | None:
    parts = [p for s in page.of("description") for p in _paragraphs(s.lines, page.notice_lines)]
    return "\n\n".join(parts) or None


def _ids(page: _Page, sponsor: str | None) -> list[RegistryId]:
    ids = [rid for f in sorted(page.values("id"), key=lambda f: f.no) for rid in f.value]
    for section in page.of("other_ids"):
        ids += _other_ids(section, sponsor)
    return _unique(ids, lambda rid: (rid.type, rid.id))


def _other_ids(section: _Section, sponsor: str | None) -> list[RegistryId]:
    """Entries of an "Other Identifiers" block: the id, then optional type, source and domain lines."""
    patterns = _rules().patterns
    describe = {_norm(text): role for role, texts in patterns["other_id_labels"].items() for text in texts}
    entries: list[dict[str, str]] = []
    for line in section.content():
        name, _, value = line.text.partition(":")
        if value and _norm(name) in describe:
            if entries:
                entries[-1][describe[_norm(name)]] = value.strip()
        elif re.fullmatch(r"[A-Za-z0-9][\w./-]{0,39}", line.text) or _registry_ids(line.text):
            entries.append({"id": line.text})
    return [rid for entry in entries if (rid := _other_id(entry, sponsor, patterns))]


def _other_id(entry: dict[str, str], sponsor: str | None, patterns: dict[str, Any]) -> RegistryId | None:
    if found := _registry_ids(entry["id"]):
        return found[0]
    source = patterns["id_sources"].get(entry.get("source", "").lower())
    named = patterns["id_type_names"].get(entry.get("type", "").lower())
    id_type = source if source and source != "OTHER" else named or source or "OTHER"
    domain = entry.get("domain") or (sponsor if id_type == "ORG_STUDY_ID" else None)
    return RegistryId(id=entry["id"], type=id_type, domain=domain)


def _vocabulary_names(text: str, kind: str) -> list[str]:
    names = [m.concept.name for m in load_vocabulary().find(text, kinds={kind})]
    return list(dict.fromkeys(names))


def _conditions(page: _Page, title: str) -> list[str]:
    listed = [f.value for f in page.values("conditions")]
    listed += [line.text.rstrip(" .;") for s in page.of("conditions") for line in _block(s)[0]]
    listed = [part.strip() for entry in listed for part in re.split(r"[;|]", entry) if part.strip()]
    return list(dict.fromkeys(listed)) or _vocabulary_names(title, "condition")


_TYPED = re.compile(r"^(drug|biological|device|procedure|radiation|behavioral|genetic|dietary supplement"
                    r"|combination product|diagnostic test|other)\s*:\s*(\S.*)$", re.IGNORECASE)


def _typed(text: str) -> Intervention | None:
    """An intervention written with its CT.gov type: "Drug: Blinatumomab"."""
    typed = _TYPED.match(text)
    return Intervention(name=typed.group(2), type=typed.group(1).upper().replace(" ", "_")) if typed else None


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return len(words) == 1 or (len(words) <= 5 and all(w[0].isupper() or w[0].isdigit() for w in words))


def _interventions(page: _Page, title: str) -> list[Intervention]:
    # "Drug: X" under an "Interventions" heading is read as a field labelled "Drug": its label is the type.
    found = [_typed(f"{f.label}: {f.value}") or Intervention(name=f.value) for f in page.values("interventions")]
    for section in page.of("interventions"):
        for line in _block(section, sentences_end=False)[0]:
            if typed := _typed(line.text):
                found.append(typed)
            elif found and not found[-1].description and not _looks_like_name(line.text):
                found[-1] = found[-1].model_copy(update={"description": line.text})
            else:
                found.append(Intervention(name=line.text))
    if not found:
        found = [Intervention(name=name, type="DRUG") for name in _vocabulary_names(title, "drug")]
    return _unique(found, lambda i: i.name.casefold())


def _organisations(lines: Iterable[_Line]) -> list[Organization]:
    classes = set(_rules().patterns["agency_classes"])
    found: list[Organization] = []
    for line in lines:
        if line.text.upper() in classes and found and not found[-1].agency_class:
            found[-1] = found[-1].model_copy(update={"agency_class": line.text.upper()})
        elif not _is_prose(line.text):
            found.append(Organization(name=line.text))
    return found


def _sponsors(page: _Page) -> tuple[Organization | None, list[Organization]]:
    named = [Organization(name=f.value) for f in page.values("sponsor")]
    for section in page.of("sponsor"):
        named += _organisations(_block(section)[0])
    collaborators = named[1:] + [Organization(name=f.value) for f in page.values("collaborators")]
    for section in page.of("collaborators"):
        collaborators += _organisations(_block(section)[0])
    # A sponsor shown without a label: an organisation's name between the page's bare values.
    lead = named[0] if named else next(
        (Organization(name=f.value) for f in page.values("organisation") if f.no > _header_end(page)), None)
    return lead, _unique(collaborators, lambda o: o.name.casefold())


def _header_end(page: _Page) -> int:
    """Where the header ends: names above the first heading are the portal's own branding."""
    return page.sections[1].no if len(page.sections) > 1 else 10**9


def _officials(page: _Page) -> list[Official]:
    patterns = _rules().patterns
    roles = patterns["official_roles"]
    found = [Official(name=f.value, role=roles.get(_norm(f.label or ""))) for f in page.values("officials")]
    for section in page.of("officials"):
        found += _official_block(_block(section)[0], roles.get(_norm(section.heading)), patterns)
    return found


def _official_block(lines: list[_Line], role: str | None, patterns: dict[str, Any]) -> list[Official]:
    """Names, each optionally followed by "Role: …" and an affiliation (labelled or on the next line)."""
    labels = {_norm(text): key for key, texts in patterns["official_labels"].items() for text in texts}
    found: list[Official] = []
    after_role = False  # mirrors print the affiliation on the line after "Role: …"
    for line in lines:
        name, _, value = line.text.partition(":")
        key = labels.get(_norm(name)) if value.strip() else None
        if key and found:
            update = value.strip().upper().replace(" ", "_") if key == "role" else value.strip()
            found[-1] = found[-1].model_copy(update={key: update})
        elif after_role and not found[-1].affiliation:
            found[-1] = found[-1].model_copy(update={"affiliation": line.text})
        else:
            found.append(Official(name=line.text, role=role))
        after_role = key == "role" and bool(found)
    return found


def _place(text: str) -> dict[str, str | None] | None:
    """ "City, State, Country" when the last part names a country."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    short = set(_rules().patterns["short_countries"])
    for width in (2, 1):
        if len(parts) > width:
            country = ", ".join(parts[-width:])
            if country_code(country) and (len(country) > 3 or country.upper() in short):
                rest = parts[:-width]
                zips = [p for p in rest[1:] if re.search(r"\d", p)]
                states = [p for p in rest[1:] if p not in zips]
                return {"city": rest[0], "state": ", ".join(states) or None, "zip": zips[0] if zips else None,
                        "country": country}
    return None


def _sites(page: _Page) -> list[Site]:
    sites: list[Site] = []
    facility: str | None = None
    lines = [line.text for s in page.of("locations") for line in s.content()]
    lines += [f.value for f in page.values("locations")]
    for text in lines:
        place = _place(text)
        if place:
            sites.append(Site(facility=facility, **place))
            facility = None
        elif (status := match_status(text)) and status[1].casefold() == text.casefold() and sites:
            sites[-1] = sites[-1].model_copy(update={"status": status[0].value})
        elif not _is_prose(text):
            if facility:
                sites.append(Site(facility=facility))
            facility = text
    if facility:
        sites.append(Site(facility=facility))
    return sites


def _unique(items: Iterable[_T], key: Callable[[_T], Any]) -> list[_T]:
    """Items without repeats, first one kept."""
    seen: dict[Any, _T] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _page_id(title: str) -> str:
    folded = " ".join(re.sub(r"[^\w]+", " ", unicodedata.normalize("NFKC", title).casefold()).split())
    return "PAGE-" + hashlib.sha256(folded.encode()).hexdigest()[:12].upper()


# --- HTML -------------------------------------------------------------------------------------

_HIDDEN_TAGS = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object", "embed",
                "textarea", "select", "button")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,200}>")


def _html_to_text(markup: str) -> tuple[str, str | None]:
    """Text of an HTML page with its list and line structure, and its <h1> as a title hint."""
    if len(markup) > MAX_HTML_CHARS:
        raise RecordError(f"the HTML page is over {MAX_HTML_CHARS:,} characters; too large for one trial")
    markup = _XML_DECLARATION.sub("", _CONTROL.sub(" ", markup))
    if not markup.strip():
        raise RecordError("the page is empty")
    try:
        tree = lxml_html.fromstring(markup)
        etree.strip_elements(tree, *_HIDDEN_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)
        for element in tree.xpath("//*[@hidden or @aria-hidden='true']"):
            element.drop_tree()
        heading = next((" ".join(h.text_content().split()) for h in tree.iter("h1") if h.text_content().strip()),
                       None)
        return Inscriptis(tree, ParserConfig()).get_text(), heading
    except (etree.ParserError, ValueError, TypeError, AssertionError) as error:
        raise RecordError(f"unreadable HTML: {error}") from error
    except RecursionError as error:
        raise RecordError("the HTML is nested too deeply to read") from error


# --- the importer -----------------------------------------------------------------------------


def trial_from_page(text: str, location: str, *, html: bool = False) -> Trial:
    """A Trial from a trial page given as plain text or (``html=True``) as HTML."""
    if not isinstance(text, str):
        raise RecordError(f"expected the page as text, got {type(text).__name__}")
    hint = None
    if html:
        text, hint = _html_to_text(text)
    if len(text) > MAX_TEXT_CHARS:
        raise RecordError(f"the page is over {MAX_TEXT_CHARS:,} characters of text; too large for one trial")
    rules = _rules()
    lines = _lines(_clean(text), rules)
    if hint:  # navigation menus come before the page's own heading
        start = next((index for index, line in enumerate(lines) if line.text == hint), 0)
        lines = lines[start:]
    page = _read_page(lines, rules)
    try:
        return _build(page, location, _title(page, hint))
    except ValidationError as error:
        raise RecordError(f"the page gives values a trial can't hold: {error.errors()[0]['msg']}") from error


def _build(page: _Page, location: str, title: str) -> Trial:
    status, status_text = _status(page)
    eligibility = _eligibility(page)
    lead, collaborators = _sponsors(page)
    ids = _ids(page, lead.name if lead else None)
    last_update = page.value("last_update")
    return Trial(
        id=primary_id(ids) or _page_id(title),
        ids=ids,
        brief_title=title,
        official_title=page.value("official_title"),
        brief_summary=_summary(page, title),
        detailed_description=_description(page),
        overall_status=status,
        status_text=status_text,
        phases=page.value("phase") or parse_phases(title),
        study_type=page.value("study_type"),
        enrollment=_enrollment(page),
        start_date=page.value("start_date"),
        primary_completion_date=page.value("primary_completion_date"),
        completion_date=page.value("completion_date"),
        first_posted=page.value("first_posted"),
        last_update_posted=last_update,
        conditions=_conditions(page, title),
        keywords=[line.text for s in page.of("keywords") for line in _block(s)[0]],
        interventions=_interventions(page, title),
        eligibility=eligibility,
        lead_sponsor=lead,
        collaborators=collaborators,
        officials=_officials(page),
        sites=_sites(page),
        provenance=Provenance(source=SOURCE, location=location, source_last_update=last_update),
    )
