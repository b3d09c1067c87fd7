"""The extractors: each Trial field read from a Page, and the Trial built from them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from trialmatch.places import country_code
from trialmatch.trials.errors import RecordError
from trialmatch.trials.normalize import match_status, parse_phases
from trialmatch.trials.record import (
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
from trialmatch.trials.web_page.fields import MAX_TITLE_CHARS, Ages, age_bounds, parse_count, registry_ids
from trialmatch.trials.web_page.lines import Line, is_prose
from trialmatch.trials.web_page.page import Page, Section
from trialmatch.trials.web_page.rules import CRITERIA, SKIPPED, load_rules, norm
from trialmatch.trials.web_page.sections import block, criteria, standalone_value
from trialmatch.vocabulary import load_vocabulary

SOURCE = "web-page"
_T = TypeVar("_T")


def title(page: Page, hint: str | None) -> str:
    header = [line.text for line, key in page.loose if key == "header"]
    title = hint if hint in header else next((text for text in header if not standalone_value(text)), None)
    if not title:
        raise RecordError("the page has no title: no text line before its first section heading")
    letters = sum(c.isalpha() for c in title)
    if len(title) > MAX_TITLE_CHARS or letters < 3 or letters < len(title.replace(" ", "")) / 2:
        raise RecordError(f"the page has no usable title: its first line is {title[:80]!r}…")
    return title


def _scan_lines(page: Page) -> Iterator[Line]:
    """Lines where a status notice or an enrolment sentence may stand: not criteria, not skipped."""
    for section in page.sections:
        if section.key not in CRITERIA | SKIPPED:
            yield from (line for line in section.lines if line.kind in {"text", "chrome"})


def _status(page: Page) -> tuple[Any, str] | tuple[None, None]:
    found = page.value("status")
    if found:
        return found
    cue = re.compile(load_rules().patterns["status_sentence"], re.IGNORECASE)
    for line in _scan_lines(page):
        for match in cue.finditer(line.text):
            sentence = re.split(r"[.;!?]", line.text[match.end() : match.end() + 200], maxsplit=1)[0]
            status = match_status(sentence)
            if status and sentence.lower().startswith(status[1].lower()):
                page.notice_lines.add(line.no)
                return status
    return None, None


def _enrollment(page: Page) -> int | None:
    if found := page.value("enrollment"):
        return found
    for pattern in load_rules().patterns["enrollment_sentences"]:
        for line in _scan_lines(page):
            if line.kind == "text" and (match := re.search(pattern, line.text, re.IGNORECASE)):
                return parse_count(match.group(1))
    return None


def _ages(page: Page, inclusion: list[str]) -> Ages:
    low = high = None
    at_diagnosis = False
    context = re.compile(load_rules().patterns["age"]["context"], re.IGNORECASE)
    stated = [f.value for key in ("minimum_age", "maximum_age", "age") for f in page.values(key) if f.label]
    stated += [f.value for f in page.values("age") if not f.label]
    stated += [b for item in inclusion if context.search(item) and (b := age_bounds(item))]
    for ages in stated:
        if (low is None and ages.low) or (high is None and ages.high):
            at_diagnosis = at_diagnosis or ages.at_diagnosis
        low, high = low or ages.low, high or ages.high
    return Ages(low, high, at_diagnosis)


def _criteria_text(inclusion: list[str], exclusion: list[str]) -> str | None:
    blocks = [
        f"{name} Criteria:\n\n" + "\n".join(f"* {item}" for item in items)
        for name, items in (("Inclusion", inclusion), ("Exclusion", exclusion))
        if items
    ]
    return "\n\n".join(blocks) or None


def _eligibility(page: Page) -> Eligibility:
    def items(key: str) -> list[str]:
        return [item for section in page.of(key) for item in criteria(section)[0]]

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


def _paragraphs(lines: Iterable[Line], skip: set[int]) -> list[str]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.kind == "text" and line.no not in skip:
            paragraphs[-1].append(line.text)
        elif line.kind == "blank" and paragraphs[-1]:
            paragraphs.append([])
    return ["\n".join(p) for p in paragraphs if p]


def _summary(page: Page, title: str) -> str | None:
    """Prose before the criteria that no heading names, then the summary sections."""
    first_criteria = min((s.no for s in page.of(*CRITERIA)), default=10**9)
    lead = [
        line.text
        for line, _ in page.loose
        if line.no < first_criteria and line.text != title and line.no not in page.notice_lines and is_prose(line.text)
    ]
    parts = lead + [p for s in page.of("summary") for p in _paragraphs(s.lines, page.notice_lines)]
    return "\n\n".join(parts) or None


def _description(page: Page) -> str | None:
    parts = [p for s in page.of("description") for p in _paragraphs(s.lines, page.notice_lines)]
    return "\n\n".join(parts) or None


def _ids(page: Page, sponsor: str | None) -> list[RegistryId]:
    ids = [rid for f in sorted(page.values("id"), key=lambda f: f.no) for rid in f.value]
    for section in page.of("other_ids"):
        ids += _other_ids(section, sponsor)
    return _unique(ids, lambda rid: (rid.type, rid.id))


def _other_ids(section: Section, sponsor: str | None) -> list[RegistryId]:
    """Entries of an "Other Identifiers" block: the id, then optional type, source and domain lines."""
    patterns = load_rules().patterns
    describe = {norm(text): role for role, texts in patterns["other_id_labels"].items() for text in texts}
    entries: list[dict[str, str]] = []
    for line in section.content():
        name, _, value = line.text.partition(":")
        if value and norm(name) in describe:
            if entries:
                entries[-1][describe[norm(name)]] = value.strip()
        elif re.fullmatch(r"[A-Za-z0-9][\w./-]{0,39}", line.text) or registry_ids(line.text):
            entries.append({"id": line.text})
    return [rid for entry in entries if (rid := _other_id(entry, sponsor, patterns))]


def _other_id(entry: dict[str, str], sponsor: str | None, patterns: dict[str, Any]) -> RegistryId | None:
    if found := registry_ids(entry["id"]):
        return found[0]
    source = patterns["id_sources"].get(entry.get("source", "").lower())
    named = patterns["id_type_names"].get(entry.get("type", "").lower())
    id_type = source if source and source != "OTHER" else named or source or "OTHER"
    domain = entry.get("domain") or (sponsor if id_type == "ORG_STUDY_ID" else None)
    return RegistryId(id=entry["id"], type=id_type, domain=domain)


def _vocabulary_names(text: str, kind: str) -> list[str]:
    names = [m.concept.name for m in load_vocabulary().find(text, kinds={kind})]
    return list(dict.fromkeys(names))


def _conditions(page: Page, title: str) -> list[str]:
    listed = [f.value for f in page.values("conditions")]
    listed += [line.text.rstrip(" .;") for s in page.of("conditions") for line in block(s)[0]]
    listed = [part.strip() for entry in listed for part in re.split(r"[;|]", entry) if part.strip()]
    return list(dict.fromkeys(listed)) or _vocabulary_names(title, "condition")


_TYPED = re.compile(
    r"^(drug|biological|device|procedure|radiation|behavioral|genetic|dietary supplement"
    r"|combination product|diagnostic test|other)\s*:\s*(\S.*)$",
    re.IGNORECASE,
)


def _typed(text: str) -> Intervention | None:
    """An intervention written with its CT.gov type: "Drug: Blinatumomab"."""
    typed = _TYPED.match(text)
    return Intervention(name=typed.group(2), type=typed.group(1).upper().replace(" ", "_")) if typed else None


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return len(words) == 1 or (len(words) <= 5 and all(w[0].isupper() or w[0].isdigit() for w in words))


def _interventions(page: Page, title: str) -> list[Intervention]:
    # "Drug: X" under an "Interventions" heading is read as a field labelled "Drug": its label is the type.
    found = [_typed(f"{f.label}: {f.value}") or Intervention(name=f.value) for f in page.values("interventions")]
    for section in page.of("interventions"):
        for line in block(section, sentences_end=False)[0]:
            if typed := _typed(line.text):
                found.append(typed)
            elif found and not found[-1].description and not _looks_like_name(line.text):
                found[-1] = found[-1].model_copy(update={"description": line.text})
            else:
                found.append(Intervention(name=line.text))
    if not found:
        found = [Intervention(name=name, type="DRUG") for name in _vocabulary_names(title, "drug")]
    return _unique(found, lambda i: i.name.casefold())


def _organisations(lines: Iterable[Line]) -> list[Organization]:
    classes = set(load_rules().patterns["agency_classes"])
    found: list[Organization] = []
    for line in lines:
        if line.text.upper() in classes and found and not found[-1].agency_class:
            found[-1] = found[-1].model_copy(update={"agency_class": line.text.upper()})
        elif not is_prose(line.text):
            found.append(Organization(name=line.text))
    return found


def _sponsors(page: Page) -> tuple[Organization | None, list[Organization]]:
    named = [Organization(name=f.value) for f in page.values("sponsor")]
    for section in page.of("sponsor"):
        named += _organisations(block(section)[0])
    collaborators = named[1:] + [Organization(name=f.value) for f in page.values("collaborators")]
    for section in page.of("collaborators"):
        collaborators += _organisations(block(section)[0])
    # A sponsor shown without a label: an organisation's name between the page's bare values.
    lead = (
        named[0]
        if named
        else next((Organization(name=f.value) for f in page.values("organisation") if f.no > _header_end(page)), None)
    )
    return lead, _unique(collaborators, lambda o: o.name.casefold())


def _header_end(page: Page) -> int:
    """Where the header ends: names above the first heading are the portal's own branding."""
    return page.sections[1].no if len(page.sections) > 1 else 10**9


def _officials(page: Page) -> list[Official]:
    patterns = load_rules().patterns
    roles = patterns["official_roles"]
    found = [Official(name=f.value, role=roles.get(norm(f.label or ""))) for f in page.values("officials")]
    for section in page.of("officials"):
        found += _official_block(block(section)[0], roles.get(norm(section.heading)), patterns)
    return found


def _official_block(lines: list[Line], role: str | None, patterns: dict[str, Any]) -> list[Official]:
    """Names, each optionally followed by "Role: …" and an affiliation (labelled or on the next line)."""
    labels = {norm(text): key for key, texts in patterns["official_labels"].items() for text in texts}
    found: list[Official] = []
    after_role = False  # mirrors print the affiliation on the line after "Role: …"
    for line in lines:
        name, _, value = line.text.partition(":")
        key = labels.get(norm(name)) if value.strip() else None
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
    short = set(load_rules().patterns["short_countries"])
    for width in (2, 1):
        if len(parts) > width:
            country = ", ".join(parts[-width:])
            if country_code(country) and (len(country) > 3 or country.upper() in short):
                rest = parts[:-width]
                zips = [p for p in rest[1:] if re.search(r"\d", p)]
                states = [p for p in rest[1:] if p not in zips]
                return {
                    "city": rest[0],
                    "state": ", ".join(states) or None,
                    "zip": zips[0] if zips else None,
                    "country": country,
                }
    return None


def _sites(page: Page) -> list[Site]:
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
        elif not is_prose(text):
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


def build(page: Page, location: str, title: str) -> Trial:
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
        keywords=[line.text for s in page.of("keywords") for line in block(s)[0]],
        interventions=_interventions(page, title),
        eligibility=eligibility,
        lead_sponsor=lead,
        collaborators=collaborators,
        officials=_officials(page),
        sites=_sites(page),
        provenance=Provenance(source=SOURCE, location=location, source_last_update=last_update),
    )
