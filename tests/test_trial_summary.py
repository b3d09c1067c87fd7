"""The plain-language trial summary, on real records: the demo corpus and the shared CT.gov study."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import AgeLimit, OverallStatus, Phase, StudyType, Trial
from trialmatch.trials.sources import read_sources
from trialmatch.trials.summary import (
    age_range,
    age_text,
    phase_label,
    plain_summary,
    status_kind,
    status_label,
)


@pytest.fixture(scope="module")
def demo(demo_store_path: Path) -> dict[str, Trial]:
    with TrialStore(demo_store_path) as store:
        return {trial.id: trial for trial in store.iter_trials()}


def test_pallas_from_the_ctgov_file(shared_dir: Path) -> None:
    trial = next(iter(read_sources([shared_dir / "data" / "ctgov-api-v2" / "NCT02513394.json"])))
    assert isinstance(trial, Trial), trial
    summary = plain_summary(trial)
    assert summary.tested == ("This study tests Palbociclib and Standard Adjuvant Endocrine Therapy, "
                              "which are medicines.")
    assert summary.for_whom == "It is for people with Breast Cancer, aged 18 years and over, of any sex."
    assert summary.phase is not None and summary.phase.startswith("It is a phase 3 study: a large study")
    assert summary.size == "5,796 people took part."  # enrollment ACTUAL
    assert summary.status == "It is under way but is not taking new people."
    assert summary.sentences() == [summary.tested, summary.for_whom, summary.phase, summary.size, summary.status]


def test_placebo_men_only_and_a_finished_trial(demo: dict[str, Trial]) -> None:
    summary = plain_summary(demo["NCT00056407"])  # REDUCE: dutasteride against placebo in men 50-75
    assert summary.tested is not None
    assert summary.tested.startswith("This study tests Dutasteride, a medicine.")
    assert "placebo (a dummy treatment)" in summary.tested
    assert "Placebo" not in summary.tested.split(".")[0]  # the dummy is not named as what is tested
    assert "aged 50 to 75 years, male only" in summary.for_whom
    assert summary.size == "8,231 people took part."
    assert summary.status == "It has finished and is not taking new people."


def test_observational_study_has_no_phase_and_an_estimated_size(demo: dict[str, Trial]) -> None:
    trial = demo["NCT05389774"]
    assert trial.study_type == StudyType.OBSERVATIONAL
    summary = plain_summary(trial)
    assert summary.tested is not None and summary.tested.startswith("This is an observational study")
    assert summary.phase is None
    assert summary.size == "The study plans to include about 2,000 people."
    assert summary.status.startswith("It is open")
    assert status_kind(trial) == "open" and status_label(trial) == "Recruiting"


def test_site_list_row_without_ages_says_so_and_gives_why_it_stopped(demo: dict[str, Trial]) -> None:
    trial = demo["NCT00003152"]
    summary = plain_summary(trial)
    assert summary.tested == "This study tests cyclophosphamide, prednisone and vincristine sulfate."
    assert summary.for_whom == ("It is for people with lymphoma. The record gives no age limits; "
                                "the criteria below may.")
    assert summary.status == "It stopped early and is not taking new people. The reason given: low accrual."
    assert summary.size is None  # the row gives no enrolment
    assert age_range(trial) == "Ages not stated"


def test_seed_page_trial_ages_in_months_read_as_years(demo: dict[str, Trial]) -> None:
    trial = demo["NCT06054113"]  # 1 Month to 204 Months on its page
    assert age_range(trial) == "1 month to 17 years"
    summary = plain_summary(trial)
    assert "B-cell acute lymphoblastic leukemia, aged 1 month to 17 years, of any sex" in summary.for_whom
    assert summary.phase is not None and "phase 2" in summary.phase
    assert summary.tested == "This study tests Blinatumomab."  # the page gives no intervention type


def test_combined_phases_and_a_missing_status(demo: dict[str, Trial]) -> None:
    trial = demo["NCT04521231"]
    assert trial.phases == [Phase.PHASE1, Phase.PHASE2] and trial.overall_status is None
    assert phase_label(trial) == "Phase 1/2"
    summary = plain_summary(trial)
    assert summary.phase is not None
    assert summary.phase.startswith("It is a combined phase 1/2 study: it joins phase 1 (")
    assert "phase 2 (" in summary.phase
    assert summary.status.startswith("The record does not say whether it is open")
    assert status_kind(trial) == "other"


def test_age_text_uses_the_unit_people_use() -> None:
    assert age_text(AgeLimit(value=204, unit="Months")) == "17 years"
    assert age_text(AgeLimit(value=6, unit="Months")) == "6 months"
    assert age_text(AgeLimit(value=18, unit="Months")) == "18 months"  # under two: months are clearer
    assert age_text(AgeLimit(value=1, unit="Years")) == "1 year"


def test_every_status_has_its_own_label_and_sentence(demo: dict[str, Trial]) -> None:
    base = demo["NCT06054113"]
    labels, sentences = set(), set()
    for status in OverallStatus:
        trial = base.model_copy(update={"overall_status": status})
        labels.add(status_label(trial))
        sentences.add(plain_summary(trial).status)
    assert len(labels) == len(OverallStatus) and len(sentences) == len(OverallStatus)


def test_every_demo_trial_is_summarised_from_its_own_fields(demo: dict[str, Trial]) -> None:
    for trial in demo.values():
        summary = plain_summary(trial)
        assert summary.for_whom and summary.status, trial.id
        if trial.conditions:
            assert " ".join(trial.conditions[0].split()) in summary.for_whom, trial.id
        drugs = [i.name for i in trial.interventions if "placebo" not in i.name.lower()]
        if drugs and summary.tested:
            assert " ".join(drugs[0].split()) in summary.tested, trial.id
        if trial.enrollment is not None:
            assert summary.size is not None and f"{trial.enrollment:,}" in summary.size, trial.id
        else:
            assert summary.size is None, trial.id
