"""The policy bundle: what it holds and how its revision moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.policy.bundle import DEFAULT_POLICY_DIR, PolicyBundleError, load_bundle


def test_bundle_holds_policies_without_tests_and_data_at_its_path() -> None:
    bundle = load_bundle()
    assert bundle.root == DEFAULT_POLICY_DIR
    assert "schakel/disclosure/disclosure.rego" in bundle.policies
    assert not any(path.endswith("_test.rego") for path in bundle.policies)
    assert "reintegration" in bundle.data["schakel"]["catalogue"]["purposes"]
    assert set(bundle.documents) == {"schakel/catalogue"}
    assert bundle.revision.startswith("sha256:")
    assert len(bundle.revision) == len("sha256:") + 64


def test_revision_is_stable_for_same_files(tmp_path: Path) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, copy)
    assert load_bundle(copy).revision == load_bundle().revision


def test_revision_changes_with_data_but_not_with_tests(tmp_path: Path) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, copy)
    before = load_bundle(copy).revision
    (copy / "schakel/disclosure/extra_test.rego").write_text("package x_test\n")
    assert load_bundle(copy).revision == before
    data = copy / "schakel/catalogue/data.json"
    data.write_text(data.read_text().replace("Re-integration advisor", "Advisor"))
    assert load_bundle(copy).revision != before


def test_malformed_data_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.rego").write_text("package p\n")
    (tmp_path / "x").mkdir()
    (tmp_path / "x/data.json").write_text("{not json")
    with pytest.raises(PolicyBundleError, match="not JSON"):
        load_bundle(tmp_path)


def test_directory_without_policies_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyBundleError, match="no policies"):
        load_bundle(tmp_path)
