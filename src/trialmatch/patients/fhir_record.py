"""One patient's FHIR record while it is being read: its resources by reference, the facts so far, warnings."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from trialmatch.patients.facts import ConditionFact, PatientFacts
from trialmatch.vocabulary import Vocabulary, load_vocabulary

#: The resource part of a literal reference: "Patient/123", "https://x/fhir/Patient/123/_history/2".
_LITERAL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([^/]+?)(?:/_history/[^/]+)?$")


@dataclass
class RecordReading:
    """One bundle being read: its resources (found by any way a reference names them), facts and warnings."""

    facts: PatientFacts = field(default_factory=PatientFacts)
    vocabulary: Vocabulary = field(default_factory=load_vocabulary)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    patient: str | None = None
    #: Conditions read so far, by their "Condition/id": observations add qualifiers to them later.
    condition_index: dict[str, int] = field(default_factory=dict)
    #: Conditions with the mCODE primary-cancer profile: where a finding without a focus belongs.
    primary_cancers: list[str] = field(default_factory=list)
    #: (condition, qualifier) -> date of the finding that set it, so an older finding never overrides a newer one.
    _qualified: dict[tuple[str, str], dt.date | None] = field(default_factory=dict)

    def add_resource(self, resource: dict[str, Any], full_url: str | None, position: int) -> tuple[str, bool]:
        """Register a resource: its reference ("Type/id"), and whether it is new.

        A resource without an id is named by its fullUrl, else by its place in the bundle. A second
        resource with the same "Type/id" keeps the first: bundles merged from two exports often hold the
        same resource twice.
        """
        kind, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(rid, str) and rid.strip():
            key = f"{kind}/{rid.strip()}"
        elif full_url and (literal := self._literal(full_url.removeprefix("urn:uuid:"), str(kind))):
            key = literal
        else:
            key = f"Bundle.entry[{position}]"
        if full_url:
            self.aliases.setdefault(full_url, key)
        if key in self.resources:
            return key, False
        self.resources[key] = resource
        self.aliases[key] = key
        return key, True

    @staticmethod
    def _literal(url: str, kind: str) -> str | None:
        match = _LITERAL.search(url)
        if match:
            return f"{match.group(1)}/{match.group(2)}" if match.group(1) == kind else None
        return f"{kind}/{url}" if re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", url) else None

    def resolve(self, ref: str | None) -> str | None:
        """The "Type/id" a reference points to in this bundle, else its literal form, else None."""
        if not ref:
            return None
        if ref in self.aliases:
            return self.aliases[ref]
        match = _LITERAL.search(ref)
        if match:
            literal = f"{match.group(1)}/{match.group(2)}"
            return self.aliases.get(literal, literal)
        return None

    def resource(self, ref: str | None) -> dict[str, Any] | None:
        key = self.resolve(ref)
        return self.resources.get(key) if key else None

    def warn(self, where: str, message: str) -> None:
        line = f"{where}: {message}"
        if line not in self.facts.warnings:
            self.facts.warnings.append(line)

    def add_condition(self, ref: str, fact: ConditionFact, primary_cancer: bool) -> None:
        self.condition_index[ref] = len(self.facts.conditions)
        self.facts.conditions.append(fact)
        if primary_cancer:
            self.primary_cancers.append(ref)

    def cancer_for(self, focus: list[str | None]) -> str | None:
        """The cancer condition a finding is about: its focus, else the one primary cancer, else the one cancer."""
        for ref in focus:
            key = self.resolve(ref)
            if key in self.condition_index:
                return key
        if len(self.primary_cancers) == 1:
            return self.primary_cancers[0]
        cancers = [
            ref for ref, i in self.condition_index.items()
            if (concept := self.facts.conditions[i].concept) and self.vocabulary.is_a(concept, "cancer")
            and self.facts.conditions[i].present and not self.facts.conditions[i].family]
        return cancers[0] if len(cancers) == 1 else None

    def qualify(self, ref: str, field_name: str, value: object, date: dt.date | None) -> None:
        """Set a qualifier of a condition read earlier (validated like any fact); the latest finding wins."""
        earlier = self._qualified.get((ref, field_name), False)
        if earlier is not False and earlier is not None and (date is None or date < earlier):
            return
        self._qualified[(ref, field_name)] = date
        i = self.condition_index[ref]
        current = self.facts.conditions[i]
        self.facts.conditions[i] = ConditionFact.model_validate({**current.model_dump(), field_name: value})
