"""Fixtures of the monitoring tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """For the tests that seed hundreds of people or spend a whole budget: once, on SQLite
    (the release path itself runs on both databases in test_release_api)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'schakel.db'}",
        public_url="http://testserver",
    )
