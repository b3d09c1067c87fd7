"""Allergy or hypersensitivity to a drug: "Known hypersensitivity to blinatumomab or any of the products or
components of the blinatumomab formulation", "Know you are allergic to blinatumomab or immunoglobulin",
"history of severe allergic reaction to rituximab", "known allergy to X or its excipients", "X allergy".

Each drug named becomes a ``Hypersensitivity`` leaf (several joined by ``any``); ``components`` is set
when the text adds the drug's own components or excipients, ``severe`` when only severe reactions count.
Components of "the study drug" are not read: which drug that is, the criterion alone does not say.
"Hypersensitivity or intolerance to X" is not read: an intolerance is no allergy, and no leaf says it.
"""

from __future__ import annotations

import re
from functools import cache

from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.rules import AnyOf, Hypersensitivity, Rule
from trialmatch.vocabulary.concepts import ConceptMatch, load_vocabulary

_KINDS = {"drug", "drug_class"}
#: Concepts that name no drug of the patient's in this sense ("hypersensitivity to study drug").
_NOT_AN_ALLERGEN = {"investigational_agent"}
_MARK, _FILL = "\ue000", "\ue001"
_DRUG = f"{_MARK}{_FILL}*"

_REACTION = (r"(?:hypersensitivity(?:\s+reactions?)?|hypersensitive|allerg(?:y|ies)|allergic(?:\s+reactions?)?|"
             r"anaphyla(?:xis|ctic\s+reactions?|ctic)|sensitivity)")
_SEVERE = r"(?:severe|serious|life[- ]threatening|grade\s*(?:3|4|[≥>]=?\s*3|3\s*(?:or|-|/)\s*4))"
_LEAD = re.compile(
    rf"(?<![\w-])(?:(?:know|known|aware)\s+(?:that\s+)?(?:you|they|he|she|the\s+(?:patient|participant|subject))\s+"
    rf"(?:are|is|were|was|have|has)\s+)?"
    rf"(?:(?:known|documented|suspected|prior|previous|any|a|history\s+of|past)(?:\s+(?:or|and/or)(?=\s+(?:known|suspected|documented)))?\s+)*"
    rf"(?P<sev>{_SEVERE}\s+)?(?P<reaction>{_REACTION})"
    rf"(?:\s*(?:,|or|and/or|and)\s*(?:{_SEVERE}\s+)?{_REACTION})*"
    rf"\s+(?:to|against|towards)\s+(?:any\s+of\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_SEP = r"\s*(?:,\s*)?(?:(?:and\s*/\s*or|and|or)\s+)?(?:to\s+)?"
_LIST = re.compile(rf"{_DRUG}(?:(?:{_SEP}|\s*,\s*){_DRUG})*")
_COMPONENT = r"(?:products?|components?|excipients?|ingredients?|constituents?|additives?|inactive\s+ingredients?)"
_COMPONENTS = re.compile(
    rf"^\s*,?\s*(?:or|and|and/or)\s+(?:to\s+)?(?:any\s+(?:of\s+)?)?(?:(?:its|their|the|other|of)\s+)*"
    rf"{_COMPONENT}(?:\s*(?:,|or|and|and/or)\s*{_COMPONENT})*"
    rf"(?P<of>\s+(?:of|in)\s+(?:(?:its|their)\s+|(?:the\s+)?(?P<drug>{_DRUG})\s+)(?:formulations?|products?|preparations?))?",
    re.IGNORECASE,
)
_AFTER_NAME = re.compile(rf"^\s+(?:{_REACTION})\b", re.IGNORECASE)
_NAME_LEAD = re.compile(r"(?:(?:known|documented|history\s+of|prior|previous)\s+)*$", re.IGNORECASE)
_FOLLOWERS = re.compile(
    r"^\s*(?:$|[.;,:)\]]|\(|\b(?:or|and|is|are|was|were|will|must|should|may|has|have|that|which|requiring|"
    r"with|including|except|unless)\b)",
    re.IGNORECASE,
)
_SEVERE_RE = re.compile(rf"{_SEVERE}|anaphyla", re.IGNORECASE)


@cache
def _not_allergens() -> frozenset[str]:
    return frozenset(_NOT_AN_ALLERGEN)


def _drugs(text: str) -> list[ConceptMatch]:
    return [m for m in load_vocabulary().find(text, kinds=_KINDS)
            if m.concept.id not in _not_allergens() and not m.text.lower().startswith(("study ", "trial "))]


def _mask(text: str, matches: list[ConceptMatch]) -> str:
    chars = list(text)
    for m in matches:
        chars[m.start] = _MARK
        chars[m.start + 1 : m.end] = _FILL * (m.end - m.start - 1)
    return "".join(chars)


#: Every reading names a reaction (``_REACTION``): a passage without one of these is skipped at once.
_REACTION_CUES = ("allerg", "sensitiv", "anaphyla")


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    lowered = text.lower()
    if not any(cue in lowered for cue in _REACTION_CUES):
        return []
    matches = _drugs(text)
    if not matches:
        return []
    by_start = {m.start: m for m in matches}
    masked = _mask(text, matches)
    found: list[Found] = []
    for listed in _LIST.finditer(masked):
        drugs = [by_start[i] for i in range(listed.start(), listed.end()) if masked[i] == _MARK]
        lead = _LEAD.search(masked[: listed.start()])
        start, end = listed.start(), listed.end()
        severe = False
        if lead:
            start = lead.start()
            severe = bool(_SEVERE_RE.search(lead.group(0)))
        else:
            # "sulfonamide allergy", "known blinatumomab hypersensitivity"
            after = _AFTER_NAME.match(masked[end:])
            if not after or len(drugs) != 1:
                continue
            end += after.end()
            name_lead = _NAME_LEAD.search(masked[:start])
            start = name_lead.start() if name_lead else start
            severe = bool(_SEVERE_RE.search(after.group(0)))
        components = False
        parts = _COMPONENTS.match(masked[end:])
        if parts and _FOLLOWERS.match(masked[end + parts.end() :]):
            # "of the blinatumomab formulation" must name the same drug; "of the product" may be the study's.
            own = parts.group("drug")
            same = own is None or (len(drugs) == 1 and by_start[end + parts.start("drug")].concept == drugs[0].concept)
            if same:
                components = True
                end += parts.end()
        if not _FOLLOWERS.match(masked[end:]):
            continue
        span = passage.span(start, end)
        leaves: list[Rule] = []
        for drug in dict.fromkeys(m.concept for m in drugs):
            leaf_span = span if len(drugs) == 1 else next(
                passage.span(m.start, m.end) for m in drugs if m.concept == drug)
            leaves.append(Hypersensitivity(concept=drug.id, name=drug.name, components=components, severe=severe,
                                           span=leaf_span))
        rule = leaves[0] if len(leaves) == 1 else AnyOf(children=tuple(leaves), span=span)
        found.append(Found(rule, *span, category="hypersensitivity", confidence=SURE))
    return found
