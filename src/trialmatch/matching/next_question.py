"""Choose the next question: the one whose answer could settle the most trials.

Every open criterion of a possibly-eligible trial can settle it: the answer that fails it rules the trial
out, and if it is the trial's last open question the other answer makes it eligible. So a question's
worth is the number of trials it is open in, with trials closer to a verdict (fewer open questions)
counting more. Questions are shared across trials by their id (the same rule asks the same question).

Every possibly-eligible candidate counts, not only the trials shown: a question that settles many trials
further down the list is still worth asking. A broad screening has tens of thousands of such trials with
about thirty open questions each, so the counting is done by ``Counter`` in C (one count per trial and
question, grouped by the trial's number of open questions, which fixes its weight), and which trials a
question could settle, with the criterion text in each, is listed only for the questions a reader looks at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, Protocol

from trialmatch.matching.judgement import Judgement, verdict_index
from trialmatch.matching.ranking import Ranked
from trialmatch.matching.verdicts import TrialVerdict

_QUESTION_ID = attrgetter("question_id")
_WORDING = attrgetter("question")
_SCORE = attrgetter("score")


class RankedQuestion:
    """A question, how useful it is (``score``) and the trials where it is open (``trials``)."""

    __slots__ = ("_count", "_listing", "_trials", "question", "question_id", "score")

    def __init__(self, question_id: str, question: str, trials: dict[str, str] | None = None,
                 score: float = 0.0) -> None:
        self.question_id = question_id
        self.question = question
        self.score = score
        self._trials = {} if trials is None else trials
        self._count = 0
        #: Set by ``rank_questions``: lists ``trials`` when they are first read.
        self._listing: Listing | None = None

    @property
    def trials(self) -> dict[str, str]:
        """Trials where this question is open (by id), and the criterion text in each."""
        if self._listing is not None:
            self._trials, self._listing = self._listing.trials_of(self.question_id), None
        return self._trials

    @property
    def trial_ids(self) -> list[str]:
        """The ids of the trials where this question is open, sorted (without reading their criteria)."""
        if self._listing is not None:
            return self._listing.trial_ids_of(self.question_id)
        return sorted(self._trials)

    @property
    def could_settle(self) -> int:
        return self._count if self._listing is not None else len(self._trials)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RankedQuestion):
            return NotImplemented
        return (self.question_id, self.question, self.score, self.trials) == (
            other.question_id, other.question, other.score, other.trials)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return (f"RankedQuestion(question_id={self.question_id!r}, question={self.question!r}, "
                f"could_settle={self.could_settle}, score={self.score!r})")


def rank_questions(matches: Iterable[Ranked], skip: Iterable[str] = ()) -> list[RankedQuestion]:
    """Open questions across the possibly-eligible trials, most useful first. ``skip``: ids already asked."""
    # Each trial's open questions once (a set, made in C), counted per number of open questions (the weight).
    possible: list[tuple[Ranked, Sequence[Any], set[str]]] = []
    counts: dict[int, Counter[str]] = {}
    for match in matches:
        if match.verdict != TrialVerdict.POSSIBLY_ELIGIBLE:
            continue
        opened: Sequence[Any] = match.open  # type: ignore[assignment]
        if not opened:
            continue
        if isinstance(match, Judgement) and match.open_at is not None and len(match.open_at) == len(opened):
            # Judged from the plan's index: its question ids by position, no criterion object read.
            asked = set(map(verdict_index(match.plan).question_at.__getitem__, match.open_at))
        else:
            asked = set(map(_QUESTION_ID, opened))
        possible.append((match, opened, asked))
        counter = counts.get(len(opened))
        if counter is None:
            counter = counts[len(opened)] = Counter()
        counter.update(asked)
    scores: dict[str, float] = {}
    settles: dict[str, int] = {}
    for size in sorted(counts):
        weight = 1 + 1 / size
        for question_id, count in counts[size].items():
            if question_id in scores:
                scores[question_id] += count * weight
                settles[question_id] += count
            else:
                scores[question_id], settles[question_id] = count * weight, count
    for question_id in (*skip, None, ""):  # asked already, or no question to ask
        scores.pop(question_id, None)  # type: ignore[arg-type]
    # The wording of the first trial (in the order given) asking each question.
    wording: dict[str, str] = {}
    unworded = set(scores)
    for _, opened, asked in possible:
        if not unworded:
            break
        if asked.isdisjoint(unworded):
            continue
        for criterion in opened:
            if criterion.question_id in unworded:
                wording[criterion.question_id] = criterion.question
                unworded.discard(criterion.question_id)
    listing = _Listing(possible)
    questions = []
    for question_id, score in scores.items():
        ranked = RankedQuestion.__new__(RankedQuestion)  # without __init__: thousands of them
        ranked.question_id, ranked.question, ranked.score = question_id, wording[question_id], score
        ranked._count, ranked._listing, ranked._trials = settles[question_id], listing, {}
        questions.append(ranked)
    order_questions(questions)
    listing.order = [q.question_id for q in questions]
    return questions


def order_questions(questions: list[RankedQuestion]) -> None:
    """Highest score first, ties by wording, then by id (trials whose text was not compiled all ask alike)."""
    # Stable sorts on plain keys (the specialised string and float comparisons) are several times faster than
    # one sort on (score, wording, id) tuples.
    questions.sort(key=_QUESTION_ID)
    questions.sort(key=_WORDING)
    questions.sort(key=_SCORE, reverse=True)


class Listing(Protocol):
    """Where a ranked question's trials come from, listed only when read."""

    def trials_of(self, question_id: str) -> dict[str, str]: ...

    def trial_ids_of(self, question_id: str) -> list[str]: ...


class _Listing:
    """Lists which trials each question could settle, for the questions a reader looks at.

    Readers look at the first few questions, so a question's trials are listed together with those of the
    next ``BATCH`` unlisted ones, in one pass over the possibly-eligible trials. It holds question ids, never
    the questions themselves: no reference cycle, so a screening's result is freed as soon as it is dropped.
    """

    BATCH = 16

    def __init__(self, possible: list[tuple[Ranked, Sequence[Any], set[str]]]) -> None:
        self.possible = possible
        self.order: list[str] = []
        self.position: dict[str, int] = {}
        self.listed: dict[str, dict[str, str]] = {}

    def trial_ids_of(self, question_id: str) -> list[str]:
        return sorted(self.trials_of(question_id))

    def trials_of(self, question_id: str) -> dict[str, str]:
        listed = self.listed.get(question_id)
        if listed is not None:
            return listed
        if not self.position:
            self.position = {qid: i for i, qid in enumerate(self.order)}
        start = self.position.get(question_id)
        batch = [question_id] if start is None else [
            qid for qid in self.order[start : start + self.BATCH] if qid not in self.listed]
        for qid in batch:
            self.listed[qid] = {}
        ids = set(batch)
        for match, opened, asked in self.possible:
            for qid in ids.intersection(asked):
                self.listed[qid][match.trial_id] = _asking(match, opened, qid)
        return self.listed[question_id]


def _asking(match: Ranked, opened: Sequence[Any], question_id: str) -> str:
    """The text of the trial's first open criterion that asks ``question_id``."""
    if isinstance(match, Judgement) and match.open_at is not None and len(match.open_at) == len(opened):
        question_at = verdict_index(match.plan).question_at
        position = question_at.index(question_id)  # a question is nearly always asked once in a trial
        if position in match.open_at:
            return match.plan.criteria[position].text
    return next(c.text for c in opened if c.question_id == question_id)


def next_question(matches: Iterable[Ranked], skip: Iterable[str] = ()) -> RankedQuestion | None:
    ranked = rank_questions(matches, skip)
    return ranked[0] if ranked else None
