"""Choose the next question: the one whose answer could settle the most trials.

Every open criterion of a possibly-eligible trial can settle it: the answer that fails it rules the trial
out, and if it is the trial's last open question the other answer makes it eligible. So a question's
worth is the number of trials it is open in, with trials closer to a verdict (fewer open questions)
counting more. Questions are shared across trials by their id (the same rule asks the same question).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from trialmatch.matching.ranking import Ranked
from trialmatch.matching.verdicts import TrialVerdict


@dataclass
class RankedQuestion:
    question_id: str
    question: str
    #: Trials where this question is open, and the criterion text in each.
    trials: dict[str, str] = field(default_factory=dict)
    score: float = 0.0

    @property
    def could_settle(self) -> int:
        return len(self.trials)


def rank_questions(matches: Iterable[Ranked], skip: Iterable[str] = ()) -> list[RankedQuestion]:
    """Open questions across the possibly-eligible trials, most useful first. ``skip``: ids already asked."""
    skipped = set(skip)
    questions: dict[str, RankedQuestion] = {}
    for match in matches:
        if match.verdict != TrialVerdict.POSSIBLY_ELIGIBLE:
            continue
        open_criteria = [c for c in match.open if c.question_id and c.question_id not in skipped]  # type: ignore[attr-defined]
        if not open_criteria:
            continue
        weight = 1 + 1 / len(match.open)
        seen: set[str] = set()
        for criterion in open_criteria:
            assert criterion.question_id is not None and criterion.question is not None
            ranked = questions.setdefault(criterion.question_id,
                                          RankedQuestion(criterion.question_id, criterion.question))
            ranked.trials.setdefault(match.trial_id, criterion.text)
            if criterion.question_id not in seen:
                ranked.score += weight
                seen.add(criterion.question_id)
    return sorted(questions.values(), key=lambda q: (-q.score, q.question))


def next_question(matches: Iterable[Ranked], skip: Iterable[str] = ()) -> RankedQuestion | None:
    ranked = rank_questions(matches, skip)
    return ranked[0] if ranked else None
