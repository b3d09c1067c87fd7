"""Consent and compliance: "Signed informed consent", "Ability to understand and the willingness to sign a written
informed consent document", "Willing and able to comply with scheduled visits, treatment plans, laboratory tests,
and other study procedures", "Patients unwilling or unable to comply with the protocol".

An item is read only when every sentence of it is read whole by one of three shapes (the wording is in
``data/criteria/consent.yaml``): a noun phrase ("Written informed consent obtained prior to any study-specific
procedures"), an ability ("[who] [must be] [able and willing] to <action> [and <action>]"), or an inability
("[who] [unable or unwilling] to <action> [or <action>]"). An action gives informed consent (or assent) or complies
with the study's visits and procedures; an ability is ``all`` of the ``consent`` leaves of its actions, an
inability the ``not`` of that. Anything else in the item ("…and HIPAA authorization", "able to swallow tablets",
"in the opinion of the investigator", "any condition that impairs the ability to consent") keeps it a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from trialmatch.criteria.folding import scanning
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.rules import AllOf, AnyOf, Consent, Not, Rule
from trialmatch.data import read_yaml

#: Words one of which every shape says (plain substring tests: a regex search here cost more than the rest).
_CUES = ("consent", "assent", "comply", "complian", "adhere", "follow", "abide", "cooperat", "co-operat", "attend",
         "complete", "icf")
#: Longer items always say more than consent (speed only: the shapes can't read them whole).
_LONGEST = 400
#: Sentence breaks inside an item: each sentence must be read whole. A line break is only the page's wrapping.
_SENTENCE = re.compile(r"(?<=[.;])\s+(?=\S)")
_LEAD = re.compile(r"^[\s\-–•*·>:.,;()\d]*(?:[a-z]\s*[.)]\s+)?", re.IGNORECASE)
_TRAIL = re.compile(r"[\s.;:,]*$")
#: A consent item in an exclusion (or an inability in an inclusion) was listed under the wrong heading.
_MISPLACED = 0.6
_TRAILING_JOIN = re.compile(r"(?:\s*(?:,|\band\b|\bor\b|\band/or\b|&))+\s*(?:to\s+)?$", re.IGNORECASE)
#: Between actions; the ability may be said again ("…, and must be willing to comply with treatment").
_SEPARATOR = (r"\s*(?:,\s*(?:and|or|and/or)?|and|or|and/or|as\s+well\s+as|&)\s*"
              r"(?:(?:must|should|will)\s+)?(?:(?:be|is|are)\s+)?(?:(?:willing|able)(?:\s+(?:and|or|/)\s+(?:willing|able))?\s+)?(?:to\s+)?")


@dataclass(frozen=True)
class _Wording:
    noun: re.Pattern[str]
    able: re.Pattern[str]
    unable: re.Pattern[str]
    consent_action: re.Pattern[str]
    comply_action: re.Pattern[str]
    separator: re.Pattern[str]
    tail: re.Pattern[str]
    includes_compliance: re.Pattern[str]
    blockers: re.Pattern[str]


@cache
def _wording() -> _Wording:
    raw = read_yaml("criteria/consent.yaml")
    flags = re.IGNORECASE
    consent_action = rf"(?:{raw['consent_verb']})\s+(?:{raw['consent_document']})"
    comply_action = rf"(?:{raw['comply_verb']})\s+(?:{raw['comply_object']})"
    # A tail may stand after any action ("provide consent prior to any study procedures, and comply with …").
    action = rf"(?:{consent_action}|{comply_action})(?:{raw['tail']})"
    actions = rf"(?P<actions>{action}(?:{_SEPARATOR}{action})*)"
    start = rf"^(?:{raw['who']})?(?:{raw['modal']})"
    ending = rf"(?P<tail>{raw['tail']})$"
    # "Provision of written informed consent", "Evidence of a personally signed and dated informed consent document".
    noun_lead = (r"(?:(?P<lack>(?:lack|absence|refusal|withdrawal)\s+of\s+|no\s+)|(?:provision|evidence|signature|"
                 r"documentation)\s+of\s+(?:an?\s+|the\s+)?|obtaining\s+|(?:informed\s+)?consent\s*:\s*)?")
    return _Wording(
        noun=re.compile(rf"^{noun_lead}(?P<document>{raw['consent_document']}){ending}", flags),
        able=re.compile(rf"{start}(?:(?:{raw['able']})\s+)?(?:{raw['understand']})?(?:to\s+)?{actions}{ending}", flags),
        unable=re.compile(rf"{start}(?:{raw['unable']})\s+(?:{raw['understand']})?(?:to\s+)?{actions}{ending}", flags),
        consent_action=re.compile(consent_action, flags),
        comply_action=re.compile(comply_action, flags),
        separator=re.compile(_SEPARATOR, flags),
        tail=re.compile(raw["tail"], flags),
        includes_compliance=re.compile(raw["includes_compliance"] + r"\s*$", flags),
        blockers=scanning(raw["blockers"], flags),
    )


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if len(text) > _LONGEST:
        return []
    lowered = text.lower()
    if not any(cue in lowered for cue in _CUES) or _wording().blockers.search(text):
        return []
    rules: list[Rule] = []
    polarities: set[bool] = set()
    for sentence in _SENTENCE.split(" ".join(text.split())):
        read = _sentence(sentence)
        if read is None:
            return []  # a sentence not read whole: the item stays a question
        rules.append(read[0])
        polarities.add(read[1])
    if not rules or len(polarities) != 1:
        return []
    positive = polarities.pop()
    unique = list({rule.model_dump_json(): rule for rule in rules}.values())
    span = passage.span(0, len(text))
    # Sentences of an inclusion are all required; those of an exclusion each exclude on their own.
    joined = AllOf if passage.section == "inclusion" else AnyOf
    rule = unique[0] if len(unique) == 1 else joined(children=tuple(unique), span=span)
    rule = _spanned(rule, span)
    fits = positive == (passage.section == "inclusion")
    return [Found(rule, *span, category="consent", confidence=SURE if fits else _MISPLACED)]


def _sentence(sentence: str) -> tuple[Rule, bool] | None:
    """The rule one sentence states and whether it states an ability (True) or an inability (False)."""
    wording = _wording()
    text = _TRAIL.sub("", _LEAD.sub("", " ".join(sentence.split())))
    if not text:
        return None
    aspects: list[str] = []
    if (compliance := wording.includes_compliance.search(text)) is not None:
        # "Capable of giving written informed consent, which includes compliance with the requirements and
        # restrictions listed in the consent form": consent, and complying with what it lists.
        text = text[: compliance.start()]
        aspects.append("comply")
    if (noun := wording.noun.match(text)) is not None:
        if noun.group("lack") is not None:  # "Lack of informed consent", "Refusal of consent"
            return (Not(child=_rule(["informed_consent", *aspects])), False) if not aspects else None
        return _rule(["informed_consent", *aspects]), True
    for pattern, positive in ((wording.able, True), (wording.unable, False)):
        match = pattern.match(text)
        if match is None:
            continue
        read = _actions(match.group("actions"))
        if read is None:
            return None
        rule = _rule([*read, *aspects])
        return (rule, True) if positive else (Not(child=rule), False)
    return None


def _actions(text: str) -> list[str] | None:
    """The aspects of a run of actions ("provide written informed consent and comply with study assessments")."""
    wording = _wording()
    aspects: list[str] = []
    position = 0
    while position < len(text):
        if aspects:
            separator = wording.separator.match(text, position)
            if separator is None or separator.end() == position:
                return None
            position = separator.end()
        consent = wording.consent_action.match(text, position)
        comply = wording.comply_action.match(text, position)
        best = max((m for m in (consent, comply) if m is not None), key=lambda m: m.end(), default=None)
        if best is None:
            return None
        aspects.append("informed_consent" if best is consent else "comply")
        # A list of objects eats the "and" before the next action: give it back as the separator.
        trailing = _TRAILING_JOIN.search(text, position, best.end())
        position = trailing.start() if trailing is not None and best.end() < len(text) else best.end()
        if (tail := wording.tail.match(text, position)) is not None and tail.end() > position:
            after = _TRAILING_JOIN.search(text, position, tail.end())
            position = after.start() if after is not None and tail.end() < len(text) else tail.end()
    return aspects


def _rule(aspects: list[str]) -> Rule:
    unique = list(dict.fromkeys(aspects))
    if len(unique) == 1:
        return Consent(aspect=unique[0])  # type: ignore[arg-type]
    return AllOf(children=tuple(Consent(aspect=a) for a in unique))  # type: ignore[arg-type]


def _spanned(rule: Rule, span: tuple[int, int]) -> Rule:
    if isinstance(rule, AllOf | AnyOf):
        return rule.model_copy(update={"children": tuple(_spanned(c, span) for c in rule.children), "span": span})
    if isinstance(rule, Not):
        return rule.model_copy(update={"child": _spanned(rule.child, span), "span": span})
    return rule.model_copy(update={"span": span})
