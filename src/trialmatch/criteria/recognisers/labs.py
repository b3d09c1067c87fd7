"""Lab thresholds and disease-burden measures.

Labs ("lab"): "Absolute neutrophil count ≥1,000/μL", "Platelets ≥ 100 x 10^9/L", "Hemoglobin level ≥9 g/dL
(transfusion permitted)", "AST, ALT, and AP < 2 x ULN" (one threshold shared by a list of analytes),
"Total bilirubin ≤ 1.5 times the institutional upper limit of normal", "Creatinine clearance ≥ 50 mL/min",
"Direct bilirubin > 1.5 mg/dl (25.6 μmol/L)", "LVEF ≥ 50% by echocardiogram or MUGA", "QTc ≤ 470 ms",
"INR ≤ 1.5", "Serum creatinine above upper limit of normal".

Disease burden ("disease_burden"): "MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5", "MRD ≥ 0.01%"
(a percentage of MRD is stored as a fraction: 0.01 % → 0.0001, unit None), "≥5% blasts in the bone marrow",
"M1 or M2 marrow" (classes from ``data/criteria/disease_burden.yaml``), "Presence of circulating blasts"
(peripheral blasts > 0 %), "> 5 white blood cells per cubic millimeter in CSF".

Values and units are kept as written, with the unit in canonical text (``trialmatch.criteria.units``); a
value written without a unit gets the one unit that makes it plausible ("ANC ≥ 1500" → cells/uL) or no
rule. A threshold that applies only to some patients ("≤ 5 x ULN if liver metastases", "for women") makes
the finding unsure. The wording lives in ``data/criteria/labs-wording.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise

from trialmatch.criteria.compose import load_wording
from trialmatch.criteria.folding import scanning
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import COMPARATOR, load_phrases, parse_comparator
from trialmatch.criteria.recognisers.therapies import may_name, name_starts
from trialmatch.criteria.rules import AllOf, AnyOf, Comparator, Lab, Rule, leaves
from trialmatch.criteria.units import UnitError, convert, fold, normalise_unit, unit_pattern
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import ConceptMatch, Vocabulary, load_vocabulary

#: A unit inferred from the value's size ("ANC ≥ 1500" → cells/uL).
_IMPLIED = 0.9
#: A list joined by a word that could be read either way ("AST or ALT ≤ 2.5 x ULN" in an inclusion).
_LIST_UNSURE = 0.7
#: A threshold with a condition we did not read ("≤ 5 x ULN if liver metastases", "for women").
_QUALIFIED = 0.5
#: A written conversion must agree with the threshold within this fraction.
_CONVERSION_TOLERANCE = 0.05

_FLAGS = re.IGNORECASE
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)(?![\d])(?![.,]\d)"
_LAB_KINDS = {"lab", "measure"}


def _spaced(pattern: str) -> str:
    return pattern.replace(" ", r"\s*")


def _any(patterns: list[str]) -> str:
    return "|".join(f"(?:{_spaced(p)})" for p in patterns)


@dataclass(frozen=True)
class _Wording:
    disease_burden: frozenset[str]
    groups: tuple[tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]], ...]
    threshold: tuple[tuple[str, re.Pattern[str]], ...]
    reference_qualifier: re.Pattern[str]
    methods: dict[str, re.Pattern[str]]
    notes: re.Pattern[str]
    conversion: re.Pattern[str]
    subgroup_after: re.Pattern[str]
    subgroup_before: re.Pattern[str]
    timing: re.Pattern[str]
    lead_in: re.Pattern[str]
    lead_in_organs: tuple[tuple[re.Pattern[str], frozenset[str]], ...]
    orphan: re.Pattern[str]
    implied_units: dict[str, tuple[str, ...]]
    accepted_units: dict[str, tuple[str, ...]]
    plausible: dict[str, tuple[float, float]]
    value_first: tuple[re.Pattern[str], re.Pattern[str]]
    site_words: dict[str, re.Pattern[str]]
    site_analytes: dict[str, dict[str, str]]
    sites: dict[str, re.Pattern[str]]
    presence_analytes: frozenset[str]
    presence_cue: re.Pattern[str]
    mrd: tuple[re.Pattern[str], ...]
    mrd_before: re.Pattern[str]
    mrd_sensitivity: tuple[re.Pattern[str], re.Pattern[str]]
    marrow: re.Pattern[str]
    #: Words without which a passage with no digit holds no reading (a limit of normal), lower case.
    cue_words: tuple[str, ...]
    marrow_classes: dict[str, tuple[float | None, bool, float | None, bool]] = field(default_factory=dict)


@cache
def _wording() -> _Wording:
    raw = read_yaml("criteria/labs-wording.yaml")
    ref = raw["reference"]
    uln, lln = _any(ref["uln"]), _any(ref["lln"])
    number_words = "|".join(sorted((re.escape(w) for w in load_phrases().number_words), key=len, reverse=True))
    multiple = rf"(?:{_DIGITS}|\b(?:{number_words})\b)"
    times = r"(?:\s*(?:[x×*]|times?|-?\s*fold)(?![a-z]))?"
    bridge = _spaced(raw["bridge"])
    after_cmp = _spaced(raw["after_comparator"])
    unit = unit_pattern()
    cmp_after = {c: _any(ps) for c, ps in raw["comparators_after"].items()}
    after = "|".join(f"(?P<after_{'ge' if c == '>=' else 'le'}>{p})" for c, p in cmp_after.items())
    cmp = rf"(?P<cmp>{COMPARATOR}){after_cmp}"
    # A unitless value must stand alone: "ANC ≥ 1500," but not "≥ 1500 mg" or "≥ 4 weeks".
    alone = r"(?=\s*(?:$|[,;.)\]]|\(|&|\b(?:and|or|at|on|in|within|prior|before|for|if|unless|with|by|obtained)\b))"
    threshold = (
        ("uln", rf"^{bridge}{cmp}\s*(?P<mult>{multiple})?{times}\s*(?:{uln})"),
        ("lln", rf"^{bridge}{cmp}\s*(?P<mult>{multiple})?{times}\s*(?:{lln})"),
        ("uln", rf"^{bridge}(?P<cmp>within)\s+(?P<mult>{multiple}){times}\s*(?:{uln})"),
        ("uln", rf"^{bridge}(?P<mult>{multiple}){times}\s*(?:{uln})\s*(?:{after})"),
        ("uln", rf"^{bridge}{cmp}\s*(?P<mult>{multiple}){times}\s*(?:{_spaced(ref['bare_normal'])})\b"),
        ("wnl", rf"^{bridge}(?:{_any(ref['within_normal'])})"),
        ("range", rf"^{bridge}(?:between|from)\s+(?P<value>{_DIGITS})\s*(?P<unit1>{unit})?\s*(?:and|to|-|–)\s*"
                  rf"(?P<value2>{_DIGITS})\s*(?:(?P<unit>{unit})|{alone})"),
        ("absolute", rf"^{bridge}{cmp}\s*(?P<value>{_DIGITS})\s*(?:(?P<unit>{unit})|{alone})"),
        ("absolute", rf"^{bridge}(?P<value>{_DIGITS})\s*(?P<unit>{unit})?\s*(?:{after})"),
    )
    methods = {analyte: re.compile(rf"^\s*,?\s*(?:{_any(ps)})", _FLAGS) for analyte, ps in raw["methods"].items()}
    site_words = {name: re.compile(rf"(?:{_spaced(spec['words'])})", _FLAGS)
                  for name, spec in raw["site_analytes"].items() if spec.get("words")}
    value_first = (
        re.compile(rf"{_comparator_start()}{cmp}\s*(?P<value>{_DIGITS})\s*(?P<unit>{unit})?\s*(?:of\s+(?:the\s+)?)?",
                   _FLAGS),
        re.compile(rf"(?P<value>{_DIGITS})\s*(?P<unit>{unit})?\s*(?:{after})\s*(?:of\s+(?:the\s+)?)?", _FLAGS),
    )
    mrd = raw["mrd"]
    power = r"(?:(?P<m>\d+(?:\.\d+)?)\s*[x×*]\s*)?10\s*(?:\^|\*\*|e)?\s*\(?\s*-\s*(?P<e>\d)\s*\)?(?![\d%])"
    mrd_value = rf"(?:{power}|(?P<pct>{_DIGITS})\s*%)"
    names = rf"(?:{_spaced(mrd['names'])})(?:{_spaced(mrd['positive'])})?"
    mrd_patterns = (
        re.compile(rf"(?P<name>{names})\s*(?:(?:of|at|is|was|:)\s*)?(?:at\s+a\s+level\s+of\s+)?{cmp}\s*{mrd_value}",
                   _FLAGS),
        re.compile(rf"(?P<name>{names})\s*\(\s*(?:defined\s+as\s+|i\.?e\.?,?\s+)?(?:MRD\s*)?{cmp}\s*{mrd_value}\s*\)",
                   _FLAGS),
        re.compile(rf"(?P<name>{names})\s*(?:(?:of|at|:)\s*)?{mrd_value}\s*(?:{after})", _FLAGS),
    )
    notes = re.compile(rf"^\s*,?\s*(?:{_any(raw['notes'])})", _FLAGS)
    conversion = re.compile(rf"^\s*(?:[(\[]\s*(?:i\.?e\.?,?\s*|or\s+)?(?:{COMPARATOR}{after_cmp}\s*)?"
                            rf"(?P<value>{_DIGITS})\s*"
                            rf"(?P<unit>{unit})\s*(?:,[^()\[\]]{{0,60}})?[)\]]|(?:or|/)\s*(?:{COMPARATOR}{after_cmp}\s*)?"
                            rf"(?P<value2>{_DIGITS})\s*(?P<unit2>{unit}))", _FLAGS)
    # A threshold nobody read: a comparator and a number with a lab unit or a multiple of a limit.
    lab_unit = rf"(?:(?!%)(?:{unit}))"
    orphan = re.compile(rf"{_comparator_start()}(?P<cmp>{COMPARATOR}){after_cmp}\s*"
                        rf"(?:{multiple}{times}\s*(?:{uln}|{lln})|{_DIGITS}\s*{lab_unit})", _FLAGS)
    presence = raw["presence"]
    return _Wording(
        disease_burden=frozenset(raw["disease_burden"]),
        groups=tuple((re.compile(rf"\b(?:{_any(spec['phrases'])})\b", _FLAGS), tuple(spec["analytes"]),
                      tuple(str(w).lower() for w in spec.get("cue_words", [""])))
                     for spec in raw["analyte_groups"].values()),
        threshold=tuple((kind, re.compile(pattern, _FLAGS)) for kind, pattern in threshold),
        reference_qualifier=re.compile(rf"^\s*,?\s*(?:{_any(ref['qualifiers'])})", _FLAGS),
        methods=methods,
        notes=notes,
        conversion=conversion,
        subgroup_after=re.compile(_spaced(raw["subgroup_after"]), _FLAGS),
        subgroup_before=re.compile(_spaced(raw["subgroup_before"]), _FLAGS),
        timing=re.compile(rf"^\s*,?\s*(?:{_spaced(raw['timing'])})\b", _FLAGS),
        lead_in=re.compile(rf"(?:^|(?<=[.;:(\n]))\s*(?:{_spaced(raw['lead_in'])})\s*$", _FLAGS),
        lead_in_organs=tuple((re.compile(rf"\b(?:{k})", _FLAGS), frozenset(v))
                             for k, v in raw["lead_in_organs"].items()),
        orphan=orphan,
        implied_units={k: tuple(v) for k, v in raw["implied_units"].items()},
        accepted_units={k: tuple(v) for k, v in raw["accepted_units"].items()},
        plausible={k: (float(v[0]), float(v[1])) for k, v in raw["plausible"].items()},
        value_first=value_first,
        site_words=site_words,
        site_analytes={name: dict(spec["sites"]) for name, spec in raw["site_analytes"].items()},
        sites={name: re.compile(rf"^\s*(?:{_spaced(p)})(?!\w)", _FLAGS) for name, p in raw["sites"].items()},
        presence_analytes=frozenset(presence["analytes"]),
        presence_cue=re.compile(rf"\b(?:{_spaced(presence['cue'])})\s+$", _FLAGS),
        mrd=mrd_patterns,
        mrd_before=re.compile(rf"\b(?:{_spaced(mrd['before'])})(?=\s+$)", _FLAGS),
        mrd_sensitivity=(re.compile(rf"^\s*(?:{_spaced(mrd['sensitivity'])})", _FLAGS),
                         re.compile(rf"^\s*\(\s*(?:{_spaced(mrd['sensitivity'])})\s*\)", _FLAGS)),
        marrow=re.compile(_spaced(raw["marrow_classes"]), _FLAGS),
        cue_words=_cue_words(ref["cue_words"], presence["analytes"]),
        marrow_classes=_marrow_classes(),
    )


def _comparator_start() -> str:
    """A lookahead for the first character of any comparator: scanning a passage for one is then much faster.
    Empty when a comparator phrase starts with a regex construct (its first character is not known)."""
    firsts: set[str] = set()
    for phrases in load_phrases().comparators_before.values():
        for phrase in phrases:
            if not phrase or phrase[0] in "\\.^$*+?{}[]|() ":
                return ""
            firsts |= {phrase[0].lower(), phrase[0].upper()}
    return "(?=[" + "".join(re.escape(c) for c in sorted(firsts)) + "])"


def _cue_words(words: list[str], presence_analytes: list[str]) -> tuple[str, ...]:
    """The gate for passages without a digit. A measure whose mere presence is read must be named with a
    burden word ("circulating blasts"); if a vocabulary names one otherwise, nothing is gated ("" is in
    every text)."""
    vocabulary = load_vocabulary()
    for analyte in presence_analytes:
        concept = vocabulary.get(analyte)
        names = (concept.name, *concept.synonyms, *concept.abbreviations) if concept else ()
        if not all(_has_burden_word(name.lower()) for name in names):
            return ("",)
    return tuple(str(w).lower() for w in words)


def _marrow_classes() -> dict[str, tuple[float | None, bool, float | None, bool]]:
    """Each marrow class as an interval of bone-marrow blasts: (low, low inclusive, high, high inclusive)."""
    raw = read_yaml("criteria/disease_burden.yaml")
    status = raw.get("marrow_status") or {}
    measure = status.get("measure", "bone_marrow_blasts")
    out: dict[str, tuple[float | None, bool, float | None, bool]] = {}
    for label, spec in (status.get("classes") or {}).items():
        limits = spec.get(measure) or {}
        low = limits.get("ge", limits.get("gt"))
        high = limits.get("le", limits.get("lt"))
        out[str(label).upper()] = (None if low is None else float(low), "ge" in limits,
                                   None if high is None else float(high), "le" in limits)
    return out


# --- finding analytes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    analytes: tuple[str, ...]


def _find(text: str, vocabulary: Vocabulary) -> list[ConceptMatch]:
    """``vocabulary.find(text, kinds=_LAB_KINDS)``, skipped when no word could begin a lab's name."""
    if not may_name(text, _starts()):
        return []
    return vocabulary.find(text, kinds=_LAB_KINDS)


@cache
def _starts() -> tuple[frozenset[object], frozenset[object]]:
    return name_starts(frozenset(_LAB_KINDS))


def _mentions(text: str, vocabulary: Vocabulary) -> list[_Mention]:
    mentions = []
    for match in _find(text, vocabulary):
        end = match.end
        # The vocabulary reads words only: "absolute neutrophil count [ANC" must take its closing bracket.
        opened = match.text.count("(") + match.text.count("[") - match.text.count(")") - match.text.count("]")
        closing = re.match(r"\s*[)\]]", text[end:])
        if opened > 0 and closing:
            end += closing.end()
        mentions.append(_Mention(match.start, end, (match.concept.id,)))
    lowered = text.lower()
    for pattern, analytes, cue_words in _wording().groups:
        if not any(word in lowered for word in cue_words):
            continue
        for match in pattern.finditer(text):
            if not any(match.start() < m.end and match.end() > m.start for m in mentions):
                mentions.append(_Mention(match.start(), match.end(), analytes))
    return sorted(mentions, key=lambda m: m.start)


_UNIT_RESTATED = re.compile(rf"^\s*\(\s*(?P<unit>{unit_pattern()})\s*\)", _FLAGS)
#: How a value was obtained, said before the analyte ("estimated CrCl", "calculated or measured creatinine
#: clearance"): part of the rule's text, it changes nothing.
_HOW = r"(?:calculated|estimated|measured)"
_HOW_MEASURED = re.compile(rf"\b{_HOW}(?:\s*(?:or|/|and/or)\s*(?:{_HOW}\s+)?|\s+)$", _FLAGS)
#: A value nobody read right after a threshold ("within the normal range of 90 to 110 mg/dL").
_LOOSE_VALUE = re.compile(rf"^\s*(?:of|from|between|at|:|\(|\[|,|-|–)?\s*(?:{_DIGITS}\s*(?:-|–|to|and)\s*)?{_DIGITS}\s*"
                          rf"(?:{unit_pattern()})", _FLAGS)
_SEPARATOR = re.compile(r"\s*(?:,\s*(?:and\s*/\s*or|and|or|&)?|and\s*/\s*or|and|or|&|/|\+)\s*(?:(?:serum|plasma)\s+)?",
                        _FLAGS)
#: A parenthesis after an analyte, with at most one bracket inside it ("(serum glutamic oxaloacetic transaminase
#: [SGOT])").
_RESTATEMENT = re.compile(r"\s*[(\[]((?:[^()\[\]]|[(\[][^()\[\]]{1,30}[)\]]){1,80})[)\]]")
_SAME = re.compile(r"\s*/?\s*")


@dataclass
class _Chain:
    mentions: list[_Mention]
    separators: list[str]
    end: int


def _chains(text: str, mentions: list[_Mention]) -> list[_Chain]:
    """Analytes listed together ("AST, ALT, and AP"), each with its restatements ("(AST)") skipped."""
    chains: list[_Chain] = []
    i = 0
    while i < len(mentions):
        chain = _Chain([mentions[i]], [], 0)
        i, chain.end = _skip_restatements(text, mentions, i)
        while i < len(mentions):
            gap = text[chain.end : mentions[i].start]
            if not _SEPARATOR.fullmatch(gap):
                break
            chain.mentions.append(mentions[i])
            chain.separators.append(gap)
            i, chain.end = _skip_restatements(text, mentions, i)
        chains.append(chain)
    return chains


_ABBREVIATION = re.compile(r"[A-Za-z][A-Za-z0-9]{1,7}")


def _abbreviates(inner: str, name: str) -> bool:
    """True when ``inner`` is a short abbreviation of ``name``: its letters appear in order in the name and it
    starts with the name's first letter ("plts" for "Platelets", "Hgb" for "hemoglobin"; not "men")."""
    word = inner.strip().lower()
    letters = [c for c in name.lower() if c.isalnum()]
    if not _ABBREVIATION.fullmatch(word) or not letters or word[0] != letters[0]:
        return False
    position = 0
    for char in word:
        try:
            position = letters.index(char, position) + 1
        except ValueError:
            return False
    return True


def _skip_restatements(text: str, mentions: list[_Mention], i: int) -> tuple[int, int]:
    """Past mention ``i`` and what only renames it: "(AST)", "(SGOT)", "/AST". Returns (next index, end)."""
    own = set(mentions[i].analytes)
    start, end = mentions[i].start, mentions[i].end
    i += 1
    while True:
        paren = _RESTATEMENT.match(text, end)
        if paren:
            # A mention may run past the parenthesis ("White blood cell (WBC) count": "WBC) count").
            inside = [m for m in mentions[i:] if paren.start(1) <= m.start < paren.end(1)]
            rest = text[paren.start(1) : paren.end(1)]
            for m in reversed(inside):
                rest = rest[: m.start - paren.start(1)] + " " + rest[m.end - paren.start(1) :]
            if inside and all(set(m.analytes) <= own for m in inside) and re.fullmatch(
                    r"[\s,/;()\[\]]*(?:(?:and|or)[\s,/()\[\]]*)*", rest, _FLAGS):
                i += len(inside)
                end = max(paren.end(), inside[-1].end)
                continue
        if paren and not inside and _abbreviates(paren.group(1), text[start:end]):
            end = paren.end()  # "Platelets (plts)": an abbreviation the vocabulary does not know in that case
            continue
        if i < len(mentions) and set(mentions[i].analytes) <= own and _SAME.fullmatch(text[end : mentions[i].start]):
            end = mentions[i].end
            i += 1
            continue
        return i, end


# --- reading a threshold -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Threshold:
    kind: str  # absolute | uln | lln | wnl
    comparator: Comparator
    value: float
    unit: str | None
    end: int
    confidence: float = SURE
    #: The other end of a range ("≥ 7.0% and ≤ 10.0%", "between 3,000 and 10,000").
    second: _Threshold | None = None
    #: The two ends are alternatives: outside a range ("BMI < 19 or > 35").
    outside: bool = False


def _parse_value(text: str) -> float:
    return float(text.replace(",", ""))


def _comparator(match: re.Match[str]) -> Comparator | None:
    groups = match.groupdict()
    if groups.get("after_ge"):
        return ">="
    if groups.get("after_le"):
        return "<="
    raw = groups.get("cmp")
    if raw is None:
        return None
    if raw.strip().lower() == "within":
        return "<="
    try:
        return parse_comparator(raw)
    except ValueError:
        return None


def _multiple(text: str | None) -> float:
    if not text:
        return 1.0
    words = load_phrases().number_words
    return words[text.lower()] if text.lower() in words else _parse_value(text)


def _read_threshold(folded: str, position: int, analytes: list[str]) -> _Threshold | None:
    wording = _wording()
    rest = folded[position:]
    for kind, pattern in wording.threshold:
        match = pattern.match(rest)
        if match is None:
            continue
        if _negated_comparator(rest[: match.start("cmp")] if match.groupdict().get("cmp") else ""):
            return None
        end = position + len(match.group(0).rstrip())
        if kind == "wnl":
            return _Threshold("wnl", "=", 1.0, None, end)
        if kind == "range":
            return _range(match, end, analytes)
        comparator = _comparator(match)
        if comparator is None:
            return None
        if kind in ("uln", "lln"):
            value = _multiple(match.group("mult"))
            low, high = wording.plausible["multiple"]
            if not (low <= value <= high) or comparator == "=":
                return None
            return _Threshold(kind, comparator, value, None, end)
        return _absolute(comparator, _parse_value(match.group("value")), match.group("unit"), end, analytes)
    return None


def _range(match: re.Match[str], end: int, analytes: list[str]) -> _Threshold | None:
    """ "between 30 and 60 mL/min": at least the first and at most the second (both inclusive)."""
    unit = match.group("unit") or match.group("unit1")
    if match.group("unit1") and match.group("unit") and normalise_unit(match.group("unit1")) != normalise_unit(unit):
        return None
    low = _absolute(">=", _parse_value(match.group("value")), unit, end, analytes)
    high = _absolute("<=", _parse_value(match.group("value2")), unit, end, analytes)
    if low is None or high is None or low.unit != high.unit or low.value >= high.value:
        return None
    return replace(low, second=high, confidence=min(low.confidence, high.confidence))


_OTHER_END = re.compile(r"^\s*,?\s*(?P<c>and|but|&|to|-|–|or|,)\s*(?=[<>≤≥=⩽⩾]|(?:less|greater|more|fewer|lower|higher|"
                        r"no\s+more|not\s+more|no\s+less|not\s+less|at\s+least|at\s+most|below|above|under|over)\b)",
                        _FLAGS)


def _other_end(folded: str, threshold: _Threshold, analytes: list[str]) -> _Threshold:
    """A second limit said right after the first ("≥7.0% and ≤10.0%") makes a range; an alternative one
    ("≤ 2.5 x ULN or ≤ 5 x ULN if …") or a second limit in the same direction makes the rule unsure."""
    connective = _OTHER_END.match(folded[threshold.end :])
    if connective is None or threshold.kind not in ("absolute", "uln", "lln"):
        return threshold
    position = threshold.end + connective.end()
    second = _read_threshold(folded, position, analytes)
    if second is None and threshold.unit is not None:
        # "≥ 0.3 ng/mL to < 20": the unit is said once.
        bare = re.match(rf"(?P<cmp>{COMPARATOR})\s*(?P<value>{_DIGITS})(?![\w%/])", folded[position:], _FLAGS)
        comparator = _comparator(bare) if bare else None
        if bare and comparator:
            second = _absolute(comparator, _parse_value(bare.group("value")), threshold.unit, position + bare.end(),
                               analytes)
    if second is None:
        return replace(threshold, confidence=min(threshold.confidence, _QUALIFIED))
    lower = {">", ">="}
    if (connective.group("c").lower() == "or" and second.kind == threshold.kind == "absolute"
            and second.second is None and second.unit == threshold.unit
            and (threshold.comparator in lower) != (second.comparator in lower)
            and (threshold.value < second.value) == (threshold.comparator not in lower)):
        # "BMI < 19 or > 35": below the one or above the other, outside the range between them.
        return replace(threshold, second=second, outside=True, end=second.end,
                       confidence=min(threshold.confidence, second.confidence))
    if (connective.group("c").lower() == "or" or second.kind != threshold.kind or second.second is not None
            or (threshold.comparator in lower) == (second.comparator in lower)):
        return replace(threshold, confidence=min(threshold.confidence, _QUALIFIED))
    return replace(threshold, second=second, end=second.end, confidence=min(threshold.confidence, second.confidence))


def _negated_comparator(before: str) -> bool:
    return re.search(r"\bnot\s*$", before, _FLAGS) is not None


def _absolute(comparator: Comparator, value: float, written_unit: str | None, end: int, analytes: list[str]
              ) -> _Threshold | None:
    """An absolute threshold, if its unit fits every analyte and its value is plausible for each."""
    unit = normalise_unit(written_unit) if written_unit else None
    if written_unit and unit is None:
        return None
    confidence = SURE
    if unit is None and all(_canonical(a) == "ratio" for a in analytes):
        unit = "ratio"
    if unit is None:
        units = [_implied_unit(value, analyte) for analyte in analytes]
        if any(u is None for u in units) or len(set(units)) != 1:
            return None
        unit = units[0]
        confidence = _IMPLIED
    if unit == "ratio":
        unit = None
    elif unit == "%" and all(_canonical(a) == "ratio" for a in analytes):
        # A ratio written as a percentage (MRD 0.01 %) is stored as the fraction it is.
        value, unit = value / 100, None
    if comparator == "=" or not all(_fits(value, unit, analyte) for analyte in analytes):
        return None
    return _Threshold("absolute", comparator, value, unit, end, confidence)


def _canonical(analyte: str) -> str | None:
    concept = load_vocabulary().get(analyte)
    unit = concept.properties.get("unit") if concept else None
    return str(unit) if unit else None


def _molar_mass(analyte: str) -> float | None:
    concept = load_vocabulary().get(analyte)
    mass = concept.properties.get("molar_mass") if concept else None
    return float(mass) if isinstance(mass, int | float) else None


def _in_canonical(value: float, unit: str | None, analyte: str) -> float | None:
    canonical = _canonical(analyte)
    if canonical is None:
        return None
    if unit is None:
        return value if canonical == "ratio" else None
    if unit in _wording().accepted_units.get(analyte, ()):
        return value
    factor = _factor(unit, canonical, _molar_mass(analyte))
    return None if factor is None else value * factor


@cache
def _factor(unit: str, canonical: str, molar_mass: float | None) -> float | None:
    """What one ``unit`` is in ``canonical`` (lab units are proportional): pint is asked once per pair."""
    try:
        return convert(1.0, unit, canonical, molar_mass)
    except UnitError:
        return None


def _fits(value: float, unit: str | None, analyte: str) -> bool:
    converted = _in_canonical(value, unit, analyte)
    if converted is None:
        return False
    limits = _wording().plausible.get(analyte)
    # A conversion's rounding must not push a value written at a limit ("1,000,000/uL") outside it.
    slack = 1e-9 * max(abs(converted), 1e-12)
    return limits is None or limits[0] - slack <= converted <= limits[1] + slack


def _implied_unit(value: float, analyte: str) -> str | None:
    fitting = [unit for unit in _wording().implied_units.get(analyte, ())
               if _fits(value, None if unit == "ratio" else unit, analyte)]
    return fitting[0] if len(fitting) == 1 else None


# --- after the threshold -----------------------------------------------------------------------------------------


@dataclass
class _Tail:
    end: int  # where the rule's own text ends
    claimed: list[tuple[int, int]]
    confidence: float


def _read_tail(folded: str, position: int, analytes: list[str], threshold: _Threshold) -> _Tail:
    """What follows a threshold: methods, reference qualifiers and timing (part of the rule's text); written
    conversions and permissive notes (claimed); a qualification we did not read (lowers the confidence)."""
    wording = _wording()
    tail = _Tail(position, [], SURE)
    read_to = position
    while True:
        rest = folded[read_to:]
        step: tuple[int, bool] | None = None  # (length, claimed)
        for analyte in dict.fromkeys(analytes):
            method = wording.methods.get(analyte)
            if method and (match := method.match(rest)):
                step = (match.end(), False)
                break
        relative = threshold.kind in ("uln", "lln", "wnl")
        if step is None and relative and (match := wording.reference_qualifier.match(rest)):
            step = (match.end(), False)
        if step is None and (match := wording.timing.match(rest)):
            step = (match.end(), False)
        if step is None and (match := wording.notes.match(rest)):
            step = (match.end(), True)
        if step is None and (match := _UNIT_RESTATED.match(rest)) and threshold.unit \
                and normalise_unit(match.group("unit")) == threshold.unit:
            step = (match.end(), True)
        if step is None and (match := wording.conversion.match(rest)):
            if not _agrees(match, analytes, threshold):
                tail.confidence = _QUALIFIED
                break
            step = (match.end(), True)
        if step is None or step[0] == 0:
            break
        length, claimed = step
        if claimed or tail.claimed:
            tail.claimed.append((read_to + len(rest) - len(rest.lstrip(" ,")), read_to + length))
        else:
            tail.end = read_to + length
        read_to += length
    if wording.subgroup_after.match(folded[read_to:]) or _LOOSE_VALUE.match(folded[read_to:]):
        tail.confidence = _QUALIFIED
    return tail


def _agrees(match: re.Match[str], analytes: list[str], threshold: _Threshold) -> bool:
    """A written conversion ("(25.6 μmol/L)") that says the same as the threshold."""
    unit = normalise_unit(match.group("unit") or match.group("unit2"))
    if threshold.kind != "absolute" or unit is None:
        return False
    value = _parse_value(match.group("value") or match.group("value2"))
    for analyte in analytes:
        mine = _in_canonical(threshold.value, threshold.unit, analyte)
        theirs = _in_canonical(value, unit, analyte)
        if mine is None or theirs is None or abs(mine - theirs) > _CONVERSION_TOLERANCE * max(abs(mine), 1e-12):
            return False
    return True


# --- building rules --------------------------------------------------------------------------------------------


def _name(analyte: str) -> str:
    concept = load_vocabulary().get(analyte)
    return concept.name if concept else analyte.replace("_", " ")


def _leaves(analyte: str, threshold: _Threshold, span: tuple[int, int]) -> Rule:
    if threshold.second is not None:
        first = _leaves(analyte, replace(threshold, second=None, outside=False), span)
        joined = AnyOf if threshold.outside else AllOf
        return joined(children=(first, _leaves(analyte, threshold.second, span)), span=span)
    if threshold.kind == "wnl":
        low = Lab(analyte=analyte, name=_name(analyte), comparator=">=", value=1.0, reference="lln", span=span)
        high = Lab(analyte=analyte, name=_name(analyte), comparator="<=", value=1.0, reference="uln", span=span)
        return AllOf(children=(low, high), span=span)
    reference = "absolute" if threshold.kind == "absolute" else threshold.kind
    return Lab(analyte=analyte, name=_name(analyte), comparator=threshold.comparator, value=threshold.value,
               unit=threshold.unit, reference=reference, span=span)  # type: ignore[arg-type]


def _category(analytes: list[str]) -> str:
    return "disease_burden" if any(a in _wording().disease_burden for a in analytes) else "lab"


def _list_rule(children: list[Rule], separators: list[str], section: str, span: tuple[int, int]
               ) -> tuple[Rule, float]:
    """A threshold shared by a list: each must meet it ("and", "/", ",") or any may ("or")."""
    if len(children) == 1:
        return children[0], SURE
    words = " ".join(separators).lower()
    has_or = re.search(r"\bor\b", words.replace("and/or", "")) is not None
    either = has_or or "and/or" in words or "/" in words
    if section == "inclusion":
        # "AST and ALT ≤ 2.5 x ULN": each must be; a plain "or" could mean either reading.
        rule: Rule = (AnyOf if has_or else AllOf)(children=tuple(children), span=span)
        return rule, _LIST_UNSURE if has_or else SURE
    # "AST or ALT > 3 x ULN" excludes if either is; a plain "and" could mean both or either.
    rule = (AnyOf if either else AllOf)(children=tuple(children), span=span)
    return rule, SURE if either else _LIST_UNSURE


_BURDEN_WORDS = ("mrd", "residual", "blast", "marrow")
_MARROW_CLASS = scanning(r"\bm[123]\b")
_DIGIT = re.compile(r"\d")


def _has_burden_word(lowered: str) -> bool:
    """A disease-burden word in lower-case text: MRD, residual disease, blasts, marrow, "M1"."""
    return any(word in lowered for word in _BURDEN_WORDS) or _MARROW_CLASS.search(lowered) is not None


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    folded = fold(text)
    digit = _DIGIT.search(folded)
    lowered = folded.lower()
    burden = _has_burden_word(lowered)
    if digit is None and not burden and not any(word in lowered for word in _wording().cue_words):
        return []  # without a number, every reading needs a limit of normal or a disease-burden word
    vocabulary = load_vocabulary()
    mentions = _mentions(text, vocabulary)
    if not mentions and not burden:
        return []  # every reading below needs a named test or a disease-burden word
    found = _thresholds(passage, folded, mentions)
    if digit is not None and _may_read_value_first(folded, mentions, digit.start()):
        found += _value_first(passage, folded, mentions)
    found += _mrd(passage, folded)
    found += _marrow(passage, folded)
    found += _presence(passage, folded, mentions)
    found = _own_best(found)
    found = _flag_orphans(passage, folded, found)
    found = [_unsure(f) if _wording().subgroup_before.search(folded[: f.start - passage.start]) else f for f in found]
    return _claim_lead_in(passage, folded, found)


def _thresholds(passage: Passage, folded: str, mentions: list[_Mention]) -> list[Found]:
    found = []
    for chain in _chains(passage.text, mentions):
        analytes = [a for m in chain.mentions for a in m.analytes]
        position = chain.end
        method = next((m for a in analytes if (m := _wording().methods.get(a)) and m.match(folded[position:])), None)
        if method:
            position += method.match(folded[position:]).end()  # type: ignore[union-attr]
        threshold = _read_threshold(folded, position, analytes)
        if threshold is None:
            continue
        threshold = _other_end(folded, threshold, analytes)
        tail = _read_tail(folded, threshold.end, analytes, threshold)
        end = tail.end
        how = _HOW_MEASURED.search(folded[: chain.mentions[0].start])
        start = how.start() if how else chain.mentions[0].start
        children, seen = [], set()
        for index, mention in enumerate(chain.mentions):
            for analyte in mention.analytes:
                if analyte not in seen:  # "PTT or aPTT" names one test twice
                    seen.add(analyte)
                    leaf_start = start if index == 0 else mention.start
                    children.append(_leaves(analyte, threshold, passage.span(leaf_start, end)))
        rule, list_confidence = _list_rule(children, chain.separators, passage.section, passage.span(start, end))
        confidence = min(threshold.confidence, tail.confidence, list_confidence)
        found.append(Found(rule, *passage.span(start, end), category=_category(analytes),
                           confidence=confidence, claimed=tuple(passage.span(s, e) for s, e in tail.claimed)))
    return found


def _may_read_value_first(folded: str, mentions: list[_Mention], first_digit: int) -> bool:
    """A value-first reading needs an analyte named alone, or a generic one ("blasts"), after a number."""
    return (any(len(m.analytes) == 1 and m.start > first_digit for m in mentions)
            or any(w.search(folded, first_digit) for w in _wording().site_words.values()))


def _value_first(passage: Passage, folded: str, mentions: list[_Mention]) -> list[Found]:
    """ "≥5% bone marrow blasts", "> 5 white blood cells per cubic millimeter in CSF"."""
    wording = _wording()
    found = []
    for pattern in wording.value_first:
        for match in pattern.finditer(folded):
            position = match.end()
            analyte, position = _analyte_at(folded, position, mentions)
            if analyte is None:
                continue
            unit_text = match.group("unit")
            second = re.match(rf"\s*(?P<u>{unit_pattern()})", folded[position:], _FLAGS)
            if unit_text is None and second:
                unit_text = second.group("u")
                position += second.end()
            analyte, position = _at_site(analyte, folded, position)
            if analyte is None or unit_text is None:  # "≥ 10 WBC/HPF": without a unit, no guess
                continue
            comparator = _comparator(match)
            if comparator is None or _negated_comparator(folded[: match.start()]):
                continue
            threshold = _absolute(comparator, _parse_value(match.group("value")), unit_text, position, [analyte])
            if threshold is None:
                continue
            tail = _read_tail(folded, position, [analyte], threshold)
            span = passage.span(match.start(), tail.end)
            rule = _leaves(analyte, threshold, span)
            found.append(Found(rule, *span, category=_category([analyte]),
                               confidence=min(threshold.confidence, tail.confidence),
                               claimed=tuple(passage.span(s, e) for s, e in tail.claimed)))
    return found


def _analyte_at(folded: str, position: int, mentions: list[_Mention]) -> tuple[str | None, int]:
    """The analyte named at ``position``, or a generic one ("blasts") that needs a site; and where it ends."""
    mention = next((m for m in mentions if m.start == position and len(m.analytes) == 1), None)
    if mention is not None:
        return mention.analytes[0], mention.end
    for name, words in _wording().site_words.items():
        match = words.match(folded, position)
        if match:
            return name, match.end()
    return None, position


def _at_site(analyte: str, folded: str, position: int) -> tuple[str | None, int]:
    """The specific measure a site makes of ``analyte`` ("blasts in the bone marrow"); generic ones need one."""
    wording = _wording()
    for site, pattern in wording.sites.items():
        match = pattern.match(folded[position:])
        specific = wording.site_analytes.get(analyte, {}).get(site) if match else None
        if match and specific:
            return specific, position + match.end()
    return (None if analyte in wording.site_words else analyte), position


def _mrd(passage: Passage, folded: str) -> list[Found]:
    """ "MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5", "MRD ≥ 0.01%" (stored as 0.0001)."""
    wording = _wording()
    found = []
    for pattern in wording.mrd:
        for match in pattern.finditer(folded):
            comparator = _comparator(match)
            value = _mrd_value(match)
            if comparator is None or comparator == "=" or value is None or not _fits(value, None, "mrd"):
                continue
            end = len(folded[: match.end()].rstrip())
            claimed: list[tuple[int, int]] = []
            before = wording.mrd_before.search(folded[: match.start()])
            if before:
                claimed.append(passage.span(before.start(), before.end()))
            sensitivity = None
            tail_match = next((m for p in wording.mrd_sensitivity if (m := p.match(folded[end:]))), None)
            if tail_match:
                sensitivity = _power_or_percent(tail_match.group("s"))
                if sensitivity is not None:
                    end += tail_match.end()
            threshold = _Threshold("absolute", comparator, value, None, end)
            tail = _read_tail(folded, end, ["mrd"], threshold)
            span = passage.span(match.start(), tail.end)
            rule = Lab(analyte="mrd", name=_name("mrd"), comparator=comparator, value=value, unit=None,
                       assay_sensitivity=sensitivity, span=span)
            claimed += [passage.span(s, e) for s, e in tail.claimed]
            found.append(Found(rule, *span, category="disease_burden", confidence=tail.confidence,
                               claimed=tuple(claimed)))
    return found


def _mrd_value(match: re.Match[str]) -> float | None:
    if match.group("pct"):
        return _parse_value(match.group("pct")) / 100
    if match.group("e"):
        mantissa = float(match.group("m")) if match.group("m") else 1.0
        return mantissa * 10 ** -int(match.group("e"))
    return None


def _power_or_percent(text: str) -> float | None:
    power = re.fullmatch(r"(?:(?P<m>\d+(?:\.\d+)?)\s*[x×*]\s*)?10\s*(?:\^|\*\*|e)?\s*\(?\s*-\s*(?P<e>\d)\s*\)?",
                         text.strip())
    if power:
        return (float(power.group("m")) if power.group("m") else 1.0) * 10 ** -int(power.group("e"))
    percent = re.fullmatch(r"(\d*\.?\d+)\s*%", text.strip())
    return float(percent.group(1)) / 100 if percent else None


def _marrow(passage: Passage, folded: str) -> list[Found]:
    """ "M1 or M2 marrow" → bone-marrow blasts ≤ 25 % (classes from disease_burden.yaml)."""
    wording = _wording()
    found = []
    for match in wording.marrow.finditer(folded):
        labels = {f"M{d}" for d in re.findall(r"[123]", match.group("first") + (match.group("more") or ""))}
        if not labels <= set(wording.marrow_classes):
            continue
        limits = _union([wording.marrow_classes[label] for label in sorted(labels)])
        if limits is None:
            continue
        end = match.end("paren") + 1 if match.group("paren") else match.end()
        claimed: tuple[tuple[int, int], ...] = ()
        if match.group("paren") and not _paren_agrees(match.group("paren"), limits):
            end = match.start("paren") - 1
            end = len(folded[:end].rstrip())
        elif match.group("paren"):
            claimed = (passage.span(match.start("paren") - 1, end),)
            end = match.start("paren") - 1
            end = len(folded[:end].rstrip())
        span = passage.span(match.start(), end)
        leaves: list[Rule] = [Lab(analyte="bone_marrow_blasts", name=_name("bone_marrow_blasts"), comparator=c,
                                  value=v, unit="%", span=span) for c, v in limits]
        rule = leaves[0] if len(leaves) == 1 else AllOf(children=tuple(leaves), span=span)
        found.append(Found(rule, *span, category="disease_burden", claimed=claimed))
    return found


def _union(classes: list[tuple[float | None, bool, float | None, bool]]) -> list[tuple[Comparator, float]] | None:
    """The limits of the union of contiguous intervals; None when they leave a gap ("M1 or M3")."""
    ordered = sorted(classes, key=lambda c: -1.0 if c[0] is None else c[0])
    for previous, current in pairwise(ordered):
        if previous[2] is None or current[0] is None or previous[2] != current[0] or (previous[3] and current[1]) \
                or not (previous[3] or current[1]):
            return None
    low, low_inclusive = ordered[0][0], ordered[0][1]
    high, high_inclusive = ordered[-1][2], ordered[-1][3]
    limits: list[tuple[Comparator, float]] = []
    if low is not None and low > 0:
        limits.append((">=" if low_inclusive else ">", low))
    if high is not None:
        limits.append(("<=" if high_inclusive else "<", high))
    return limits or None


def _paren_agrees(paren: str, limits: list[tuple[Comparator, float]]) -> bool:
    """ "M1 marrow (< 5% blasts)": a parenthesis that only restates the class."""
    numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", paren)}
    words = re.sub(r"[\d.%<>≤≥=\-–]|\b(?:blasts?|lymphoblasts|leuka?emic|bone|marrow|in|the|to|and|or|less|"
                   r"than|more|greater|fewer|of|equal)\b", " ", paren, flags=_FLAGS)
    return bool(numbers) and numbers <= {v for _, v in limits} | {5.0, 25.0} and not words.strip(" ,;")


def _presence(passage: Passage, folded: str, mentions: list[_Mention]) -> list[Found]:
    """ "Presence of circulating blasts" → peripheral blasts > 0 %; after a negation cue, compose negates it."""
    wording = _wording()
    negation = load_wording().negation_before
    found = []
    for mention in mentions:
        if len(mention.analytes) != 1 or mention.analytes[0] not in wording.presence_analytes:
            continue
        if _read_threshold(folded, mention.end, list(mention.analytes)) is not None:
            continue
        before = folded[: mention.start]
        cue = wording.presence_cue.search(before)
        if cue:
            start = cue.start()
        elif negation.search(before):
            start = mention.start
        else:
            continue
        analyte = mention.analytes[0]
        span = passage.span(start, mention.end)
        rule = Lab(analyte=analyte, name=_name(analyte), comparator=">", value=0.0, unit="%", span=span)
        found.append(Found(rule, *span, category=_category([analyte])))
    return found


# --- checks over the whole passage ---------------------------------------------------------------------------


def _own_best(found: list[Found]) -> list[Found]:
    chosen: list[Found] = []
    for candidate in sorted(found, key=lambda f: (-f.length, f.start)):
        if all(candidate.end <= c.start or candidate.start >= c.end for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda f: f.start)


def _flag_orphans(passage: Passage, folded: str, found: list[Found]) -> list[Found]:
    """A threshold nobody read next to ours ("≤ 5 x ULN if liver metastases", "≥ 13 g/dL for men") means
    ours may hold only for some patients: the nearest finding becomes unsure."""
    if not found:
        return found
    read = [(f.start - passage.start, f.end - passage.start) for f in found]
    read += [(s - passage.start, e - passage.start) for f in found for s, e in f.claimed]
    flagged = set()
    for match in _wording().orphan.finditer(folded):
        if any(start <= match.start() < end for start, end in read):
            continue
        before = [i for i, f in enumerate(found) if f.end - passage.start <= match.start()]
        flagged.add(before[-1] if before else 0)
    return [_unsure(f) if i in flagged else f for i, f in enumerate(found)]


def _unsure(finding: Found) -> Found:
    return Found(finding.rule, finding.start, finding.end, finding.category,
                 confidence=min(finding.confidence, _QUALIFIED), claimed=finding.claimed)


def _claim_lead_in(passage: Passage, folded: str, found: list[Found]) -> list[Found]:
    """ "Bone marrow function as defined below:" before the first threshold is read with it."""
    if not found:
        return found
    first = found[0]
    lead = _wording().lead_in.search(folded[: first.start - passage.start])
    if lead is None:
        return found
    read = {leaf.analyte for f in found for leaf in leaves(f.rule) if isinstance(leaf, Lab)}
    if any(organ.search(lead.group(0)) and not tests & read for organ, tests in _wording().lead_in_organs):
        return found  # "Adequate renal and hepatic function: creatinine ≤ 1.5": the liver is left unread
    start = lead.start() + len(lead.group(0)) - len(lead.group(0).lstrip())
    claimed = (*first.claimed, passage.span(start, first.start - passage.start))
    return [Found(first.rule, first.start, first.end, first.category, first.confidence, claimed), *found[1:]]

