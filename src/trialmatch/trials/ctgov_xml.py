"""Convert one legacy ClinicalTrials.gov XML record (<clinical_study>) to a Trial.

The XML is parsed without resolving entities or touching the network, and a document that
declares or uses entities is refused: CT.gov never writes them, attackers do.
"""

from __future__ import annotations

import re

from lxml import etree
from pydantic import ValidationError

from trialmatch.trials.errors import RecordError
from trialmatch.trials.identifiers import NCT_RE, dedupe_ids, other_id_type
from trialmatch.trials.normalize import (
    NO_AGE_LIMIT,
    SITE_STATUSES,
    agency_class,
    clean_textblock,
    enum_name,
    one_line,
    parse_age,
    parse_bool,
    parse_date,
    parse_phases,
    parse_sex,
    parse_status,
    parse_study_type,
    std_ages,
)
from trialmatch.trials.record import (
    AgeLimit,
    Arm,
    Contact,
    Eligibility,
    Intervention,
    MeshTerm,
    Official,
    Organization,
    Provenance,
    RegistryId,
    Site,
    Trial,
    primary_id,
)

SOURCE = "ctgov-xml"

_ENROLLMENT_TYPES = {"actual": "ACTUAL", "anticipated": "ESTIMATED", "estimated": "ESTIMATED"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=True,
    )


def _without_results(data: bytes) -> bytes:
    """The record without its <clinical_results> block, which is most of a large record and never read."""
    start = data.find(b"<clinical_results>")
    end = data.find(b"</clinical_results>", start)
    if start == -1 or end == -1:
        return data
    return data[:start] + data[end + len(b"</clinical_results>") :]


def _parse(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise RecordError(f"malformed XML at line {line}, column {column}: {error.msg}") from error
    dtd = root.getroottree().docinfo.internalDTD
    declares = dtd is not None and next(dtd.iterentities(), None) is not None
    if declares or next(root.iter(etree.Entity), None) is not None:
        raise RecordError("XML declares or uses entities, which CT.gov records never do; refused")
    if root.tag != "clinical_study":
        raise RecordError(f"root element is <{root.tag}>, not <clinical_study>")
    return root


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    return _clean(found.text) if found is not None else None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def _texts(element: etree._Element, path: str) -> list[str]:
    return [text for found in element.findall(path) if (text := _clean(found.text))]


def _age(element: etree._Element, path: str) -> AgeLimit | None:
    text = _text(element, path)
    age = parse_age(text)
    if text and age is None and text.upper() not in NO_AGE_LIMIT:
        raise RecordError(f"<{path}> {text!r} is not an age such as '18 Years'")
    return age


def _ids(root: etree._Element, sponsor: str | None) -> list[RegistryId]:
    nct = (_text(root, "id_info/nct_id") or "").upper()
    if not nct:
        raise RecordError("record has no <id_info><nct_id>")
    if not NCT_RE.match(nct):
        raise RecordError(f"<nct_id> {nct!r} is not an NCT number")
    ids = [RegistryId(id=nct, type="NCT")]
    ids += [RegistryId(id=alias, type="NCT_ALIAS") for alias in _texts(root, "id_info/nct_alias")]
    ids += [RegistryId(id=org, type="ORG_STUDY_ID", domain=sponsor) for org in _texts(root, "id_info/org_study_id")]
    ids += [RegistryId(id=other, type=other_id_type(other)) for other in _texts(root, "id_info/secondary_id")]
    return dedupe_ids(ids)


def _organization(element: etree._Element) -> Organization | None:
    name = _text(element, "agency")
    return Organization(name=name, agency_class=agency_class(_text(element, "agency_class"))) if name else None


def _contact(element: etree._Element, role: str | None = "CONTACT") -> Contact:
    fields = _child_texts(element)
    phone, extension = fields.get("phone"), fields.get("phone_ext")
    if phone and extension:
        phone = f"{phone} ext. {extension}"
    return Contact(name=fields.get("last_name"), role=role, phone=phone, email=fields.get("email"))


def _site(element: etree._Element) -> Site:
    # Sites are most of a large record: walk each level's children once instead of path lookups.
    status_text, facility, contacts, investigators = None, {}, [], []
    for child in element.iterchildren(tag=etree.Element):
        if child.tag == "status":
            status_text = _clean(child.text)
        elif child.tag == "facility":
            facility = _child_texts(child)
            address = child.find("address")
            facility.update(_child_texts(address) if address is not None else {})
        elif child.tag in ("contact", "contact_backup"):
            contacts.append(_contact(child))
        elif child.tag == "investigator":
            investigators.append(_contact(child, enum_name(_text(child, "role"))))
    status = parse_status(status_text)
    return Site(
        facility=facility.get("name"),
        city=facility.get("city"),
        state=facility.get("state"),
        zip=facility.get("zip"),
        country=facility.get("country"),
        status=status.value if status in SITE_STATUSES else None,
        contacts=contacts + investigators,
    )


def _child_texts(element: etree._Element) -> dict[str, str]:
    """Tag -> cleaned text of an element's direct children (first of each tag)."""
    texts: dict[str, str] = {}
    for child in element.iterchildren(tag=etree.Element):
        if child.tag not in texts and (text := _clean(child.text)):
            texts[child.tag] = text
    return texts


def _interventions(root: etree._Element) -> list[Intervention]:
    return [
        Intervention(
            name=name,
            type=enum_name(_text(found, "intervention_type")),
            description=_text(found, "description"),
            other_names=_texts(found, "other_name"),
            arm_labels=_texts(found, "arm_group_label"),
        )
        for found in root.findall("intervention")
        if (name := _text(found, "intervention_name"))
    ]


def _arms(root: etree._Element) -> list[Arm]:
    # CT.gov v2 lists each arm's interventions as "Type: name"; the XML only links them from the intervention.
    names: dict[str, list[str]] = {}
    for found in root.findall("intervention"):
        name, kind = _text(found, "intervention_name"), _text(found, "intervention_type")
        for label in _texts(found, "arm_group_label"):
            names.setdefault(label, []).append(f"{kind}: {name}" if kind else name or "")
    return [
        Arm(
            label=label,
            type=enum_name(_text(found, "arm_group_type")),
            description=_text(found, "description"),
            intervention_names=[n for n in names.get(label, []) if n],
        )
        for found in root.findall("arm_group")
        if (label := _text(found, "arm_group_label"))
    ]


def _eligibility(root: etree._Element) -> Eligibility:
    minimum = _age(root, "eligibility/minimum_age")
    maximum = _age(root, "eligibility/maximum_age")
    return Eligibility(
        criteria_text=clean_textblock(root.findtext("eligibility/criteria/textblock")),
        minimum_age=minimum,
        maximum_age=maximum,
        sex=parse_sex(_text(root, "eligibility/gender")),
        healthy_volunteers=parse_bool(_text(root, "eligibility/healthy_volunteers")),
        std_ages=std_ages(minimum, maximum),
    )


def _study_type(text: str | None) -> str | None:
    # "Observational [Patient Registry]": the bracket is a sub-type CT.gov v2 keeps elsewhere.
    return parse_study_type(re.sub(r"\s*\[.*\]\s*$", "", text)) if text else None


def trial_from_xml(data: bytes, location: str) -> Trial:
    """Convert one legacy CT.gov XML record; raise RecordError when it can't be read."""
    root = _parse(_without_results(data))
    lead = root.find("sponsors/lead_sponsor")
    lead_sponsor = _organization(lead) if lead is not None else None
    ids = _ids(root, lead_sponsor.name if lead_sponsor else None)
    status_text = _text(root, "overall_status")
    enrollment_text = _text(root, "enrollment")
    enrollment_type = root.find("enrollment").get("type", "") if enrollment_text else ""
    last_update = parse_date(_text(root, "last_update_posted"))
    try:
        return Trial(
            id=primary_id(ids) or ids[0].id,
            ids=ids,
            brief_title=_text(root, "brief_title"),
            official_title=_text(root, "official_title"),
            acronym=_text(root, "acronym"),
            brief_summary=clean_textblock(root.findtext("brief_summary/textblock")),
            detailed_description=clean_textblock(root.findtext("detailed_description/textblock")),
            overall_status=parse_status(status_text),
            status_text=status_text,
            why_stopped=one_line(_text(root, "why_stopped")),
            phases=parse_phases(_text(root, "phase")),
            study_type=_study_type(_text(root, "study_type")),
            enrollment=int(enrollment_text) if enrollment_text and enrollment_text.isdigit() else None,
            enrollment_type=_ENROLLMENT_TYPES.get(enrollment_type.strip().lower()),
            start_date=parse_date(_text(root, "start_date")),
            primary_completion_date=parse_date(_text(root, "primary_completion_date")),
            completion_date=parse_date(_text(root, "completion_date")),
            first_posted=parse_date(_text(root, "study_first_posted")),
            last_update_posted=last_update,
            conditions=_texts(root, "condition"),
            condition_mesh=[MeshTerm(term=term) for term in _texts(root, "condition_browse/mesh_term")],
            keywords=_texts(root, "keyword"),
            arms=_arms(root),
            interventions=_interventions(root),
            eligibility=_eligibility(root),
            lead_sponsor=lead_sponsor,
            collaborators=[org for found in root.findall("sponsors/collaborator") if (org := _organization(found))],
            officials=[
                Official(name=name, affiliation=_text(found, "affiliation"), role=enum_name(_text(found, "role")))
                for found in root.findall("overall_official")
                if (name := _text(found, "last_name"))
            ],
            central_contacts=[
                _contact(found) for found in root.findall("overall_contact") + root.findall("overall_contact_backup")
            ],
            sites=[_site(found) for found in root.findall("location")],
            provenance=Provenance(source=SOURCE, location=location, source_last_update=last_update),
        )
    except ValidationError as error:
        raise RecordError(f"{ids[0].id} does not fit the Trial record: {error}") from error
