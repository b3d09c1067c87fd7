"""Give facts their vocabulary concept ids, from codes first and then from names.

Every reader calls ``resolve_concepts`` last, so the matcher only ever compares concept ids. A name the
vocabulary doesn't know keeps ``concept=None``: such a fact can still be shown, but it settles no rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from trialmatch.patients.facts import Coding, PatientFacts
from trialmatch.vocabulary import Vocabulary, load_vocabulary

#: FHIR code system URIs (and common short forms) to the vocabulary's code keys.
CODE_SYSTEMS: dict[str, str] = {
    "http://snomed.info/sct": "snomed",
    "http://hl7.org/fhir/sid/icd-10": "icd10",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10",
    "http://loinc.org": "loinc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "http://www.whocc.no/atc": "atc",
    "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl": "ncit",
    "snomed": "snomed", "icd10": "icd10", "loinc": "loinc", "rxnorm": "rxnorm", "atc": "atc", "ncit": "ncit",
}

#: Which concept kinds each list of facts may take its ids from.
_KINDS: dict[str, set[str]] = {
    "conditions": {"condition", "infection"},
    "labs": {"lab", "measure"},
    "therapies": {"drug", "drug_class", "procedure"},
    "infections": {"infection", "condition"},
    "allergies": {"drug", "drug_class"},
}


def concept_for(
    name: str, codes: Iterable[Coding], kinds: set[str], vocabulary: Vocabulary | None = None
) -> str | None:
    """The concept id for a coded or named fact: a known code wins, else the longest name found in ``name``."""
    vocabulary = vocabulary or load_vocabulary()
    for coding in codes:
        system = CODE_SYSTEMS.get((coding.system or "").rstrip("/").lower()) or CODE_SYSTEMS.get(coding.system or "")
        concept = vocabulary.by_code(system, coding.code) if system else None
        if concept is not None and concept.kind in kinds:
            return concept.id
    texts = [name, *(c.display for c in codes if c.display)]
    for text in texts:
        found = vocabulary.find(text, kinds)
        if found:
            return max(found, key=lambda m: m.end - m.start).concept.id
    return None


def resolve_concepts(facts: PatientFacts, vocabulary: Vocabulary | None = None) -> PatientFacts:
    """A copy of ``facts`` in which every fact that can have a concept id has one."""
    vocabulary = vocabulary or load_vocabulary()
    updates: dict[str, list] = {}
    for field, kinds in _KINDS.items():
        resolved = []
        for fact in getattr(facts, field):
            key = "analyte" if field == "labs" else "concept"
            if getattr(fact, key) is None and fact.name:
                found = concept_for(fact.name, fact.codes, kinds, vocabulary)
                if found is not None:
                    fact = fact.model_copy(update={key: found})
            indication = getattr(fact, "indication", None)
            if indication and vocabulary.get(indication) is None:
                # What a therapy treated may be written as a name ("acute myeloid leukaemia"), not a concept id.
                named = concept_for(indication, [], {"condition", "infection"}, vocabulary)
                if named is not None:
                    fact = fact.model_copy(update={"indication": named})
            resolved.append(fact)
        updates[field] = resolved
    return facts.model_copy(update=updates)
