"""Read trial records from files, folders and zips, whatever their format.

``read_sources`` walks the paths it is given and yields a ``Trial`` for every record it can
read and a ``Skipped`` for everything it can't, with where and why, so one bad file never
stops a bulk import. Formats are detected from content, not trusted from file names:

- ClinicalTrials.gov API v2 JSON: one study, a page ``{"studies": [...]}``, a list, or JSON Lines;
- legacy ClinicalTrials.gov XML (``<clinical_study>``);
- site trial lists: CSV/TSV, or JSON Lines rows that are not CT.gov studies;
- free-text trial pages: HTML or plain text.

Everything streams: a zip is read member by member, JSON Lines and CSV row by row, and a
large JSON page item by item, so memory stays flat whatever the input size.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import ijson
import orjson

from trialmatch.trials.ctgov_json import trial_from_study
from trialmatch.trials.ctgov_xml import trial_from_xml
from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import Trial
from trialmatch.trials.site_list import DEFAULT_MAPPING, trial_from_row
from trialmatch.trials.web_page import trial_from_page

#: Largest document read whole (XML record, JSON study, web page). Bigger ones are refused.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
_SNIFF_BYTES = 8192
_ZIP_MAGIC = b"PK\x03\x04"
_XML_ENCODING = re.compile(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9_.-]+)")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


@dataclass(frozen=True)
class Skipped:
    """Something that could not be imported, and why."""

    location: str
    reason: str


ImportItem = Trial | Skipped


@dataclass(frozen=True)
class PendingRecord:
    """A record read from its source but not yet converted.

    Reading is cheap and must stay in order; converting is the costly part. Keeping them
    apart lets an import convert records in other processes (the payload pickles).
    """

    #: json | json_line | object | row | xml | page
    kind: str
    location: str
    payload: object
    options: tuple[object, ...] = ()


Pending = PendingRecord | Skipped


@dataclass(frozen=True)
class ZipMember:
    """A document inside a zip, to be read by whichever process converts it."""

    archive: str
    name: str

    def read(self) -> bytes:
        try:
            with _open_archive(self.archive).open(self.name) as member:
                return _read_all(member, f"{self.archive}!{self.name}")
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
            raise RecordError(f"damaged zip member ({error}); is the download complete?") from None


@lru_cache(maxsize=4)
def _open_archive(path: str) -> zipfile.ZipFile:
    # Kept open per process: a bulk zip holds one record per member.
    return zipfile.ZipFile(path)


def _document_bytes(pending: PendingRecord) -> bytes:
    payload = pending.payload
    if isinstance(payload, ZipMember):
        return payload.read()
    assert isinstance(payload, bytes)
    return payload


def read_sources(paths: Iterable[str | Path], *, site_list_mapping: object | None = None) -> Iterator[ImportItem]:
    """Every trial record in ``paths`` (files, folders, zips), in a stable order."""
    for item in read_pending(paths, site_list_mapping=site_list_mapping):
        yield item if isinstance(item, Skipped) else convert(item)


def read_pending(paths: Iterable[str | Path], *, site_list_mapping: object | None = None) -> Iterator[Pending]:
    """Every record in ``paths``, read and located but not yet converted."""
    for path in paths:
        yield from _read_path(Path(path), site_list_mapping)


def convert(pending: PendingRecord) -> ImportItem:
    """Turn one pending record into a Trial, or a Skipped that says why not."""
    return next(_guarded(pending.location, lambda: _CONVERTERS[pending.kind](pending)))


def list_input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``read_sources`` will open, for progress reporting."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        else:
            files.append(path)
    return files


def _read_path(path: Path, mapping: object | None) -> Iterator[Pending]:
    if path.is_dir():
        for file in list_input_files([path]):
            yield from _read_file(file, mapping)
    elif path.exists():
        yield from _read_file(path, mapping)
    else:
        yield Skipped(str(path), "no such file or folder")


def _read_file(path: Path, mapping: object | None) -> Iterator[Pending]:
    try:
        with path.open("rb") as stream:
            if zipfile.is_zipfile(stream):
                stream.seek(0)
                yield from _read_zip(stream, str(path), mapping)
            elif stream.seek(0) == 0 and stream.read(4) == _ZIP_MAGIC:
                yield Skipped(str(path), "a damaged or truncated zip archive; download it again")
            else:
                stream.seek(0)
                yield from _read_stream(stream, str(path), path.suffix.lower(), mapping)
    except OSError as error:
        yield Skipped(str(path), f"cannot read the file: {error.strerror or error}")


def _read_zip(stream: BinaryIO, location: str, mapping: object | None) -> Iterator[Pending]:
    try:
        archive = zipfile.ZipFile(stream)
        members = [m for m in archive.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        yield Skipped(location, f"not a readable zip archive ({error}); is the download complete?")
        return
    for member in sorted(members, key=lambda m: m.filename):
        member_location = f"{location}!{member.filename}"
        try:
            with archive.open(member) as member_stream:
                # Whole documents in a zip are read again by whoever converts them, so the
                # reading process only sniffs each member's first bytes.
                deferred = ZipMember(location, member.filename)
                suffix = Path(member.filename).suffix.lower()
                yield from _read_stream(member_stream, member_location, suffix, mapping, deferred)
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as error:
            # A truncated archive fails member by member; report each and carry on.
            yield Skipped(member_location, f"damaged zip member ({error}); is the download complete?")


def _read_stream(
    stream: BinaryIO, location: str, suffix: str, mapping: object | None, member: ZipMember | None = None
) -> Iterator[Pending]:
    head = stream.read(_SNIFF_BYTES)
    if not head.strip():
        yield Skipped(location, "empty file")
        return
    encoding = _detect_encoding(head)
    if encoding is None:
        yield Skipped(location, "binary data, not a trial record (expected JSON, XML, CSV, HTML or text)")
        return
    stream = _rewound(head, stream)
    text_head = head.decode(encoding, errors="replace").lstrip("\ufeff").lstrip()
    if suffix in {".jsonl", ".ndjson"} or (text_head.startswith("{") and _looks_like_json_lines(text_head, suffix)):
        yield from _read_json_lines(stream, location, encoding, mapping)
    elif text_head.startswith(("{", "[")):
        yield from _read_json_document(stream, location, encoding, mapping, member)
    elif text_head.startswith("<") and "<clinical_study" in text_head:
        yield from _pending("xml", location, lambda: _read_all(stream, location), encoding, deferred=member)
    elif suffix in {".csv", ".tsv"}:
        yield from _read_csv(stream, location, encoding, "\t" if suffix == ".tsv" else ",", mapping)
    else:
        html = text_head.startswith("<") or suffix in {".html", ".htm"}
        yield from _pending("page", location, lambda: _read_all(stream, location), encoding, html, deferred=member)


# --- formats -------------------------------------------------------------------------------


def _read_json_lines(stream: BinaryIO, location: str, encoding: str, mapping: object | None) -> Iterator[Pending]:
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    for number, line in enumerate(text, start=1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        row_location = f"{location}:{number}"
        if len(line) > MAX_DOCUMENT_BYTES:
            yield Skipped(row_location, f"line {number} is {len(line):,} characters, over the size limit")
            continue
        yield PendingRecord("json_line", row_location, line, (number, mapping))


def _read_json_document(
    stream: BinaryIO, location: str, encoding: str, mapping: object | None, member: ZipMember | None = None
) -> Iterator[Pending]:
    if encoding not in {"utf-8", "utf-8-sig"}:
        member = None  # transcoded here, so not re-read from the zip
        try:
            data = _read_all(stream, location).decode(encoding, errors="replace").encode("utf-8")
        except RecordError as error:
            yield Skipped(location, str(error))
            return
        stream = io.BytesIO(data)
    # Stream a page or list item by item; a single study is one small object.
    head = stream.read(_SNIFF_BYTES)
    stream = _rewound(head, stream)
    studies_at, protocol_at = head.find(b'"studies"'), head.find(b'"protocolSection"')
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        prefix: str | None = "item"
    elif studies_at != -1 and (protocol_at == -1 or studies_at < protocol_at):
        prefix = "studies.item"
    else:
        prefix = None
    if prefix is None:
        yield from _pending("json", location, lambda: _read_all(stream, location), mapping, deferred=member)
        return
    count = 0
    try:
        for count, item in enumerate(ijson.items(stream, prefix, use_float=True), start=1):
            item_location = f"{location}#{prefix.split('.')[0]}[{count - 1}]"
            yield PendingRecord("object", item_location, item, (mapping,))
    except ijson.JSONError as error:
        yield Skipped(location, f"not valid JSON after {count} record(s): {error}")
        return
    if count == 0:
        yield Skipped(location, 'JSON holds no studies (expected a study, a list, or {"studies": [...]})')


def _read_csv(
    stream: BinaryIO, location: str, encoding: str, delimiter: str, mapping: object | None
) -> Iterator[Pending]:
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    csv.field_size_limit(MAX_DOCUMENT_BYTES)
    try:
        reader = csv.DictReader(text, delimiter=delimiter)
        for number, row in enumerate(reader, start=2):
            row_location = f"{location}:{number}"
            clean = {k.strip().lstrip("\ufeff"): v for k, v in row.items() if k}
            yield PendingRecord("row", row_location, clean, (mapping,))
    except csv.Error as error:
        yield Skipped(location, f"not readable as CSV: {error}")


def _pending(
    kind: str, location: str, read: Callable[[], bytes], *options: object, deferred: ZipMember | None = None
) -> Iterator[Pending]:
    if deferred is not None:
        yield PendingRecord(kind, location, deferred, options)
        return
    try:
        data = read()
    except RecordError as error:
        yield Skipped(location, str(error))
        return
    yield PendingRecord(kind, location, data, options)


def _convert_json(pending: PendingRecord) -> Trial:
    try:
        document = orjson.loads(_document_bytes(pending).decode("utf-8-sig", errors="replace"))
    except json.JSONDecodeError as error:
        raise RecordError(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    return _trial_from_object(document, pending.location, pending.options[0])


def _convert_json_line(pending: PendingRecord) -> Trial:
    number, mapping = pending.options
    try:
        row = orjson.loads(str(pending.payload))
    except json.JSONDecodeError as error:
        raise RecordError(f"line {number} is not valid JSON: {error.msg} at column {error.colno}") from None
    return _trial_from_object(row, pending.location, mapping)


def _convert_object(pending: PendingRecord) -> Trial:
    return _trial_from_object(pending.payload, pending.location, pending.options[0])


def _convert_row(pending: PendingRecord) -> Trial:
    return _site_list_trial(pending.payload, pending.location, pending.options[0])  # type: ignore[arg-type]


def _convert_xml(pending: PendingRecord) -> Trial:
    return _xml_trial(_document_bytes(pending), str(pending.options[0]), pending.location)


def _convert_page(pending: PendingRecord) -> Trial:
    encoding, html = pending.options
    return _page_trial(_document_bytes(pending), str(encoding), pending.location, bool(html))


_CONVERTERS: dict[str, Callable[[PendingRecord], Trial]] = {
    "json": _convert_json,
    "json_line": _convert_json_line,
    "object": _convert_object,
    "row": _convert_row,
    "xml": _convert_xml,
    "page": _convert_page,
}


def _trial_from_object(obj: object, location: str, mapping: object | None) -> Trial:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object for a trial, found {type(obj).__name__}")
    if "protocolSection" in obj:
        return trial_from_study(obj, location)
    if "studies" in obj:
        raise RecordError("a nested page of studies; import each page as its own file")
    return _site_list_trial(obj, location, mapping)


def _site_list_trial(row: Mapping[str, object], location: str, mapping: object | None) -> Trial:
    return trial_from_row(row, location, mapping or DEFAULT_MAPPING)  # type: ignore[arg-type]


def _xml_trial(data: bytes, encoding: str, location: str) -> Trial:
    declared = _XML_ENCODING.search(data[:200])
    if encoding == "cp1252" and not (declared and declared.group(1).lower() not in {b"utf-8", b"utf8"}):
        # Not UTF-8 and not declared otherwise: a mislabelled Windows file. Re-encode it.
        text = _XML_DECLARATION.sub("", data.decode("cp1252", errors="replace"), count=1)
        data = text.encode("utf-8")
    return trial_from_xml(data, location)


def _page_trial(data: bytes, encoding: str, location: str, html: bool) -> Trial:
    return trial_from_page(data.decode(encoding, errors="replace").lstrip("\ufeff"), location, html=html)


# --- safety --------------------------------------------------------------------------------


def _guarded(location: str, make: Callable[[], Trial]) -> Iterator[ImportItem]:
    """Run one conversion; turn any failure into a Skipped that says why."""
    try:
        trial = make()
    except RecordError as error:
        yield Skipped(location, str(error))
        return
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        # A converter bug or a shape nobody foresaw must cost one record, not the import.
        yield Skipped(location, f"unreadable record ({type(error).__name__}: {error})"[:500])
        return
    yield trial


def _read_all(stream: BinaryIO, location: str) -> bytes:
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise RecordError(f"document is over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; too large for one trial")
    return data


def _detect_encoding(head: bytes) -> str | None:
    """The text encoding of a file from its first bytes, or None for binary data."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:
            return "utf-8"  # a multi-byte character cut by the sniff window
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    if control > len(head) // 100:
        return None
    return "cp1252"


def _looks_like_json_lines(text_head: str, suffix: str) -> bool:
    """One JSON object per line, as opposed to one (possibly pretty-printed) JSON document."""
    first, newline, rest = text_head.partition("\n")
    if not newline:
        # A first line longer than the sniff window: in a .json file, one compact document (CT.gov's bulk
        # download); otherwise a compact study per line, unless it is a page of studies, streamed as a document.
        if suffix == ".json":
            return False
        studies_at, protocol_at = first.find('"studies"'), first.find('"protocolSection"')
        return not (studies_at != -1 and (protocol_at == -1 or studies_at < protocol_at))
    if not rest.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _rewound(head: bytes, rest: BinaryIO) -> io.BufferedReader:
    return io.BufferedReader(_Rewound(head, rest), buffer_size=1 << 16)


class _Rewound(io.RawIOBase):
    """A stream that replays the bytes already sniffed, then continues the original."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
