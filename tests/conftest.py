"""Shared fixtures: the reference data in ../shared and fresh trial stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trialmatch.importing import load_demo
from trialmatch.store.sqlite import TrialStore

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared reference data is missing: expected it at {SHARED}")
    return SHARED


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TrialStore]:
    with TrialStore(tmp_path / "trials.db") as trial_store:
        yield trial_store


@pytest.fixture(scope="session")
def demo_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the bundled demo corpus, built once per test session."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with TrialStore(path) as trial_store:
        report = load_demo(trial_store)
    assert report.counts["imported"] > 350, report.as_dict()
    return path


@pytest.fixture
def demo_store(demo_store_path: Path) -> Iterator[TrialStore]:
    with TrialStore(demo_store_path) as trial_store:
        yield trial_store
