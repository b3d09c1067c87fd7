"""The store: idempotent imports, versioned updates with recorded changes, lookups by any id."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from trialmatch.importing import import_paths
from trialmatch.store.sqlite import ImportOutcome, TrialStore, site_location


@pytest.fixture(scope="module")
def pallas_study(shared_dir: Path) -> dict:
    return json.loads((shared_dir / "data/ctgov-api-v2/NCT02513394.json").read_text(encoding="utf-8"))


def write_study(path: Path, study: dict) -> Path:
    path.write_text(json.dumps(study), encoding="utf-8")
    return path


def newer_version(study: dict) -> dict:
    changed = copy.deepcopy(study)
    protocol = changed["protocolSection"]
    protocol["statusModule"]["overallStatus"] = "COMPLETED"
    protocol["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2031-01-15"
    protocol["statusModule"]["completionDateStruct"]["date"] = "2031-01-01"
    protocol["eligibilityModule"]["eligibilityCriteria"] += "\n* Able to swallow tablets"
    protocol["contactsLocationsModule"]["locations"] = protocol["contactsLocationsModule"]["locations"][:3]
    return changed


def test_importing_the_same_record_twice_changes_nothing(store: TrialStore, shared_dir: Path) -> None:
    path = shared_dir / "data/ctgov-api-v2/NCT02513394.json"
    first = import_paths(store, [path])
    snapshot = "SELECT r.record, t.imported_at FROM trials t JOIN trial_records r ON r.rowid = t.rowid"
    before = store.db.execute(snapshot).fetchall()
    second = import_paths(store, [path])
    assert first.counts["imported"] == 1
    assert second.counts == {"unchanged": 1}
    assert [tuple(r) for r in store.db.execute(snapshot)] == [tuple(r) for r in before]
    assert store.changes() == []


def test_a_newer_version_replaces_the_old_and_records_what_changed(
    store: TrialStore, tmp_path: Path, pallas_study: dict
) -> None:
    import_paths(store, [write_study(tmp_path / "v1.json", pallas_study)])
    report = import_paths(store, [write_study(tmp_path / "v2.json", newer_version(pallas_study))])

    assert report.counts == {"updated": 1}
    assert set(report.updated["NCT02513394"]) >= {
        "overall_status",
        "criteria",
        "sites",
        "completion_date",
        "last_update_posted",
    }
    trial = store.get("NCT02513394")
    assert trial is not None and trial.overall_status == "COMPLETED"
    assert len(trial.sites) == 3
    assert store.db.execute("SELECT count(*) FROM sites").fetchone()[0] == 3
    status_change = next(c for c in store.changes("NCT02513394") if c.field == "overall_status")
    assert (status_change.old_value, status_change.new_value) == ("ACTIVE_NOT_RECRUITING", "COMPLETED")
    assert status_change.source_location.endswith("v2.json")


def test_an_older_version_does_not_replace_a_newer_one(store: TrialStore, tmp_path: Path, pallas_study: dict) -> None:
    import_paths(store, [write_study(tmp_path / "v2.json", newer_version(pallas_study))])
    report = import_paths(store, [write_study(tmp_path / "v1.json", pallas_study)])
    assert report.counts == {"skipped": 1}
    assert "older than the stored version" in report.skipped[0].reason
    assert store.get("NCT02513394").overall_status == "COMPLETED"


def test_trials_are_found_by_any_of_their_ids(store: TrialStore, shared_dir: Path) -> None:
    import_paths(store, [shared_dir / "data/ctgov-legacy-xml/NCT05380414.xml"])
    assert store.get("NCT05380414").id == "NCT05380414"
    assert store.get("nct05380414").id == "NCT05380414"
    assert store.get("ET21-399 GENOPANC").id == "NCT05380414"  # the sponsor's protocol number
    assert store.get("NCT99999999") is None


def test_sites_without_coordinates_are_placed_from_the_gazetteer(store: TrialStore, shared_dir: Path) -> None:
    import_paths(store, [shared_dir / "data/ctgov-legacy-xml/NCT05380414.xml"])
    site = store.get("NCT05380414").sites[0]
    assert site.city == "Lyon" and site.geo is None  # the record stays as the source gave it
    located = site_location(site)
    assert located is not None and located.approximate
    assert located.lat == pytest.approx(45.75, abs=0.05)
    indexed = store.db.execute("SELECT lat, lon FROM sites WHERE city = 'Lyon'").fetchone()
    assert (indexed["lat"], indexed["lon"]) == (located.lat, located.lon)


def test_store_location_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALMATCH_DB", str(tmp_path / "elsewhere.db"))
    with TrialStore() as store:
        assert store.path == tmp_path / "elsewhere.db"
    assert (tmp_path / "elsewhere.db").exists()


def test_every_indexed_row_belongs_to_a_trial(store: TrialStore, shared_dir: Path) -> None:
    import_paths(store, [shared_dir / "data/ctgov-legacy-xml"])
    trials = store.count()
    assert trials == 65
    assert store.db.execute("SELECT count(*) FROM trials_fts").fetchone()[0] == trials
    orphans = store.db.execute("SELECT count(*) FROM sites WHERE trial_rowid NOT IN (SELECT rowid FROM trials)")
    assert orphans.fetchone()[0] == 0


def test_save_outcomes_are_reported(store: TrialStore, shared_dir: Path) -> None:
    results = list(store.save_many(t for t in []))
    assert results == []
    report = import_paths(store, [shared_dir / "data/ctgov-legacy-xml/NCT05380414.xml"])
    assert report.counts[ImportOutcome.IMPORTED.value] == 1


def test_parallel_import_gives_the_same_store_as_serial(tmp_path: Path, shared_dir: Path) -> None:
    archive = tmp_path / "xml.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted((shared_dir / "data/ctgov-legacy-xml").glob("*.xml")):
            out.write(path, path.name)
        out.writestr("broken.xml", "<clinical_study><id_info>")
    contents = []
    for workers in (1, 2):
        with TrialStore(tmp_path / f"w{workers}.db") as store:
            report = import_paths(store, [archive], workers=workers)
            assert report.counts == {"imported": 65, "skipped": 1}
            assert report.skipped[0].location.endswith("!broken.xml")
            rows = store.db.execute("SELECT id, content_hash FROM trials ORDER BY id").fetchall()
            contents.append([tuple(row) for row in rows])
    assert contents[0] == contents[1]


def test_save_one_trial_from_the_library(store: TrialStore, shared_dir: Path) -> None:
    from trialmatch.trials.ctgov_xml import trial_from_xml

    path = shared_dir / "data/ctgov-legacy-xml/NCT05380414.xml"
    trial = trial_from_xml(path.read_bytes(), str(path))
    assert store.save(trial).outcome is ImportOutcome.IMPORTED
    assert store.save(trial).outcome is ImportOutcome.UNCHANGED
    assert store.get(trial.id) == trial
