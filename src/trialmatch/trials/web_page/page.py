"""A page as read: its sections, its fields and the text lines no section took."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trialmatch.trials.web_page.fields import Field
from trialmatch.trials.web_page.lines import Line


@dataclass
class Section:
    key: str
    heading: str
    no: int
    spec: dict[str, str] | None = None
    lines: list[Line] = field(default_factory=list)

    def content(self) -> list[Line]:
        return [line for line in self.lines if line.kind == "text"]


@dataclass
class Page:
    sections: list[Section]
    fields: list[Field]
    #: Text lines no section took: the header, what follows a value or list, bare values.
    loose: list[tuple[Line, str]]
    notice_lines: set[int] = field(default_factory=set)

    def of(self, *keys: str) -> list[Section]:
        return [s for s in self.sections if s.key in keys]

    def values(self, key: str) -> list[Field]:
        """Fields for key: labelled ones first, then bare values, each in page order."""
        found = [f for f in self.fields if f.key == key]
        return [f for f in found if f.label] + [f for f in found if not f.label]

    def value(self, key: str) -> Any:
        found = self.values(key)
        return found[0].value if found else None
