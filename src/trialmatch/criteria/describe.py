"""Precise one-line descriptions of rules, for clinicians and coordinators: "age ≥ 18 years",
"ANC ≥ 1,000 cells/uL", "allogeneic HSCT within 12 weeks", "not (HIV or hepatitis B)".
"""

from __future__ import annotations

from trialmatch.criteria.rules import (
    Age,
    AllOf,
    AnyOf,
    Breastfeeding,
    Condition,
    Consent,
    Contraception,
    Hypersensitivity,
    Infection,
    Lab,
    Not,
    Performance,
    Pregnancy,
    PriorLines,
    Question,
    Rule,
    RuleException,
    Sex,
    StudyEnrolment,
    Therapy,
)

_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}
_SCALES = {"ecog": "ECOG", "karnofsky": "Karnofsky", "lansky": "Lansky"}


def describe(rule: Rule) -> str:
    """The rule in compact clinical notation."""
    if isinstance(rule, AllOf) and not rule.children:
        return "nothing to check (always met)"
    if isinstance(rule, AllOf | AnyOf):
        joiner = " and " if isinstance(rule, AllOf) else " or "
        return joiner.join(_grouped(child) for child in rule.children)
    if isinstance(rule, Not):
        return f"not {_grouped(rule.child)}"
    if isinstance(rule, Age):
        at = " at diagnosis" if rule.at == "diagnosis" else ""
        return f"age {_SYMBOLS[rule.comparator]} {_number(rule.value)} {rule.unit}{at}"
    if isinstance(rule, Sex):
        return f"sex = {rule.sex}"
    if isinstance(rule, Condition):
        status = {"active": "active ", "history": "history of ", "any": ""}[rule.status]
        details = [f"{q.name} {_SYMBOLS[q.comparator]} {q.value}" for q in rule.qualifiers]
        within = f" within {rule.within}" if rule.within else ""
        qualifiers = f" [{', '.join(details)}]" if details else ""
        return f"{status}{rule.name}{qualifiers}{within}{_exceptions(rule.exceptions)}"
    if isinstance(rule, Lab):
        if rule.reference == "absolute":
            amount = f"{_number(rule.value)}{' ' + written_unit(rule.unit, rule.value) if rule.unit else ''}"
        else:
            amount = f"{_number(rule.value)} × {rule.reference.upper()}"
        sensitivity = f" (assay sensitivity ≤ {rule.assay_sensitivity:g})" if rule.assay_sensitivity else ""
        return f"{rule.name} {_SYMBOLS[rule.comparator]} {amount}{sensitivity}{_exceptions(rule.exceptions)}"
    if isinstance(rule, Performance):
        unit = "%" if rule.scale != "ecog" else ""
        return f"{_SCALES[rule.scale]} {_SYMBOLS[rule.comparator]} {_number(rule.value)}{unit}"
    if isinstance(rule, Therapy):
        timing = {"within": f" within {rule.window}", "ever": " (ever)", "current": " (current)"}[rule.timing]
        treated = f" for {rule.condition_name or rule.condition}" if rule.condition else ""
        return f"{rule.name}{treated}{timing}{_exceptions(rule.exceptions)}"
    if isinstance(rule, PriorLines):
        return f"prior lines of {lines_counted(rule)} {_SYMBOLS[rule.comparator]} {rule.value}"
    if isinstance(rule, Pregnancy):
        return "pregnant or planning pregnancy" if rule.planned else "pregnant"
    if isinstance(rule, Breastfeeding):
        return "breastfeeding or planning to" if rule.planned else "breastfeeding"
    if isinstance(rule, Contraception):
        who = "" if rule.applies_to == "any" else f" ({rule.applies_to.replace('_', ' ')})"
        return f"uses effective contraception{who}"
    if isinstance(rule, Consent):
        return {"informed_consent": "able and willing to give informed consent",
                "comply": "able and willing to follow the study's visits and procedures"}[rule.aspect]
    if isinstance(rule, Infection):
        status = "" if rule.status == "any" else f"{rule.status} "
        name = rule.name if "infection" in rule.name.lower() else f"{rule.name} infection"
        if status and name.lower().startswith(status):
            status = ""
        details = [f"{q.name} {_SYMBOLS[q.comparator]} {q.value}" for q in rule.qualifiers]
        qualifiers = f" [{', '.join(details)}]" if details else ""
        within = f" within {rule.within}" if rule.within else ""
        return f"{status}{name}{qualifiers}{within}"
    if isinstance(rule, Hypersensitivity):
        severe = "severe " if rule.severe else ""
        return f"{severe}hypersensitivity to {rule.name}{' or its components' if rule.components else ''}"
    if isinstance(rule, StudyEnrolment):
        return "in another interventional study" + (f" now or within {rule.window}" if rule.window else " now")
    if isinstance(rule, Question):
        return f'question: "{rule.text}"'
    return rule.kind


def lines_counted(rule: PriorLines) -> str:
    """What a prior-lines rule counts: "chemotherapy for multiple myeloma (metastatic setting)"."""
    kind = (rule.therapy_name or rule.therapy or "therapy").lower()
    disease = f" for {rule.condition_name or rule.condition}" if rule.condition else ""
    setting = f" ({rule.setting} setting)" if rule.setting else ""
    return f"{kind}{disease}{setting}"


#: Canonical units as people write them: "kg/m**2" is "kg/m²"; a time unit takes a plural.
_WRITTEN_UNITS = {"kg/m**2": "kg/m²", "mL/min/(1.73*m**2)": "mL/min/1.73 m²"}
_TIME_UNITS = frozenset({"hour", "day", "week", "month", "year"})


def written_unit(unit: str, value: float) -> str:
    """A rule's unit as a reader expects it ("kg/m²", "3 months", "1 year")."""
    single = unit.removesuffix("s")
    if single in _TIME_UNITS:
        return single if value == 1 else f"{single}s"
    return _WRITTEN_UNITS.get(unit, unit)


def _grouped(rule: Rule) -> str:
    text = describe(rule)
    return f"({text})" if isinstance(rule, AllOf | AnyOf) and len(rule.children) > 1 else text


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 and value == int(value) else f"{value:g}"


def _exceptions(exceptions: tuple[RuleException, ...]) -> str:
    if not exceptions:
        return ""
    parts = []
    for exception in exceptions:
        names = ", ".join(exception.concepts) if exception.concepts else f'"{exception.text}"'
        ended = f" if ended > {exception.ended_before} before" if exception.ended_before else ""
        unsure = "; not fully read" if not exception.complete else ""
        parts.append(f"{names}{ended}{unsure}")
    return f" except {'; '.join(parts)}"
