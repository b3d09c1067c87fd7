"""Recovery from the side effects of earlier treatment: "must have recovered from the acute toxic effects of prior
chemotherapy", "recovered from all prior therapy to grade 1 or less", "has not recovered from adverse events due
to agents administered more than 4 weeks earlier", "all toxicities of prior therapy resolved to grade ≤ 1".

Each is about the condition ``prior_therapy_toxicity`` (side effects of earlier treatment that have not gone
away), active, and above the grade named: an inclusion that asks for recovery is ``not`` that condition, an
exclusion of those who have not recovered is the condition itself. The other two (an inclusion of those who
have not recovered, an exclusion of those who have) are not read. Recovery from an operation is the condition
``incomplete_surgical_recovery`` instead. The wording is in ``data/criteria/recovery.yaml``.
"""

from __future__ import annotations

import re
from functools import cache

from trialmatch.criteria.passage import Found, Passage
from trialmatch.criteria.rules import Condition, Not, Qualifier
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import load_vocabulary

_CUE = re.compile(r"recover|resolved|returned", re.IGNORECASE)
_CONCEPT = "prior_therapy_toxicity"
_SURGERY = "incomplete_surgical_recovery"
#: The bare "and recovered" is read only after a wait since a therapy ("At least 4 weeks since prior chemotherapy").
_AFTER_A_WAIT = "after_a_wait"
_SURGERY_WORDS = re.compile(r"\b(?:surg\w*|operations?|resections?)\b", re.IGNORECASE)
_THERAPY_WORDS = re.compile(r"chemo|radi|therap|immuno|agent|drug|treatment|transplant|regimen", re.IGNORECASE)
_WAITED = re.compile(r"\b(?:weeks?|days?|months?)\s+(?:since|from|after)\s+(?:the\s+)?(?:last\s+|completion\s+of\s+)?"
                     r"(?:prior|previous|any)\b", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.;:!?](?=\s|$)|\n")
_NEGATION = re.compile(r"\b(?:no|not|never|without|none)\b|n't\b", re.IGNORECASE)
_CONDITIONAL = re.compile(r"\b(?:who|that|which|if|when)\s+(?:(?:have|has|had)\s+)?(?:previously\s+)?(?:received|had|"
                          r"undergone|underwent|were\s+treated|was\s+treated|been\s+treated)\b", re.IGNORECASE)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, concept) for each way of saying it."""
    raw = read_yaml("criteria/recovery.yaml")
    grade = rf"(?:{raw['grade']})?"
    # "must have recovered from the acute toxic effects of prior chemotherapy (to grade ≤ 1)"
    recovered_from = (rf"{raw['lead']}{raw['recovered']}\s+from\s+(?:{raw['own_effects']}|"
                      rf"(?:(?:{raw['effects']}){raw['link']})?(?:{raw['therapy']})){grade}")
    # "all acute toxicities of prior therapy (must have) resolved to grade ≤ 1"
    effects_resolved = (rf"(?:{raw['effects']}){raw['link']}(?:{raw['therapy']})\s+(?:(?:must|should)\s+)?"
                        rf"(?:(?:have|has|be|been)\s+)*{raw['recovered']}{grade}")
    # "must have recovered from the effects of any major surgery"
    surgery = (rf"{raw['lead']}{raw['recovered']}\s+from\s+(?:(?:{raw['effects']}){raw['link']})?"
               rf"(?:{raw['surgery']})\b(?![\s-]*(?:and|or|,)\s*(?:its\s+)?(?:other|prior|previous|chemo|radi|therap))")
    # "At least 4 weeks since prior chemotherapy and recovered": the NCI layout's bare "and recovered" after a wait.
    # Read only after such a wait (see ``_WAITED``).
    since_and_recovered = (rf"(?<=\s)and\s+(?P<not>(?!))?(?:(?:has|have)\s+)?"
                           rf"(?:(?:fully|completely)\s+)?recovered(?:\s+from\s+(?:{raw['effects']}))?(?=\s*(?:[.;]|$))")
    flags = re.IGNORECASE
    return ((re.compile(recovered_from, flags), _CONCEPT), (re.compile(effects_resolved, flags), _CONCEPT),
            (re.compile(surgery, flags), _SURGERY), (re.compile(since_and_recovered, flags), _AFTER_A_WAIT))


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not _CUE.search(text):
        return []
    found = []
    for pattern, concept_id in _patterns():
        for match in pattern.finditer(text):
            if _CONDITIONAL.search(text, 0, match.start()):
                # "Subjects that received prior radiotherapy must have recovered …": a requirement for some only;
                # read alone, the words before it would wrongly require the therapy of everyone.
                continue
            sentence = max((m.end() for m in _SENTENCE_BREAK.finditer(text, 0, match.start())), default=0)
            if _NEGATION.search(text, sentence, match.start()):
                # "Must not have received chemotherapy … and any toxicity from such therapy resolved": a negation
                # before it in the sentence would be read as negating the recovery too.
                continue
            if concept_id == _AFTER_A_WAIT:
                waited = _WAITED.search(text, sentence, match.start())
                if not waited:
                    continue
                after = text[waited.start() : match.start()]
                surgery, therapy = _SURGERY_WORDS.search(after), _THERAPY_WORDS.search(after)
                if surgery and therapy:
                    continue  # "since prior chemotherapy or surgery and recovered": recovered from which?
                concept_id = _SURGERY if surgery else _CONCEPT
            negated = match.group("not") is not None
            if negated != (passage.section == "exclusion"):
                continue  # "inclusion: has not recovered", "exclusion: has recovered": not what criteria mean
            grades = [match.groupdict().get(g) for g in ("g1", "g2", "g3")]
            below = [match.groupdict().get(g) for g in ("lt1", "lt2")]
            qualifiers: tuple[Qualifier, ...] = ()
            if any(grades):
                qualifiers = (Qualifier(name="grade", comparator=">", value=float(next(g for g in grades if g))),)
            elif any(below):
                qualifiers = (Qualifier(name="grade", comparator=">=", value=float(next(g for g in below if g))),)
            elif re.search(r"\bgrade\b", text[match.end() : match.end() + 40], re.IGNORECASE):
                continue  # a grade said in words not read ("to baseline or grade 1"): left to a question
            span = passage.span(match.start(), match.end())
            concept = load_vocabulary().get(concept_id)
            condition = Condition(concept=concept_id, name=concept.name if concept else concept_id, status="active",
                                  qualifiers=qualifiers, span=span)
            rule = condition if negated else Not(child=condition, span=span)
            found.append(Found(rule, *span, category="prior_therapy"))
    return found
