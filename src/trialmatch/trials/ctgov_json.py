"""Convert one ClinicalTrials.gov API v2 study (the object holding "protocolSection") to a Trial.

Every module is optional; a module of the wrong JSON type is a RecordError, not a crash.
Strings are kept exactly as CT.gov wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from trialmatch.trials.errors import RecordError
from trialmatch.trials.identifiers import NCT_RE, dedupe_ids, secondary_id_type
from trialmatch.trials.normalize import (
    NO_AGE_LIMIT,
    parse_age,
    parse_bool,
    parse_date,
    parse_phases,
    parse_sex,
    parse_status,
    parse_study_type,
)
from trialmatch.trials.record import (
    AgeLimit,
    Arm,
    Contact,
    Eligibility,
    GeoPoint,
    Intervention,
    MeshTerm,
    Official,
    Organization,
    Phase,
    Provenance,
    RegistryId,
    Site,
    Trial,
    primary_id,
)

SOURCE = "ctgov-v2"


class _Reader:
    """Typed access to the study's JSON; errors name the path inside the study, the caller knows the file."""

    def fail(self, message: str) -> RecordError:
        return RecordError(message)

    def obj(self, parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(f"{path}.{key} should be an object, not {type(value).__name__}")
        return value

    def items(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{path}.{key} should be a list, not {type(value).__name__}")
        return value

    def objs(self, parent: Mapping[str, Any], key: str, path: str) -> list[tuple[Mapping[str, Any], str]]:
        """The objects in a list, each with its path for error messages."""
        found = []
        for index, item in enumerate(self.items(parent, key, path)):
            where = f"{path}.{key}[{index}]"
            if not isinstance(item, Mapping):
                raise self.fail(f"{where} should be an object, not {type(item).__name__}")
            found.append((item, where))
        return found

    def text(self, parent: Mapping[str, Any], key: str, path: str) -> str | None:
        return self._scalar(parent.get(key), f"{path}.{key}")

    def texts(self, parent: Mapping[str, Any], key: str, path: str) -> list[str]:
        found = []
        for index, item in enumerate(self.items(parent, key, path)):
            value = self._scalar(item, f"{path}.{key}[{index}]")
            if value:
                found.append(value)
        return found

    def _scalar(self, value: object, where: str) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(f"{where} should be text, not {type(value).__name__}")
        return str(value)

    def date(self, module: Mapping[str, Any], key: str, path: str) -> str | None:
        return parse_date(self.text(self.obj(module, key, path), "date", f"{path}.{key}"))

    def age(self, module: Mapping[str, Any], key: str, path: str) -> AgeLimit | None:
        text = self.text(module, key, path)
        age = parse_age(text)
        if text and age is None and text.strip().upper() not in NO_AGE_LIMIT:
            raise self.fail(f"{path}.{key} {text!r} is not an age such as '18 Years'")
        return age


def _ids(read: _Reader, ident: Mapping[str, Any], sponsor_name: str | None) -> list[RegistryId]:
    path = "identificationModule"
    nct = (read.text(ident, "nctId", path) or "").strip().upper()
    if not nct:
        raise read.fail("study has no identificationModule.nctId")
    if not NCT_RE.match(nct):
        raise read.fail(f"identificationModule.nctId {nct!r} is not an NCT number")
    ids = [RegistryId(id=nct, type="NCT")]
    ids += [RegistryId(id=alias, type="NCT_ALIAS") for alias in read.texts(ident, "nctIdAliases", path)]
    org_id = read.text(read.obj(ident, "orgStudyIdInfo", path), "id", f"{path}.orgStudyIdInfo")
    if org_id:
        ids.append(RegistryId(id=org_id, type="ORG_STUDY_ID", domain=sponsor_name))
    for info, where in read.objs(ident, "secondaryIdInfos", path):
        text = read.text(info, "id", where)
        if text:
            kind = secondary_id_type(text, read.text(info, "type", where))
            ids.append(RegistryId(id=text, type=kind, domain=read.text(info, "domain", where)))
    return dedupe_ids(ids)


def _organization(read: _Reader, entry: Mapping[str, Any], path: str) -> Organization | None:
    name = read.text(entry, "name", path)
    return Organization(name=name, agency_class=read.text(entry, "class", path)) if name else None


def _contact(read: _Reader, entry: Mapping[str, Any], path: str) -> Contact:
    phone = read.text(entry, "phone", path)
    extension = read.text(entry, "phoneExt", path)
    if phone and extension:
        phone = f"{phone} ext. {extension}"
    return Contact(
        name=read.text(entry, "name", path),
        role=read.text(entry, "role", path),
        phone=phone,
        email=read.text(entry, "email", path),
    )


def _site(read: _Reader, entry: Mapping[str, Any], path: str) -> Site:
    geo = read.obj(entry, "geoPoint", path)
    lat, lon = geo.get("lat"), geo.get("lon")
    point = None
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        point = GeoPoint(lat=lat, lon=lon)
    elif geo:
        raise read.fail(f"{path}.geoPoint needs numeric lat and lon")
    return Site(
        facility=read.text(entry, "facility", path),
        city=read.text(entry, "city", path),
        state=read.text(entry, "state", path),
        zip=read.text(entry, "zip", path),
        country=read.text(entry, "country", path),
        status=read.text(entry, "status", path),
        contacts=[_contact(read, contact, where) for contact, where in read.objs(entry, "contacts", path)],
        geo=point,
    )


def _phases(read: _Reader, design: Mapping[str, Any]) -> list[Phase]:
    phases: list[Phase] = []
    for text in read.texts(design, "phases", "designModule"):
        phases += [phase for phase in parse_phases(text) if phase not in phases]
    return phases


def _enrollment(read: _Reader, design: Mapping[str, Any]) -> tuple[int | None, str | None]:
    info = read.obj(design, "enrollmentInfo", "designModule")
    count = info.get("count")
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise read.fail(f"designModule.enrollmentInfo.count {count!r} is not a whole number")
    return count, read.text(info, "type", "designModule.enrollmentInfo")


def _eligibility(read: _Reader, module: Mapping[str, Any]) -> Eligibility:
    path = "eligibilityModule"
    healthy = module.get("healthyVolunteers")
    if not isinstance(healthy, bool):
        healthy = parse_bool(read.text(module, "healthyVolunteers", path))
    return Eligibility(
        criteria_text=read.text(module, "eligibilityCriteria", path),
        minimum_age=read.age(module, "minimumAge", path),
        maximum_age=read.age(module, "maximumAge", path),
        sex=parse_sex(read.text(module, "sex", path)),
        healthy_volunteers=healthy,
        std_ages=read.texts(module, "stdAges", path),
    )


def _arms(read: _Reader, module: Mapping[str, Any]) -> list[Arm]:
    arms = []
    for arm, where in read.objs(module, "armGroups", "armsInterventionsModule"):
        label = read.text(arm, "label", where)
        if label:
            arms.append(
                Arm(
                    label=label,
                    type=read.text(arm, "type", where),
                    description=read.text(arm, "description", where),
                    intervention_names=read.texts(arm, "interventionNames", where),
                )
            )
    return arms


def _interventions(read: _Reader, module: Mapping[str, Any]) -> list[Intervention]:
    interventions = []
    for item, where in read.objs(module, "interventions", "armsInterventionsModule"):
        name = read.text(item, "name", where)
        if name:
            interventions.append(
                Intervention(
                    name=name,
                    type=read.text(item, "type", where),
                    description=read.text(item, "description", where),
                    other_names=read.texts(item, "otherNames", where),
                    arm_labels=read.texts(item, "armGroupLabels", where),
                )
            )
    return interventions


def _mesh_terms(read: _Reader, study: Mapping[str, Any]) -> list[MeshTerm]:
    browse = read.obj(read.obj(study, "derivedSection", "study"), "conditionBrowseModule", "derivedSection")
    return [
        MeshTerm(term=term, id=read.text(mesh, "id", where))
        for mesh, where in read.objs(browse, "meshes", "derivedSection.conditionBrowseModule")
        if (term := read.text(mesh, "term", where))
    ]


def _officials(read: _Reader, places: Mapping[str, Any]) -> list[Official]:
    officials = []
    for entry, where in read.objs(places, "overallOfficials", "contactsLocationsModule"):
        name = read.text(entry, "name", where)
        if name:
            officials.append(
                Official(
                    name=name,
                    affiliation=read.text(entry, "affiliation", where),
                    role=read.text(entry, "role", where),
                )
            )
    return officials


_MODULES = (
    "identificationModule",
    "statusModule",
    "descriptionModule",
    "designModule",
    "conditionsModule",
    "armsInterventionsModule",
    "eligibilityModule",
    "sponsorCollaboratorsModule",
    "contactsLocationsModule",
)


def trial_from_study(study: dict, location: str) -> Trial:
    """Convert one CT.gov API v2 study object; raise RecordError when it can't be read."""
    read = _Reader()
    if not isinstance(study, Mapping):
        raise read.fail(f"a study should be a JSON object, not {type(study).__name__}")
    protocol = read.obj(study, "protocolSection", "study")
    if not protocol:
        raise read.fail("study has no protocolSection")
    modules = {name: read.obj(protocol, name, "protocolSection") for name in _MODULES}
    ident, status, design = modules["identificationModule"], modules["statusModule"], modules["designModule"]
    description, conditions = modules["descriptionModule"], modules["conditionsModule"]
    sponsors, places = modules["sponsorCollaboratorsModule"], modules["contactsLocationsModule"]

    lead = _organization(
        read,
        read.obj(sponsors, "leadSponsor", "sponsorCollaboratorsModule"),
        "sponsorCollaboratorsModule.leadSponsor",
    )
    organization = read.text(
        read.obj(ident, "organization", "identificationModule"),
        "fullName",
        "identificationModule.organization",
    )
    ids = _ids(read, ident, lead.name if lead else organization)
    status_text = read.text(status, "overallStatus", "statusModule")
    enrollment, enrollment_type = _enrollment(read, design)
    last_update = read.date(status, "lastUpdatePostDateStruct", "statusModule")
    try:
        return Trial(
            id=primary_id(ids) or ids[0].id,
            ids=ids,
            brief_title=read.text(ident, "briefTitle", "identificationModule"),
            official_title=read.text(ident, "officialTitle", "identificationModule"),
            acronym=read.text(ident, "acronym", "identificationModule"),
            brief_summary=read.text(description, "briefSummary", "descriptionModule"),
            detailed_description=read.text(description, "detailedDescription", "descriptionModule"),
            overall_status=parse_status(status_text),
            status_text=status_text,
            why_stopped=read.text(status, "whyStopped", "statusModule"),
            phases=_phases(read, design),
            study_type=parse_study_type(read.text(design, "studyType", "designModule")),
            enrollment=enrollment,
            enrollment_type=enrollment_type,
            start_date=read.date(status, "startDateStruct", "statusModule"),
            primary_completion_date=read.date(status, "primaryCompletionDateStruct", "statusModule"),
            completion_date=read.date(status, "completionDateStruct", "statusModule"),
            first_posted=read.date(status, "studyFirstPostDateStruct", "statusModule"),
            last_update_posted=last_update,
            conditions=read.texts(conditions, "conditions", "conditionsModule"),
            condition_mesh=_mesh_terms(read, study),
            keywords=read.texts(conditions, "keywords", "conditionsModule"),
            arms=_arms(read, modules["armsInterventionsModule"]),
            interventions=_interventions(read, modules["armsInterventionsModule"]),
            eligibility=_eligibility(read, modules["eligibilityModule"]),
            lead_sponsor=lead,
            collaborators=[
                org
                for entry, where in read.objs(sponsors, "collaborators", "sponsorCollaboratorsModule")
                if (org := _organization(read, entry, where))
            ],
            officials=_officials(read, places),
            central_contacts=[
                _contact(read, entry, where)
                for entry, where in read.objs(places, "centralContacts", "contactsLocationsModule")
            ],
            sites=[
                _site(read, entry, where) for entry, where in read.objs(places, "locations", "contactsLocationsModule")
            ],
            provenance=Provenance(source=SOURCE, location=location, source_last_update=last_update),
        )
    except ValidationError as error:
        raise read.fail(f"{ids[0].id} does not fit the Trial record: {error}") from error
