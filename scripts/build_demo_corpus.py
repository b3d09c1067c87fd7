"""Rebuild src/trialmatch/data/demo-corpus.zip from ../shared.

The product must run without ../shared, so the demo corpus is copied into the package:
the five seed pages, the 65 legacy XML records, the CT.gov v2 record, and the leukaemia and
lymphoma trials of hint-trials.jsonl as a site list.

    python scripts/build_demo_corpus.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("leukemia", "leukaemia", "lymphoma")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ROOT / "src/trialmatch/data/demo-corpus.zip")
    args = parser.parse_args()
    shared: Path = args.shared
    with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for seed in sorted((shared / "seeds").glob("*.txt")):
            archive.write(seed, f"pages/{seed.name}")
        for record in sorted((shared / "data/ctgov-legacy-xml").glob("*.xml")):
            archive.write(record, f"ctgov-xml/{record.name}")
        for record in sorted((shared / "data/ctgov-api-v2").glob("NCT*.json")):
            archive.write(record, f"ctgov-v2/{record.name}")
        rows = []
        with (shared / "data/criteria-corpus/hint-trials.jsonl").open(encoding="utf-8") as corpus:
            for line in corpus:
                row = json.loads(line)
                if any(topic in " ".join(row.get("conditions") or []).lower() for topic in TOPICS):
                    rows.append(line if line.endswith("\n") else line + "\n")
        archive.writestr("site-lists/hint-leukaemia-lymphoma.jsonl", "".join(rows))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(rows)} site-list rows)")


if __name__ == "__main__":
    main()
