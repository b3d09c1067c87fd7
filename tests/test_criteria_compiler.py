"""The criteria compiler as a whole: nothing crashes, nothing is lost, output round-trips and is stored."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.criteria.compiler import COMPILER_VERSION, CompiledCriteria, CompiledCriterion, compile_criteria
from trialmatch.criteria.describe import describe
from trialmatch.criteria.items import split_criteria
from trialmatch.criteria.rules import AllOf, AnyOf, Not, Question, leaves

SEED_IDS = ["CRUK-8795", "NCT04521231", "PAGE-58FD7325E66A", "NCT04604691", "NCT06054113"]

_PIECES = st.sampled_from([
    "Inclusion Criteria:", "Exclusion Criteria:", "\n", "\n  - ", "\n1. ", "\n  a) ", " ", "Age ≥ 18 years",
    "ECOG 0-2", "ANC ≥ 1,000/μL", "within 4 weeks", "No prior", "chemotherapy", "HIV", "or", "and", ",", ";",
    "(", ")", "except", "unless", "pregnant", "≤", "10^-4", "x ULN", "DISEASE CHARACTERISTICS:", "\\-", "•",
    "any of the following:", "Karnofsky ≥ 50% for participants ≥ 16 years", "is defined as", "\t", "ＡＢＣ",
    "<b>bold</b>", "\u0000", "\ufeff", "😀", "18-65 years of age", "allogeneic HSCT",
])


def _all_criteria(compiled: CompiledCriteria) -> list[CompiledCriterion]:
    out: list[CompiledCriterion] = []
    pending = list(compiled.criteria)
    while pending:
        criterion = pending.pop()
        out.append(criterion)
        pending.extend(criterion.children)
    return out


def _uncovered(text: str, compiled: CompiledCriteria) -> str:
    """The characters of ``text`` outside every criterion, note, header and item marker."""
    covered = bytearray(len(text))
    spans = [c.span for c in _all_criteria(compiled)]
    spans += [n.span for c in _all_criteria(compiled) for n in c.notes] + [n.span for n in compiled.notes]
    tree = split_criteria(text)
    spans += [(s.start, s.end) for s in tree.spans()]
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    return "".join(ch for ch, flag in zip(text, covered, strict=True) if not flag)


def _check(text: str) -> CompiledCriteria:
    compiled = compile_criteria(text)
    assert _uncovered(text, compiled).strip() == ""
    for criterion in _all_criteria(compiled):
        assert criterion.question.strip()
        assert 0 <= criterion.confidence <= 1
        start, end = criterion.span
        assert criterion.text == " ".join(text[start:end].split())
        for leaf in leaves(criterion.rule):
            assert leaf.span is not None
            assert 0 <= leaf.span[0] <= leaf.span[1] <= len(text)
    assert CompiledCriteria.model_validate_json(compiled.model_dump_json()) == compiled
    return compiled


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_no_criteria_text_crashes_the_compiler_or_loses_text(text: str) -> None:
    _check(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_unicode_compiles(text: str) -> None:
    _check(text)


def test_every_seed_compiles_without_losing_text(demo_store) -> None:
    for trial_id in SEED_IDS:
        trial = demo_store.get(trial_id)
        compiled = _check(trial.eligibility.criteria_text)
        assert compiled.criteria, trial_id


def test_corpus_texts_compile_without_losing_text(shared_dir) -> None:
    with (shared_dir / "data/criteria-corpus/lct-criteria.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(150), handle, strict=False)]
    for row in rows:
        _check(row["criteria"])


def test_text_that_is_not_understood_becomes_a_question() -> None:
    compiled = compile_criteria("Inclusion Criteria:\n- Able to swallow tablets whole\n- Age ≥ 18 years and "
                                "able to attend weekly visits")
    first, second = compiled.criteria
    assert isinstance(first.rule, Question) and not first.computable
    assert first.question == 'Does this apply to you? "Able to swallow tablets whole"'
    # What was read is kept; the rest is a question beside it.
    assert isinstance(second.rule, AllOf) and not second.computable
    assert [leaf.kind for leaf in leaves(second.rule)] == ["age", "question"]


def test_negation_applies_to_the_whole_list_it_introduces() -> None:
    compiled = compile_criteria("Inclusion Criteria:\n- Age ≥ 18 years\n- No prior allogeneic HSCT")
    assert compiled.criteria[1].rule.kind in ("not", "question")


def test_a_permission_is_not_read_as_a_requirement() -> None:
    # "Prior radiotherapy is allowed" must never compile to "must have had radiotherapy".
    compiled = compile_criteria("Inclusion Criteria:\n- Age ≥ 18 years\n- Prior radiotherapy is allowed\n"
                                "- Prior radiotherapy permitted if completed 4 weeks before")
    for criterion in compiled.criteria[1:]:
        assert not criterion.computable
    therapy = [leaf for c in compiled.criteria for leaf in leaves(c.rule) if leaf.kind == "therapy"]
    assert all(not c.computable for c in compiled.criteria if any(leaf in therapy for leaf in leaves(c.rule)))


def test_an_exception_the_compiler_cannot_read_keeps_the_exclusion_undecidable() -> None:
    compiled = compile_criteria("Exclusion Criteria:\n- Age > 75 years (with certain exceptions)")
    criterion = compiled.criteria[0]
    assert not criterion.computable
    assert isinstance(criterion.rule, AllOf)
    assert isinstance(criterion.rule.children[1], Not)


def test_conditional_performance_limits_apply_only_to_their_age_group() -> None:
    compiled = compile_criteria("Inclusion Criteria:\n- Karnofsky performance status ≥ 50% for participants ≥ 16 "
                                "years\n- Lansky performance status ≥ 50% for participants < 16 years")
    karnofsky, lansky = compiled.criteria
    assert describe(karnofsky.rule) == "not age ≥ 16 years or Karnofsky ≥ 50%"
    assert describe(lansky.rule) == "not age < 16 years or Lansky ≥ 50%"
    assert isinstance(karnofsky.rule, AnyOf) and karnofsky.computable
    # Asked as the criterion says it, so a child's "Yes" is right: the score is only asked of older patients.
    assert karnofsky.question.startswith("Are you younger than 16 years, or able to")
    assert karnofsky.question.endswith("(Karnofsky score 50% or more)?")
    assert lansky.question.startswith("Are you 16 years or older, or able to get dressed and join in quiet play")


def test_sex_words_restrict_only_when_they_name_the_population() -> None:
    compiled = compile_criteria("Inclusion Criteria:\n- Women aged 18-65 years, inclusive\n- Male or female\n"
                                "- Women of childbearing potential must agree to use contraception")
    women, anyone, contraception = compiled.criteria
    assert describe(women.rule) == "sex = female and (age ≥ 18 years and age ≤ 65 years)"
    assert anyone.computable and describe(anyone.rule) == "nothing to check (always met)"
    assert "sex" not in [leaf.kind for leaf in leaves(contraception.rule)]


def test_compiled_criteria_are_stored_on_import_and_recompiled_when_the_compiler_changes(demo_store_path) -> None:
    from trialmatch.store.sqlite import TrialStore

    with TrialStore(demo_store_path) as store:
        compiled = store.compiled("NCT06054113")
        assert compiled is not None and compiled.compiler_version == COMPILER_VERSION
        assert compiled == compile_criteria(store.get("NCT06054113").eligibility.criteria_text)
        # By a sponsor's number too.
        assert store.compiled("20190359") == compiled
        assert store.stale_compiled() == 0
        total = store.count()
    db = sqlite3.connect(demo_store_path)
    db.execute("UPDATE compiled_criteria SET compiler_version = '0'")
    db.commit()
    db.close()
    with TrialStore(demo_store_path) as store:
        assert store.stale_compiled() == total
        assert sum(1 for _ in store.recompile()) == total
        assert store.stale_compiled() == 0


def test_recompiling_in_worker_processes_stores_what_one_process_does(demo_store_path, tmp_path) -> None:
    from trialmatch.store.sqlite import TrialStore

    copy = tmp_path / "copy.db"
    source = sqlite3.connect(demo_store_path)
    source.backup(target := sqlite3.connect(copy))
    source.close()
    target.close()
    stored = "SELECT t.id, c.compiled FROM compiled_criteria c JOIN trials t ON t.rowid = c.rowid ORDER BY t.id"
    with TrialStore(copy) as store:
        serial_ids = list(store.recompile(everything=True, workers=1))
        serial = [tuple(row) for row in store.db.execute(stored)]
        store.db.execute("DELETE FROM compiled_criteria")
        store.db.commit()
        assert store.stale_compiled() == store.count()
        parallel_ids = list(store.recompile(workers=2))
        assert parallel_ids == serial_ids  # same order
        assert [tuple(row) for row in store.db.execute(stored)] == serial
        assert store.stale_compiled() == 0


def test_criteria_command_prints_every_item_with_its_source_text(demo_store_path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["criteria", "NCT06054113", "--db", str(demo_store_path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["trial_id"] == "NCT06054113"
    text = payload["criteria_text"]
    ids = [c["id"] for c in payload["criteria"]]
    assert ids[:2] == ["inc-1", "inc-2"] and "exc-22" in ids
    for criterion in payload["criteria"]:
        start, end = criterion["span"]
        assert " ".join(text[start:end].split()) == criterion["text"]
        assert criterion["question"]
    table = runner.invoke(app, ["criteria", "20190359", "--db", str(demo_store_path)])
    assert table.exit_code == 0 and "AlloHSCT" in table.output and "exc-22" in table.output


def test_criteria_command_explains_an_unknown_trial(demo_store_path) -> None:
    result = CliRunner().invoke(app, ["criteria", "NCT00000000", "--db", str(demo_store_path)])
    assert result.exit_code == 1
    assert "no trial with id" in result.output


@pytest.mark.parametrize("text", ["", "   ", "Inclusion Criteria:", "\n\n- \n- "])
def test_empty_criteria_compile_to_nothing(text: str) -> None:
    assert compile_criteria(text).criteria == ()
