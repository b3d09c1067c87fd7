"""The trialmatch command, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialmatch.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_import_reports_counts_and_is_idempotent(db: str, shared_dir: Path) -> None:
    first = run("import", str(shared_dir / "data/ctgov-legacy-xml"), "--db", db, "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["imported"] == 65
    again = run("import", str(shared_dir / "data/ctgov-legacy-xml"), "--db", db)
    assert again.exit_code == 0
    assert "0 imported, 0 updated, 65 unchanged, 0 skipped" in again.stdout


def test_import_lists_each_skip_with_its_reason(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    result = run("import", str(bad), "--db", db, "--json")
    assert result.exit_code == 1  # nothing at all could be imported
    report = json.loads(result.stdout)
    assert report["skipped"] == 1
    assert report["skipped_records"][0]["location"] == str(bad)
    assert "not valid JSON" in report["skipped_records"][0]["reason"]


def test_search_json_with_filters(db: str) -> None:
    result = run("search", "blinatumomab", "--age", "10", "--country", "China", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [r["id"] for r in found["results"]] == ["NCT06054113"]
    assert found["results"][0]["maximum_age"] == "204 Months"


def test_search_near_a_place_in_miles(db: str) -> None:
    result = run("search", "blinatumomab", "--near", "Wuhan", "--within", "60", "--unit", "mi", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    site = json.loads(result.stdout)["results"][0]["nearest_site"]
    assert site["city"] == "Wuhan" and site["distance_km"] < 30


def test_first_use_loads_the_demo_corpus(db: str) -> None:
    result = run("search", "ALL", "--db", db)
    assert result.exit_code == 0
    assert "loading the bundled demo corpus" in result.stderr


def test_show_a_trial(db: str) -> None:
    result = run("show", "NCT06054113", "--db", db)
    assert result.exit_code == 0
    for expected in ("Blinatumomab", "ACTIVE_NOT_RECRUITING".replace("_", " ").lower(), "Shanghai", "20190359"):
        assert expected in result.stdout
    as_json = json.loads(run("show", "20190359", "--db", db, "--json").stdout)  # by the sponsor's number
    assert as_json["id"] == "NCT06054113"


def test_unknown_id_and_empty_search_fail_clearly(db: str) -> None:
    missing = run("show", "NCT00000000", "--db", db)
    assert missing.exit_code == 1 and "no trial with id" in missing.stderr
    empty = run("search", "--db", db)
    assert empty.exit_code == 2 and "give words to search for" in empty.stderr
    nothing = run("search", "zzyzx quux", "--db", db)
    assert nothing.exit_code == 1 and "No trials match" in nothing.stderr
    place = run("search", "ALL", "--near", "Xanadu-upon-Thames", "--db", db)
    assert place.exit_code == 2 and "latitude" in place.stderr


def test_terminal_output_escapes_trial_text(db: str, tmp_path: Path) -> None:
    study = {
        "protocolSection": {
            "identificationModule": {
                "nctId": "NCT00000077",
                "briefTitle": "[bold red]Injected[/bold red] <script>alert(1)</script>",
            }
        }
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(study), encoding="utf-8")
    run("import", str(path), "--db", db)
    shown = run("show", "NCT00000077", "--db", db)
    assert "[bold red]Injected[/bold red]" in shown.stdout


def test_changes_after_a_newer_version(db: str, tmp_path: Path) -> None:
    def study(status: str, updated: str) -> str:
        path = tmp_path / f"{status}.json"
        path.write_text(
            json.dumps(
                {
                    "protocolSection": {
                        "identificationModule": {"nctId": "NCT00000088", "briefTitle": "Versioned"},
                        "statusModule": {"overallStatus": status, "lastUpdatePostDateStruct": {"date": updated}},
                    }
                }
            ),
            "utf-8",
        )
        return str(path)

    run("import", study("RECRUITING", "2025-01-01"), "--db", db)
    updated = run("import", study("COMPLETED", "2026-01-01"), "--db", db, "--json")
    assert json.loads(updated.stdout)["updated_fields"]["NCT00000088"] == ["overall_status", "last_update_posted"]
    changes = json.loads(run("changes", "NCT00000088", "--db", db, "--json").stdout)
    assert changes[0]["old_value"] == "RECRUITING" and changes[0]["new_value"] == "COMPLETED"
