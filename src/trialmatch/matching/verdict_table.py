"""Judge and rank many trials at once: every candidate's criteria laid end to end in numpy arrays.

A broad screening (a cancer patient, every status, a 100,000-trial store) judges some 16,000 trials with
about twenty criteria each. ``judge_trial`` does one trial in about 15 µs of Python, and ranking the
10,000 possibly-eligible ones and counting their open questions cost as much again. Here each criterion of
each candidate is one row (its rule key and question as small ints, whether it is computable, whether it is
an inclusion); the patient's rule truths are gathered into the rows in one step, and the verdicts, the open
questions, the ranking and each question's worth are array operations. Only the trials shown are then
explained one by one (``match_trial``).

The rules are ``judge_trial``'s (stopping at the first deciding criterion), ``rank``'s and
``rank_questions``'s: tests/test_matching_table.py checks the results are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from trialmatch.matching.codebook import Codebook
from trialmatch.matching.judgement import UNCOMPILED_QUESTION, UNCOMPILED_TEXT, uncompiled_question_id
from trialmatch.matching.next_question import RankedQuestion, order_questions
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.rule_table import rule_truths
from trialmatch.matching.stored_plan import StoredCriteria
from trialmatch.matching.trial_plan import PlannedCriterion, TrialPlan, answer_truth
from trialmatch.matching.truth import FALSE_CODE, NA_CODE, TRUE_CODE, TRUTH_CODE, UNKNOWN_CODE
from trialmatch.matching.verdicts import TrialVerdict

FALSE, TRUE, UNKNOWN, NOT_APPLICABLE = FALSE_CODE, TRUE_CODE, UNKNOWN_CODE, NA_CODE
# What a row's criterion needs: its rule's truth (a computable criterion), only whether it applies (facts
# can only say "does not apply"), or nothing (only an answer settles it).
COMPUTABLE, APPLIES_ONLY, ANSWER_ONLY = 0, 1, 2
#: Verdicts in ranking order; a trial's verdict is its position here.
VERDICTS = (TrialVerdict.ELIGIBLE, TrialVerdict.POSSIBLY_ELIGIBLE, TrialVerdict.NOT_ELIGIBLE)
_ELIGIBLE, _POSSIBLE, _NOT_ELIGIBLE = range(3)
_UNCOMPILED = attrgetter("uncompiled")
_KEPT_ROWS = attrgetter("_rows")
_TRIAL_ID = attrgetter("trial.id")
_PAST_THE_END = 1 << 40  # the position given to the uncompiled-text question


QUESTION_IDS = Codebook(none="")  # a criterion without a question


# One row per criterion, packed in an int64 (one plain array per plan concatenates fast): its question-id
# code from bit 4, and flags: what the criterion needs (two bits), an inclusion, and a question an earlier
# row of the plan asks too (rare: a trial counts a question once).
_QUESTION_SHIFT = 4
_NEEDS, _INCLUSION, _REPEAT = 0b11, 0b100, 0b1000


def plan_rows(plan: TrialPlan) -> np.ndarray:
    """The plan's criteria as packed rows: built once per plan and kept on it (plans are shared by every patient)."""
    rows = plan.__dict__.get("_rows")
    if rows is None:
        criteria = plan.criteria
        # A stored plan's rows, read without making its criteria objects.
        fields = criteria.verdict_fields() if isinstance(criteria, StoredCriteria) else (
            (c.section, c.question_id, c.rule_key, c.computable, c.may_not_apply) for c in criteria)
        packed = []
        seen: set[str] = set()
        for section, question_id, _, computable, may_not_apply in fields:
            needs = COMPUTABLE if computable else APPLIES_ONLY if may_not_apply else ANSWER_ONLY
            packed.append(QUESTION_IDS(question_id) << _QUESTION_SHIFT | needs
                          | (_INCLUSION if section == "inclusion" else 0) | (_REPEAT if question_id in seen else 0))
            seen.add(question_id)
        rows = np.array(packed, np.int64)
        object.__setattr__(plan, "_rows", rows)  # a cache beside the frozen fields, like the verdict index
    return rows


@dataclass
class TableJudgement:
    """Every candidate's verdict, with what ranking and question selection need (see ``judge_table``)."""

    plans: Sequence[TrialPlan]
    verdict: np.ndarray  # per trial: index into VERDICTS
    open_count: np.ndarray  # per trial: open criteria (before the first deciding one)
    total: np.ndarray  # per trial: criteria, plus the uncompiled-text question when it counts
    #: Per row: open in a possibly-eligible trial, its question code, trial index and position.
    counted: np.ndarray
    repeats: np.ndarray
    question: np.ndarray
    trial_of: np.ndarray
    position: np.ndarray
    #: Per trial: the code of its uncompiled-text question while open, else 0.
    extra_question: np.ndarray

    def counts(self) -> dict[str, int]:
        tallies = np.bincount(self.verdict, minlength=len(VERDICTS))
        return {verdict.value: int(tallies[i]) for i, verdict in enumerate(VERDICTS)}

    def shown(self, include_not_eligible: bool = False) -> np.ndarray:
        """Trial indexes of the trials a screening shows: not the not-eligible ones unless asked for."""
        return np.arange(len(self.plans)) if include_not_eligible else np.flatnonzero(self.verdict != _NOT_ELIGIBLE)

    def rank(self, shown: np.ndarray, distance_km: dict[str, float] | None = None) -> np.ndarray:
        """``ranking.rank``: eligible, then possibly eligible by share settled (to 3 places) and fewest open
        questions, then not eligible; ties by nearest site (``distance_km`` by trial id), then trial id."""
        if not len(shown):
            return shown
        ids = list(map(_TRIAL_ID, map(self.plans.__getitem__, shown.tolist())))
        by_id = np.empty(len(ids), np.int64)
        by_id[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
        # The share settled, by Python's round as ranking.rank uses (numpy's rounds some halves the other way),
        # worked out once per (open, total) pair: there are few.
        opened, totals = self.open_count[shown], self.total[shown]
        pairs, back = np.unique(opened * (int(totals.max()) + 1) + totals, return_inverse=True)
        per_pair = [-round(1 - o / t, 3) if t else -0.0
                    for o, t in zip((pairs // (int(totals.max()) + 1)).tolist(),
                                    (pairs % (int(totals.max()) + 1)).tolist(), strict=True)]
        settled = np.array(per_pair)[back]
        keys = [by_id]
        if distance_km:
            keys.append(np.array([distance_km.get(trial_id, np.inf) for trial_id in ids]))
        keys += [self.open_count[shown], settled, self.verdict[shown]]
        return shown[np.lexsort(keys)]

    def questions(self, ranked: np.ndarray) -> list[RankedQuestion]:
        """``next_question.rank_questions`` over the possibly-eligible trials, in ``ranked`` order."""
        return _rank_questions(self, ranked)


def judge_table(view: PatientView, plans: Sequence[TrialPlan]) -> TableJudgement:
    """Judge ``plans`` for the patient, as ``judge_trial`` does each (stopping at the first deciding criterion)."""
    n = len(plans)
    try:  # each plan's rows, kept on it: read in C when every plan has them already
        parts = list(map(_KEPT_ROWS, plans))
    except AttributeError:
        parts = [plan_rows(plan) for plan in plans]
    lengths = np.fromiter(map(len, parts), np.int64, n)
    starts = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    rows = np.concatenate(parts) if n else np.zeros(0, np.int64)
    question = rows >> _QUESTION_SHIFT
    flags = rows & 0b1111
    needs, inclusion, repeats = flags & _NEEDS, (flags & _INCLUSION) > 0, (flags & _REPEAT) > 0
    trial_of = np.repeat(np.arange(n), lengths)
    position = np.arange(len(rows)) - starts[trial_of]

    truth = _row_truths(view, plans, needs, question, trial_of, starts)
    deciding = ((truth == FALSE) & inclusion) | ((truth == TRUE) & ~inclusion)
    # The first deciding criterion of each trial (past the end when none): judging stops there.
    first_deciding = lengths.copy()
    decides = np.flatnonzero(deciding)
    if len(decides):
        trials = trial_of[decides]
        first = np.ones(len(decides), bool)
        first[1:] = trials[1:] != trials[:-1]
        first_deciding[trials[first]] = position[decides[first]]
    opened = (truth == UNKNOWN) & (position < first_deciding[trial_of])
    open_count = np.bincount(trial_of[opened], minlength=n)
    decided = first_deciding < lengths

    # A record with criteria text that was not compiled: one more question, unless a criterion decides.
    uncompiled = np.fromiter(map(_UNCOMPILED, plans), bool, n) & ~decided
    extra_question = np.zeros(n, np.int32)
    if uncompiled.any():
        answers = view.answers
        for t in np.flatnonzero(uncompiled).tolist():
            qid = uncompiled_question_id(plans[t].trial.id)
            answer = answers.get(qid, "not_sure") if answers else "not_sure"
            if answer == "no":
                decided[t] = True
            elif answer != "yes":
                extra_question[t] = QUESTION_IDS(qid)
    open_count += extra_question > 0
    total = lengths + uncompiled
    verdict = np.where(decided, _NOT_ELIGIBLE, np.where(open_count > 0, _POSSIBLE, _ELIGIBLE)).astype(np.int64)
    counted = opened & (verdict == _POSSIBLE)[trial_of]
    return TableJudgement(plans, verdict, open_count, total, counted, repeats, question, trial_of, position,
                          extra_question)


def _row_truths(view: PatientView, plans: Sequence[TrialPlan], needs: np.ndarray, question: np.ndarray,
                trial_of: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each row's truth after the safety caps and answers, as ``criterion_truth`` gives it."""
    truth = np.full(len(needs), UNKNOWN, np.int8)
    truth[needs != ANSWER_ONLY] = rule_truths(view, plans)
    # Facts alone settle an "applies only" criterion only when it does not apply; nothing settles the rest.
    truth[(needs == APPLIES_ONLY) & (truth != NOT_APPLICABLE)] = UNKNOWN
    answers = view.answers
    if answers:
        answered = np.fromiter((QUESTION_IDS.code.get(qid, 0) for qid in answers), np.int64, len(answers))
        for row in np.flatnonzero((truth == UNKNOWN) & np.isin(question, answered)).tolist():
            t = int(trial_of[row])
            criterion = plans[t].criteria[row - int(starts[t])]
            truth[row] = TRUTH_CODE[answer_truth(criterion, answers[criterion.question_id])]
    return truth


def _rank_questions(table: TableJudgement, ranked: np.ndarray) -> list[RankedQuestion]:
    plans, counted, question, trial_of = table.plans, table.counted, table.question, table.trial_of
    rows = np.flatnonzero(counted & ~table.repeats)
    repeated = np.flatnonzero(counted & table.repeats)
    if len(repeated):
        # A question asked twice in a trial counts once: only if no earlier row asking it is open.
        keep = [row for row in repeated.tolist() if not _asked_earlier(row, counted, question, trial_of)]
        rows = np.sort(np.concatenate([rows, np.array(keep, np.int64)]))
    extra = np.flatnonzero((table.verdict == _POSSIBLE) & (table.extra_question > 0))
    # Each counted (trial, question) pair; the uncompiled-text question sits after a trial's criteria.
    pair_trial = np.concatenate([trial_of[rows], extra])
    pair_code = np.concatenate([question[rows], table.extra_question[extra]])
    pair_position = np.concatenate([table.position[rows], np.full(len(extra), _PAST_THE_END)])
    # The questions asked here, numbered 0..k-1 (the process-wide codes run far higher).
    present = np.zeros(len(QUESTION_IDS), bool)
    present[pair_code] = True
    present[0] = False  # no question to ask
    codes = np.flatnonzero(present)
    local = np.full(len(QUESTION_IDS), len(codes), np.int64)
    local[codes] = np.arange(len(codes))
    pair_question = local[pair_code]
    size = table.open_count[pair_trial]
    size_index = np.zeros(int(size.max()) + 1 if len(size) else 1, np.int64)
    sizes = np.flatnonzero(np.bincount(size))
    size_index[sizes] = np.arange(len(sizes))
    width = len(codes) + 1
    counts = np.bincount(size_index[size] * width + pair_question, minlength=len(sizes) * width).reshape(-1, width)
    # Summed size by size, smallest first, as rank_questions does: the same floating-point result.
    scores = np.zeros(width)
    for i, each in enumerate(sizes.tolist()):
        scores += counts[i] * (1 + 1 / each)
    settles = counts.sum(axis=0)
    if not len(codes):
        return []
    # Wording from the first trial in ranked order asking each question (its first open row asking it).
    rank_of = np.full(len(plans), len(plans), np.int64)
    rank_of[ranked] = np.arange(len(ranked))
    key = rank_of[pair_trial] * (_PAST_THE_END + 1) + pair_position
    first_key = np.full(width, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first_key, pair_question, key)
    listing = _TableListing(plans, pair_trial, pair_code, pair_position, key)
    names = QUESTION_IDS.names
    questions = []
    ranks, positions = np.divmod(first_key[: len(codes)], _PAST_THE_END + 1)
    for code, t, at, score, settled in zip(codes.tolist(), ranked[ranks].tolist(), positions.tolist(),
                                           scores[: len(codes)].tolist(), settles[: len(codes)].tolist(), strict=True):
        criteria = plans[t].criteria
        ranked_question = RankedQuestion.__new__(RankedQuestion)  # without __init__: thousands of them
        ranked_question.question_id = names[code]
        ranked_question.question = _field(criteria, at, "question") if at < len(criteria) else UNCOMPILED_QUESTION
        ranked_question.score, ranked_question._count = score, settled
        ranked_question._listing, ranked_question._trials = listing, {}
        questions.append(ranked_question)
    order_questions(questions)
    return questions


def _asked_earlier(row: int, counted: np.ndarray, question: np.ndarray, trial_of: np.ndarray) -> bool:
    earlier = row - 1
    while earlier >= 0 and trial_of[earlier] == trial_of[row]:
        if counted[earlier] and question[earlier] == question[row]:
            return True
        earlier -= 1
    return False


class _TableListing:
    """Which trials a question could settle, with the criterion text in each, listed when first read."""

    def __init__(self, plans: Sequence[TrialPlan], trial: np.ndarray, question: np.ndarray, position: np.ndarray,
                 order_key: np.ndarray) -> None:
        self.plans, self.trial, self.question, self.position = plans, trial, question, position
        self.order_key = order_key
        self._ids: np.ndarray | None = None
        self._id_rank = np.zeros(0, np.int64)

    def trial_ids_of(self, question_id: str) -> list[str]:
        pairs = np.flatnonzero(self.question == QUESTION_IDS.code.get(question_id, -1))
        if self._ids is None:  # every trial's id, and its place in id order, once per screening
            self._ids = np.array([plan.trial.id for plan in self.plans], dtype=object)
            self._id_rank = np.empty(len(self._ids), np.int64)
            self._id_rank[np.argsort(self._ids.astype(str), kind="stable")] = np.arange(len(self._ids))
        trials = self.trial[pairs]
        return self._ids[trials[np.argsort(self._id_rank[trials])]].tolist()

    def trials_of(self, question_id: str) -> dict[str, str]:
        pairs = np.flatnonzero(self.question == QUESTION_IDS.code.get(question_id, -1))
        pairs = pairs[np.argsort(self.order_key[pairs])]  # in ranked order; a trial's pair is unique
        plans = list(map(self.plans.__getitem__, self.trial[pairs].tolist()))
        return dict(zip(map(_TRIAL_ID, plans), map(_criterion_text, plans, self.position[pairs].tolist()),
                        strict=True))


def _criterion_text(plan: TrialPlan, at: int) -> str:
    return _field(plan.criteria, at, "text") if at < len(plan.criteria) else UNCOMPILED_TEXT


def _field(criteria: Sequence[PlannedCriterion], at: int, name: str) -> Any:
    """A criterion's field; from a stored plan's row, without making the criterion object."""
    return criteria.field(at, name) if isinstance(criteria, StoredCriteria) else getattr(criteria[at], name)
