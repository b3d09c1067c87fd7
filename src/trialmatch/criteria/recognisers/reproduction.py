"""Pregnancy, breastfeeding and contraception.

Reads "Are pregnant or breastfeeding", "Pregnant or lactating women", "Female participants of childbearing
potential with a positive pregnancy test assessed at Screening by a highly sensitive urine or serum
pregnancy test", "Negative pregnancy test in women of childbearing potential" (compose negates it),
"Female participants who are breastfeeding or who plan to breastfeed while on study …" (planned),
"Female participants of childbearing potential unwilling to use protocol-specified method of
contraception …" (not willing: read here), "Male participants with a female partner of childbearing
potential who are unwilling to practice sexual abstinence … or use contraception …". A sex alone
("Female", "Male or female") is the ``sex`` recogniser's.

Who a contraception rule applies to comes from the nearest subject before the method ("women of
childbearing potential", "male participants with a female partner of childbearing potential", "fertile
patients") or a condition after it ("if there is any chance that you or your partner could become
pregnant"). How long contraception is needed ("during treatment and for 12 months after the last dose")
is read with the finding but kept by no rule: the question names "the time the study team advises". The
wording is in ``data/criteria/reproduction.yaml``. Post-menopausal or sterile definitions of childbearing
potential, and sperm or egg donation, are left to questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from trialmatch.criteria.compose import load_wording as compose_wording
from trialmatch.criteria.folding import scanning
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.rules import AllOf, AnyOf, Breastfeeding, Contraception, Not, Pregnancy, Rule
from trialmatch.data import read_yaml

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_SENTENCE_START = re.compile(r"[.;]\s+|\n\s*\n")
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)")
_LIST_GAP = re.compile(r"[\s,/]*(?:(?:and\s*/\s*or|and|or|nor|&)\b)?[\s,/]*", re.IGNORECASE)
_SUBJECT_JOIN = re.compile(r"\s*(?:,|and|or|and/or|&|/)\s*(?:all\s+)?", re.IGNORECASE)
#: Confidence of an exclusion that reads like a requirement.
_MISPLACED = 0.6
_TOKEN = re.compile(r"\s*(?:,\s*)?(?P<token>[^\W_]+(?:[-'][^\W_]+)*|[\d.]+|[≥≤<>])")


@dataclass(frozen=True)
class _Wording:
    pregnancy: tuple[re.Pattern[str], ...]
    pregnancy_after_negative: tuple[re.Pattern[str], ...]
    pregnancy_planned: tuple[re.Pattern[str], ...]
    pregnancy_block_after: re.Pattern[str]
    pregnancy_block_before: re.Pattern[str]
    breastfeeding: tuple[re.Pattern[str], ...]
    nursing: re.Pattern[str]
    breastfeeding_planned: tuple[re.Pattern[str], ...]
    breastfeeding_block_after: re.Pattern[str]
    breastfeeding_block_before: re.Pattern[str]
    neither: re.Pattern[str]
    instruction: re.Pattern[str]
    female_subject: re.Pattern[str]
    refuse: re.Pattern[str]
    medication: re.Pattern[str]
    quality: re.Pattern[str]
    method: re.Pattern[str]
    method_note_words: frozenset[str]
    subjects: tuple[tuple[str, re.Pattern[str]], ...]
    conditions_after: tuple[tuple[str, re.Pattern[str]], ...]
    tail_words: frozenset[str]
    tail_never_last: frozenset[str]
    triggers: re.Pattern[str]


@cache
def _wording() -> _Wording:
    raw = read_yaml("criteria/reproduction.yaml")
    flags = re.IGNORECASE
    test = raw["test"]

    def compiled(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(scanning(p.replace("{TEST}", test), flags) for p in patterns)

    pregnancy, breastfeeding, contraception = raw["pregnancy"], raw["breastfeeding"], raw["contraception"]
    adjectives = contraception["adjectives"]
    method = contraception["core"].replace("{ADJ}", adjectives)
    # A second method joined by "or" / "and" ("sexual abstinence (…) or use contraception").
    method_run = rf"\b(?:{method})(?:\s*(?:\([^()]*\))?\s*,?\s*(?:or|and|and/or)\s+(?:{method}))*"
    subject_order = ("male", "childbearing_potential", "male_plain", "female", "any")
    return _Wording(
        pregnancy=compiled(pregnancy["plain"]),
        pregnancy_after_negative=compiled(pregnancy["after_negative"]),
        pregnancy_planned=compiled(pregnancy["planned"]),
        pregnancy_block_after=scanning(pregnancy["block_after"], flags),
        pregnancy_block_before=scanning(pregnancy["block_before"], flags),
        breastfeeding=compiled(breastfeeding["plain"]),
        nursing=scanning(breastfeeding["nursing_after_pregnancy"], flags),
        breastfeeding_planned=compiled(breastfeeding["planned"]),
        breastfeeding_block_after=scanning(breastfeeding["block_after"], flags),
        breastfeeding_block_before=scanning(breastfeeding["block_before"], flags),
        neither=scanning(raw["neither"], flags),
        instruction=scanning(raw["instruction"], flags),
        female_subject=scanning(raw["female_subject"], flags),
        refuse=scanning(contraception["refuse"], flags),
        medication=scanning(contraception["medication"], flags),
        quality=scanning(contraception["quality"], flags),
        method=scanning(method_run, flags),
        method_note_words=frozenset(str(w).lower() for w in contraception["method_note_words"]),
        subjects=tuple((name, scanning(contraception["subjects"][name], flags)) for name in subject_order),
        conditions_after=tuple((name, scanning(p, flags)) for name, p in contraception["conditions_after"].items()),
        tail_words=frozenset(str(w).lower() for w in raw["tail_words"]),
        tail_never_last=frozenset(str(w).lower() for w in raw["tail_never_last"]),
        triggers=scanning(raw["triggers"], flags),
    )


@dataclass(frozen=True)
class _Hit:
    """A reproduction rule read at text[start:end], before negations and subjects are settled."""

    rule: Rule
    start: int
    end: int
    category: str = "reproduction"
    claimed: tuple[tuple[int, int], ...] = ()


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not _wording().triggers.search(text):
        return []
    found = [h for h in _pregnancy(text) + _breastfeeding(text) if not _wording().instruction.search(text, 0, h.start)]
    hits = _neither(text, _without_overlaps(found))
    hits = _listed(text, [_with_tail(text, h) for h in hits])
    hits = _negations_kept_apart(text, _without_overlaps(hits + _contraception(text)))
    hits = [_with_subject(text, h) for h in hits]
    return [Found(_spanned(h.rule, passage), *passage.span(h.start, h.end), category=h.category,
                  confidence=_confidence(text, h, passage.section),
                  claimed=tuple(passage.span(s, e) for s, e in h.claimed)) for h in hits]


def _confidence(text: str, hit: _Hit, section: str) -> float:
    """Unsure when an exclusion reads like a requirement ("must use adequate contraception", "negative
    pregnancy test"): the item was most likely listed under the wrong heading."""
    if section != "exclusion":
        return SURE
    gap = text[max((m.end() for m in _SENTENCE_START.finditer(text, 0, hit.start)), default=0) : hit.start]
    negated = compose_wording().negation_before.search(gap) is not None
    if isinstance(hit.rule, Contraception) and not negated:
        return _MISPLACED
    if isinstance(hit.rule, Pregnancy | Breastfeeding) and negated and re.search(r"\bnegative\b", gap, re.I):
        return _MISPLACED
    return SURE


def _negations_kept_apart(text: str, hits: list[_Hit]) -> list[_Hit]:
    """"Not pregnant or breastfeeding and willing to use contraception": the negations are read here, so
    they do not also cover the contraception listed after them (compose negates the whole list a cue opens)."""
    out: list[_Hit] = []
    for hit in hits:
        chain: list[_Hit] = []
        if isinstance(hit.rule, Contraception):
            cursor = hit.start
            while out and isinstance(out[-1].rule, Pregnancy | Breastfeeding | AnyOf) \
                    and not _has_contraception(out[-1].rule) and _listed_after(text, out[-1].end, cursor):
                chain.insert(0, out.pop())
                cursor = chain[0].start
        cues = [_negation_cue(text, h.start, out[-1].end if index == 0 and out else chain[index - 1].end
                              if index else 0) for index, h in enumerate(chain)]
        first = next((i for i, cue in enumerate(cues) if cue is not None), None)
        if first is None:
            out.extend(chain)
            out.append(hit)
            continue
        out.extend(chain[:first])
        groups: list[tuple[int, list[_Hit]]] = []
        for cue, member in zip(cues[first:], chain[first:], strict=True):
            if cue is not None:
                groups.append((cue, [member]))
            else:
                groups[-1][1].append(member)
        negations: list[Rule] = []
        for cue, members in groups:
            children = tuple(c for h in members for c in (h.rule.children if isinstance(h.rule, AnyOf) else (h.rule,)))
            inner = children[0] if len(children) == 1 else AnyOf(children=children, span=(members[0].start,
                                                                                            members[-1].end))
            negations.append(Not(child=inner, span=(cue, members[-1].end)))
        start = groups[0][0]
        rule = AllOf(children=(*negations, hit.rule), span=(start, hit.end))
        claimed = tuple(c for h in (*chain[first:], hit) for c in h.claimed)
        out.append(_Hit(rule, start, hit.end, hit.category, claimed))
    return out


def _listed_after(text: str, end: int, start: int) -> bool:
    """True when text[end:start] only lists ("and", ", or"), perhaps with a negation cue ("and non-")."""
    gap = text[end:start]
    cue = compose_wording().negation_before.search(gap)
    return _LIST_GAP.fullmatch(gap[: cue.start()] if cue else gap) is not None


def _negation_cue(text: str, position: int, since: int = 0) -> int | None:
    """Where a negation cue ("not", "negative", "non-") right before ``position`` (and after ``since``) starts."""
    clause = max([since, *(m.end() for m in re.finditer(r"[.;:]\s", text[:position]))])
    cue = compose_wording().negation_before.search(text[clause:position])
    return clause + cue.start() if cue else None


def _listed(text: str, hits: list[_Hit]) -> list[_Hit]:
    """"Pregnant and breastfeeding women": one "any of" finding, so a negation or "are excluded" after it
    covers both."""
    out: list[_Hit] = []
    for hit in hits:
        previous = out[-1] if out else None
        if previous is not None and _LIST_GAP.fullmatch(text[previous.end : hit.start]) \
                and isinstance(hit.rule, Pregnancy | Breastfeeding) \
                and isinstance(previous.rule, Pregnancy | Breastfeeding | AnyOf) \
                and not isinstance(previous.rule, Not):
            children = (*(previous.rule.children if isinstance(previous.rule, AnyOf) else (previous.rule,)), hit.rule)
            out[-1] = _Hit(AnyOf(children=children, span=(previous.start, hit.end)), previous.start, hit.end,
                           previous.category, (*previous.claimed, *hit.claimed))
        else:
            out.append(hit)
    return out


def _spanned(rule: Rule, passage: Passage) -> Rule:
    """The rule with its spans made absolute (hits are built with spans relative to the passage)."""
    span = passage.span(*rule.span) if rule.span else None
    if isinstance(rule, AllOf | AnyOf):
        return rule.model_copy(update={"span": span, "children": tuple(_spanned(c, passage) for c in rule.children)})
    if isinstance(rule, Not):
        return rule.model_copy(update={"span": span, "child": _spanned(rule.child, passage)})
    return rule.model_copy(update={"span": span})


# --- pregnancy and breastfeeding -------------------------------------------------------------------

def _pregnancy(text: str) -> list[_Hit]:
    wording = _wording()
    hits = [_Hit(Pregnancy(planned=True, span=(m.start(), m.end())), m.start(), m.end())
            for p in wording.pregnancy_planned for m in p.finditer(text) if _bounded(text, m)]
    for pattern in wording.pregnancy:
        for match in pattern.finditer(text):
            if not _bounded(text, match) or wording.pregnancy_block_before.search(text[: match.start()]):
                continue
            if "test" not in match.group(0).lower() and wording.pregnancy_block_after.match(text[match.end():]):
                continue
            hits.append(_Hit(Pregnancy(span=(match.start(), match.end())), match.start(), match.end()))
    for pattern in wording.pregnancy_after_negative:
        for match in pattern.finditer(text):
            if _bounded(text, match) and re.search(r"\bnegative\s+$", text[: match.start()], re.IGNORECASE) \
                    and re.search(r"pregnan|hcg|gonadotropin", match.group(0), re.IGNORECASE):
                hits.append(_Hit(Pregnancy(span=(match.start(), match.end())), match.start(), match.end()))
    return hits


def _breastfeeding(text: str) -> list[_Hit]:
    wording = _wording()
    hits = [_Hit(Breastfeeding(planned=True, span=(m.start(), m.end())), m.start(), m.end())
            for p in wording.breastfeeding_planned for m in p.finditer(text) if _bounded(text, m)]
    patterns = list(wording.breastfeeding)
    if re.search(r"pregnan", text, re.IGNORECASE):
        patterns.append(wording.nursing)
    for pattern in patterns:
        for match in pattern.finditer(text):
            if not _bounded(text, match) or wording.breastfeeding_block_before.search(text[: match.start()]) \
                    or wording.breastfeeding_block_after.match(text[match.end():]):
                continue
            hits.append(_Hit(Breastfeeding(span=(match.start(), match.end())), match.start(), match.end()))
    return hits


def _neither(text: str, hits: list[_Hit]) -> list[_Hit]:
    """"neither pregnant nor breastfeeding": one finding, not (either)."""
    wording = _wording()
    out: list[_Hit] = []
    index = 0
    while index < len(hits):
        hit = hits[index]
        cue = wording.neither.search(text[: hit.start])
        following = hits[index + 1] if index + 1 < len(hits) else None
        if cue and cue.group(0).lower().startswith("neither") and following is not None and re.fullmatch(
                r"\s*(?:,\s*)?(?:or|nor)\s+", text[hit.end : following.start], re.IGNORECASE):
            inner = AnyOf(children=(hit.rule, following.rule), span=(hit.start, following.end))
            out.append(_Hit(Not(child=inner, span=(cue.start(), following.end)), cue.start(), following.end))
            index += 2
            continue
        out.append(hit)
        index += 1
    return out


# --- contraception ---------------------------------------------------------------------------------

def _contraception(text: str) -> list[_Hit]:
    wording = _wording()
    hits: list[_Hit] = []
    for match in wording.method.finditer(text):
        if not _bounded(text, match):
            continue
        if wording.medication.search(match.group(0)) and not wording.quality.search(match.group(0)):
            continue  # "using hormonal contraceptives": a medicine, not a commitment to contraception
        start, end = match.start(), match.end()
        note = _PARENTHESIS.match(text, end)
        if note and _method_note(note.group(1)):
            end = note.end()
        end = _with_tail(text, _Hit(Contraception(), start, end)).end
        refuse = _refusal_before(text, start)
        applies_to, subject, condition_end = _applies_to(text, start, end)
        if applies_to == "unread":
            continue
        claimed = (subject,) if subject is not None else ()
        if condition_end is not None:
            end = _with_tail(text, _Hit(Contraception(), start, condition_end)).end
        rule: Rule = Contraception(applies_to=applies_to, span=(start, end))  # type: ignore[arg-type]
        if refuse is not None:
            start = refuse
            rule = Not(child=rule, span=(start, end))
        hits.append(_Hit(rule, start, end, claimed=claimed))
    return hits


def _refusal_before(text: str, position: int) -> int | None:
    """Where "unwilling to" / "refuses to" starts, right before ``position``, if it does."""
    for match in _wording().refuse.finditer(text, max(0, position - 40), position):
        if match.end() == position:
            return match.start()
    return None


def _method_note(inner: str) -> bool:
    words = [w.lower() for w in _WORD.findall(inner)]
    return bool(words) and all(w in _wording().method_note_words for w in words)


def _applies_to(text: str, start: int, end: int) -> tuple[str, tuple[int, int] | None, int | None]:
    """Who the method is asked of; the subject's span; the end of a condition after the method, if any."""
    wording = _wording()
    for name, pattern in wording.conditions_after:
        after = pattern.match(text, end)
        if after:
            return name, None, after.end()
    sentence = max((m.end() for m in _SENTENCE_START.finditer(text, 0, start)), default=0)
    found: list[tuple[int, int, int, str]] = []  # (end, -order, start, name)
    for order, (name, pattern) in enumerate(wording.subjects):
        found += [(m.end(), -order, m.start(), name) for m in pattern.finditer(text, sentence, start)
                  if _bounded(text, m)]
    if not found:
        return "any", None, None
    nearest = max(found)
    chain = [nearest]
    while True:
        # "Women of childbearing potential and men": subjects joined by and / or are asked together.
        joined = [f for f in found if f[0] <= chain[-1][2] and _SUBJECT_JOIN.fullmatch(text[f[0] : chain[-1][2]])]
        if not joined:
            break
        chain.append(max(joined))
    names = {name for *_, name in chain}
    if "childbearing_potential" in names and "male_plain" in names and not re.search(
            r"\b(?:child[-\s]?fathering|reproductive)\b", text[sentence:start], re.IGNORECASE):
        # "All women of childbearing potential and all men": every man, but only some women; no leaf says it.
        return "unread", None, None
    if "childbearing_potential" in names:
        applies = "childbearing_potential"
    elif "male" in names:
        applies = "male"
    elif {"male_plain", "female"} <= names or "any" in names:
        applies = "any"
    else:
        applies = "male" if "male_plain" in names else "female"
    return applies, (min(f[2] for f in chain), max(f[0] for f in chain)), None


# --- what follows ------------------------------------------------------------------------------------

def _with_tail(text: str, hit: _Hit) -> _Hit:
    """The hit extended over the time words after it ("during treatment and for 12 months after …")."""
    wording = _wording()
    position = last_good = hit.end
    for match in _TOKEN.finditer(text, hit.end):
        if match.start() != position:
            break
        token = match.group("token").lower()
        parts = [p for p in re.split(r"[-']", token) if p]
        if not (re.fullmatch(r"[\d.]+|[≥≤<>]", token) or all(p in wording.tail_words for p in parts)):
            break
        position = match.end()
        if token not in wording.tail_never_last:
            last_good = position
    if last_good == hit.end:
        return hit
    return _Hit(hit.rule, hit.start, last_good, hit.category, hit.claimed)


def _with_subject(text: str, hit: _Hit) -> _Hit:
    """A pregnancy or breastfeeding hit also reads the women it names, before or after it in its sentence
    ("Female participants of childbearing potential with a positive pregnancy test", "Negative pregnancy
    test in women of childbearing potential")."""
    if _has_contraception(hit.rule):
        return hit
    wording = _wording()
    sentence = max((m.end() for m in _SENTENCE_START.finditer(text, 0, hit.start)), default=0)
    following = _SENTENCE_START.search(text, hit.end)
    sentence_end = following.start() if following else len(text)
    subjects = [m for pattern in (wording.subjects[1][1], wording.female_subject)
                for m in pattern.finditer(text, sentence, sentence_end) if _bounded(text, m)
                and (m.end() <= hit.start or m.start() >= hit.end)]
    if not subjects:
        return hit
    return _Hit(hit.rule, hit.start, hit.end, hit.category,
                (*hit.claimed, *((m.start(), m.end()) for m in subjects)))


def _has_contraception(rule: Rule) -> bool:
    if isinstance(rule, Contraception):
        return True
    if isinstance(rule, Not):
        return _has_contraception(rule.child)
    if isinstance(rule, AllOf | AnyOf):
        return any(_has_contraception(c) for c in rule.children)
    return False


# --- helpers -----------------------------------------------------------------------------------------

def _bounded(text: str, match: re.Match[str]) -> bool:
    """True when the match starts and ends on word boundaries."""
    if match.end() == match.start():
        return False
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    first, last = match.group(0)[0], match.group(0)[-1]
    return not ((before.isalnum() and first.isalnum()) or (after.isalnum() and last.isalnum()))


def _without_overlaps(hits: list[_Hit]) -> list[_Hit]:
    chosen: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)
