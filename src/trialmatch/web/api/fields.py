"""Reading the query and body fields several routes share."""

from __future__ import annotations

from collections.abc import Iterable


def status_list(values: Iterable[str] | None, default: list[str]) -> list[str]:
    """Trial statuses as given (repeated or comma-separated); ``any`` means no status filter (an empty list)."""
    statuses = [part.strip() for value in values or () for part in value.split(",") if part.strip()]
    if any(status.lower() == "any" for status in statuses):
        return []
    return statuses or list(default)
