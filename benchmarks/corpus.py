"""Build large benchmark inputs by replicating the real records in ../shared under new ids.

- v2: the real ClinicalTrials.gov API v2 record NCT02513394, without its results section, without
  `locations_nested` (a copy of the sites outside the API schema, added by the project it came
  from) and with its first 20 of 437 sites (nearer a typical record's size), copied under new NCT
  ids into a zip of per-study JSON files, as CT.gov's bulk download is laid out.
- xml: the 65 real legacy XML records, round-robin under new NCT ids, in a zip.
- store: a trial store filled from the xml zip, for search benchmarks.
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "benchmarks" / "out"
_NCT = re.compile(r"NCT\d{8}")


def new_id(index: int) -> str:
    return f"NCT9{index:07d}"


def v2_zip(records: int) -> Path:
    path = OUT / f"ctgov-v2-{records}.zip"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    study = json.loads((SHARED / "data/ctgov-api-v2/NCT02513394.json").read_text("utf-8"))
    study.pop("resultsSection", None)
    study.pop("documentSection", None)
    contacts_locations = study["protocolSection"]["contactsLocationsModule"]
    contacts_locations.pop("locations_nested", None)
    contacts_locations["locations"] = contacts_locations["locations"][:20]
    statuses = ["RECRUITING", "COMPLETED", "ACTIVE_NOT_RECRUITING", "NOT_YET_RECRUITING", "TERMINATED"]
    with zipfile.ZipFile(path.with_suffix(".tmp"), "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for index in range(records):
            copy_ = copy.deepcopy(study)
            protocol = copy_["protocolSection"]
            protocol["identificationModule"]["nctId"] = new_id(index)
            protocol["identificationModule"]["orgStudyIdInfo"]["id"] = f"BENCH-{index}"
            protocol["statusModule"]["overallStatus"] = statuses[index % len(statuses)]
            out.writestr(f"ctg-studies/{new_id(index)}.json", json.dumps(copy_))
    path.with_suffix(".tmp").rename(path)
    return path


def xml_zip(records: int) -> Path:
    path = OUT / f"ctgov-xml-{records}.zip"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    sources = [p.read_text("utf-8") for p in sorted((SHARED / "data/ctgov-legacy-xml").glob("*.xml"))]
    with zipfile.ZipFile(path.with_suffix(".tmp"), "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for index in range(records):
            text = sources[index % len(sources)]
            original = _NCT.search(text)
            assert original is not None
            out.writestr(f"{new_id(index)}.xml", text.replace(original.group(0), new_id(index)))
    path.with_suffix(".tmp").rename(path)
    return path
