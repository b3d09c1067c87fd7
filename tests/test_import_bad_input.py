"""Bad input costs only itself: a clear reason per skip, the rest imported, nothing half-written."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from trialmatch.importing import import_paths
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.sources import Skipped, read_sources


def minimal_study(nct_id: str, **eligibility: object) -> dict:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"A study {nct_id}"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Age ≥ 18", **eligibility},
        }
    }


@pytest.fixture
def good_xml(shared_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(shared_dir / "data/ctgov-legacy-xml/NCT05380414.xml", tmp_path / "good.xml"))


def reasons(store: TrialStore, paths: list[Path]) -> dict[str, str]:
    report = import_paths(store, paths)
    return {Path(s.location.split("!")[0].split(":")[0]).name: s.reason for s in report.skipped}


def test_each_bad_file_is_skipped_with_its_reason_and_the_good_one_imported(
    store: TrialStore, tmp_path: Path, good_xml: Path, shared_dir: Path
) -> None:
    (tmp_path / "broken.json").write_text('{"protocolSection": {"identificationModule": {"nctId": "NCT0', "utf-8")
    (tmp_path / "broken.xml").write_text("<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>", "utf-8")
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 64)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("NCT00000001.json", json.dumps(minimal_study("NCT00000001")) * 50)
    (tmp_path / "truncated.zip").write_bytes(zipped.getvalue()[: len(zipped.getvalue()) // 2])

    found = reasons(store, sorted(tmp_path.iterdir()))

    assert "not valid JSON" in found["broken.json"]
    assert "XML" in found["broken.xml"] or "xml" in found["broken.xml"]
    assert found["empty.json"] == "empty file"
    assert "binary" in found["junk.bin"]
    assert "zip" in found["truncated.zip"]
    assert store.get("NCT05380414") is not None
    assert store.count() == 1


def test_a_fifty_megabyte_field_is_refused_without_stopping_the_import(store: TrialStore, tmp_path: Path) -> None:
    huge = minimal_study("NCT00000002")
    huge["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = "x" * (50 * 1024 * 1024)
    lines = [minimal_study("NCT00000001"), huge, minimal_study("NCT00000003")]
    path = tmp_path / "studies.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in lines), encoding="utf-8")

    report = import_paths(store, [path])

    assert report.counts == {"imported": 2, "skipped": 1}
    assert report.skipped[0].location.endswith(":2")
    assert "over the" in report.skipped[0].reason
    assert store.get("NCT00000002") is None


def test_a_wrong_encoding_is_read_not_crashed_on(store: TrialStore, tmp_path: Path, good_xml: Path) -> None:
    text = good_xml.read_text("utf-8").replace("Centre Léon Bérard", "Centre Léon Bérard – Lyon")
    latin = tmp_path / "latin.xml"
    latin.write_bytes(text.replace('<?xml version="1.0" encoding="UTF-8"?>', "").encode("cp1252"))
    report = import_paths(store, [latin])
    assert report.counts == {"imported": 1}, report.as_dict()
    assert "Léon" in store.get("NCT05380414").sites[0].facility


def test_a_bad_line_in_json_lines_names_its_line(store: TrialStore, tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        json.dumps(minimal_study("NCT00000001")) + "\n{not json\n" + json.dumps(minimal_study("NCT00000003")) + "\n",
        encoding="utf-8",
    )
    report = import_paths(store, [path])
    assert report.counts == {"imported": 2, "skipped": 1}
    assert report.skipped[0].location == f"{path}:2"
    assert "line 2 is not valid JSON" in report.skipped[0].reason


def test_a_missing_path_is_reported(store: TrialStore, tmp_path: Path) -> None:
    report = import_paths(store, [tmp_path / "nowhere.json"])
    assert report.skipped[0].reason == "no such file or folder"


def test_hostile_html_in_trial_text_is_stored_as_text(store: TrialStore, tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> [bold red]markup[/bold red]'
    study = minimal_study("NCT00000009")
    study["protocolSection"]["identificationModule"]["briefTitle"] = hostile
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(study), encoding="utf-8")
    import_paths(store, [path])
    assert store.get("NCT00000009").brief_title == hostile


def test_page_of_studies_list_zip_and_json_lines_are_all_detected(tmp_path: Path) -> None:
    studies = [minimal_study(f"NCT0000001{i}", minimumAge="6 Months") for i in range(3)]
    (tmp_path / "page.json").write_text(json.dumps({"studies": studies, "nextPageToken": "abc"}), "utf-8")
    (tmp_path / "list.json").write_text(json.dumps(studies), "utf-8")
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(s) for s in studies), "utf-8")
    with zipfile.ZipFile(tmp_path / "bulk.zip", "w") as archive:
        for study in studies:
            archive.writestr(
                f"ctg-studies/{study['protocolSection']['identificationModule']['nctId']}.json", json.dumps(study)
            )
    for name in ("page.json", "list.json", "rows.jsonl", "bulk.zip"):
        items = list(read_sources([tmp_path / name]))
        assert not [i for i in items if isinstance(i, Skipped)], name
        assert [i.id for i in items] == ["NCT00000010", "NCT00000011", "NCT00000012"], name
        assert all(str(i.eligibility.minimum_age) == "6 Months" for i in items)


def test_bulk_zip_of_real_xml_records(tmp_path: Path, shared_dir: Path) -> None:
    with zipfile.ZipFile(tmp_path / "xml.zip", "w") as archive:
        for path in sorted((shared_dir / "data/ctgov-legacy-xml").glob("*.xml")):
            archive.write(path, path.name)
    items = list(read_sources([tmp_path / "xml.zip"]))
    assert len(items) == 65
    assert all(not isinstance(i, Skipped) for i in items)
    assert items[0].provenance.location.endswith("xml.zip!NCT00055081.xml")


def test_json_lines_with_long_lines_are_detected_without_a_jsonl_extension(tmp_path: Path) -> None:
    studies = [minimal_study(f"NCT0000002{i}") for i in range(3)]
    for study in studies:  # real CT.gov study lines are far longer than the sniffing window
        study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] += "\n* criterion" * 3000
    (tmp_path / "export.data").write_text("\n".join(json.dumps(s) for s in studies), "utf-8")
    (tmp_path / "one-line-page.json").write_text(json.dumps({"studies": studies}), "utf-8")
    (tmp_path / "one-study.json").write_text(json.dumps(studies[0]), "utf-8")
    for name, expected in (("export.data", 3), ("one-line-page.json", 3), ("one-study.json", 1)):
        items = list(read_sources([tmp_path / name]))
        assert [type(i).__name__ for i in items] == ["Trial"] * expected, (name, items[:1])
