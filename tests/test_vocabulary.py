"""The vocabulary finds concepts by synonym, abbreviation and spelling, from data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.vocabulary import load_vocabulary, normalize_spelling
from trialmatch.vocabulary.concepts import VOCABULARY_PATH_ENV


def ids(text: str) -> list[str]:
    return [m.concept.id for m in load_vocabulary().find(text)]


def test_all_in_capitals_is_the_disease_and_all_in_lower_case_is_a_word() -> None:
    assert ids("Children with ALL") == ["all"]
    assert ids("all children") == []


def test_british_and_american_spellings_are_one_concept() -> None:
    assert ids("acute lymphoblastic leukaemia") == ids("acute lymphoblastic leukemia") == ["all"]
    assert normalize_spelling("Paediatric Haematology Leukaemia") == "pediatric hematology leukemia"


def test_longest_phrase_wins() -> None:
    assert ids("pre B cell acute lymphoblastic leukaemia") == ["b_all"]
    assert ids("precursor B-cell lymphoblastic leukemia") == ["b_all"]
    assert ids("R/R B-ALL") == ["b_all"]


def test_b_all_is_an_all_is_a_leukaemia_is_a_cancer() -> None:
    ancestors = load_vocabulary().ancestors("b_all")
    assert ancestors[:3] == ["all", "acute_leukemia", "leukemia"]
    assert "cancer" in ancestors


def test_all_capital_titles_do_not_turn_words_into_diseases() -> None:
    assert ids("A STUDY OF ALL PATIENTS WITH BREAST CANCER") == ["breast_cancer"]


def test_every_parent_exists() -> None:
    vocabulary = load_vocabulary()
    for concept in vocabulary.concepts.values():
        for parent in concept.parents:
            assert parent in vocabulary.concepts, f"{concept.id} has unknown parent {parent}"


def test_users_can_add_their_own_vocabulary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        "concepts:\n  - id: jmml\n    name: Juvenile myelomonocytic leukemia\n"
        "    abbreviations: [JMML]\n    parents: [leukemia]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(VOCABULARY_PATH_ENV, str(tmp_path))
    load_vocabulary.cache_clear()
    try:
        vocabulary = load_vocabulary()
        assert [m.concept.id for m in vocabulary.find("a JMML trial")] == ["jmml"]
        assert "leukemia" in vocabulary.ancestors("jmml")
    finally:
        load_vocabulary.cache_clear()
