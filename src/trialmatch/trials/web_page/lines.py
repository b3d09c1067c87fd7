"""Page text as lines: cleaned of control and invisible characters, bullets noted, chrome told apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialmatch.trials.errors import RecordError
from trialmatch.trials.web_page.rules import Rules

MAX_LINES = 20_000  # non-blank lines; the seeds have under 200
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_BULLET = re.compile(r"^(?:[•●○◦▪▫■□‣∙·➢➤►▶✓✔*+\-–]|\\[-*+]|\d{1,3}[.)]|\(?[a-z]\)|\(\d{1,3}\))\s+")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
PROSE_END = re.compile(r"[.!?][\"'”’)\]]*$")


@dataclass
class Line:
    no: int
    text: str
    indent: int = 0
    bullet: bool = False
    kind: str = "text"  # blank | chrome | field | text


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _INVISIBLE.sub("", _SPACES.sub(" ", CONTROL.sub(" ", text)))


def read_lines(text: str, rules: Rules) -> list[Line]:
    lines: list[Line] = []
    blanks = filled = 0
    for no, raw in enumerate(text.split("\n")):
        blanks = 0 if raw.strip() else blanks + 1
        filled += not blanks
        if blanks > 2:  # a wider gap means nothing more than two blank lines do
            continue
        if filled > MAX_LINES:
            raise RecordError(f"the page has over {MAX_LINES:,} lines of text; too long for one trial")
        body = raw.lstrip()
        bullet = _BULLET.match(body)
        if bullet:
            body = body[bullet.end() :]
        body = " ".join(_MD_ESCAPE.sub(r"\1", body).split())
        if rules.inline_chrome and body:
            body = " ".join(rules.inline_chrome.sub("", body).split())
        lines.append(Line(no, body, len(raw) - len(raw.lstrip()), bool(bullet), "text" if body else "blank"))
    return lines


def is_chrome(text: str, rules: Rules) -> bool:
    return bool(rules.chrome_start.match(text) or (rules.chrome_any and rules.chrome_any.search(text)))


def is_prose(text: str) -> bool:
    return len(text.split()) >= 5 and bool(PROSE_END.search(text))
