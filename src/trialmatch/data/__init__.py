"""Bundled data: vocabulary, criteria wording, page knowledge and the demo corpus."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def read_yaml(relative_path: str) -> Any:
    """A bundled data file (``criteria/compose.yaml``, ``statuses.yaml`` …), parsed."""
    text = resources.files("trialmatch.data").joinpath(relative_path).read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
