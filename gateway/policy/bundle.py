"""The policy bundle: Rego modules and data documents laid out as an OPA bundle directory.

A ``data.json`` sits at the data path its directory names (``schakel/catalogue/data.json`` is
``data.schakel.catalogue``), as ``opa run --bundle`` and ``opa test`` read it. The revision is a
digest of every policy and data file, so a decision can name the exact rules that produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
DATA_FILE = "data.json"


class PolicyBundleError(Exception):
    """The policy directory cannot be read as a bundle; ``path`` names the file when one is at fault."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class PolicyBundle:
    """Policies (relative path -> Rego text), merged data, and the revision digest."""

    root: Path
    policies: Mapping[str, str]
    data: Mapping[str, Any]
    documents: Mapping[str, Any]
    revision: str


def load_bundle(root: Path | None = None) -> PolicyBundle:
    """Read every ``*.rego`` (tests excluded) and every ``data.json`` below ``root``."""
    root = (root or DEFAULT_POLICY_DIR).resolve()
    if not root.is_dir():
        raise PolicyBundleError(f"policy directory not found: {root}")
    files = sorted(
        (path.relative_to(root).as_posix(), path)
        for path in root.rglob("*")
        if path.is_file() and _belongs_to_bundle(path)
    )
    digest = hashlib.sha256()
    policies: dict[str, str] = {}
    documents: dict[str, Any] = {}
    for relative, path in files:
        content = path.read_bytes()
        digest.update(_listing_entry(relative, content))
        if path.name == DATA_FILE:
            documents[Path(relative).parent.as_posix()] = _parse_data(relative, content)
        else:
            policies[relative] = _decode_policy(relative, content)
    if not policies:
        raise PolicyBundleError(f"no policies in {root}")
    return PolicyBundle(
        root=root,
        policies=policies,
        data=_merge_documents(documents),
        documents=documents,
        revision="sha256:" + digest.hexdigest(),
    )


def _belongs_to_bundle(path: Path) -> bool:
    if path.name == DATA_FILE:
        return True
    return path.suffix == ".rego" and not path.name.endswith("_test.rego")


def _listing_entry(relative: str, content: bytes) -> bytes:
    # Path and length are framed, so no two different listings can hash the same bytes.
    name = relative.encode("utf-8")
    return b"%d:%s%d:%s" % (len(name), name, len(content), content)


def _decode_policy(relative: str, content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyBundleError(f"{relative}: not UTF-8: {exc}", path=relative) from exc


def _parse_data(relative: str, content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:
        raise PolicyBundleError(f"{relative}: not JSON: {exc}", path=relative) from exc


def _merge_documents(documents: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for directory, document in sorted(documents.items()):
        parts = [] if directory == "." else directory.split("/")
        if not parts:
            if not isinstance(document, dict):
                raise PolicyBundleError("the root data.json must hold an object")
            _merge_into(merged, document, directory)
            continue
        node = merged
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise PolicyBundleError(f"{directory}: data path conflicts with a value")
            node = child
        if parts[-1] in node:
            raise PolicyBundleError(f"{directory}: data path defined twice")
        node[parts[-1]] = document
    return merged


def _merge_into(target: dict[str, Any], document: dict[str, Any], where: str) -> None:
    for key, value in document.items():
        if key in target:
            raise PolicyBundleError(f"{where}: data key {key!r} defined twice")
        target[key] = value
