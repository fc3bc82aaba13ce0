"""The hash chain: RFC 8785 (JCS) canonical JSON and SHA-256, as docs/audit-format.md specifies.

entry_hash = lowercase-hex( SHA-256( bytes.fromhex(prev_hash) || JCS(entry without entry_hash) ) )
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785

from audit.fields import FORMAT_VERSION, fields_of

FORMAT = "schakel-audit/2"
EXPORT_FORMAT = "schakel-audit-export/2"
# The export formats a verifier reads: version 1 files stay verifiable.
EXPORT_FORMATS = ("schakel-audit-export/1", EXPORT_FORMAT)
GENESIS_HASH = "0" * 64
# Whole values only (fullmatch), ASCII digits only: "$" would let a trailing newline through
# and "\d" any script's digits.
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly six fraction digits and ``Z``: 2026-11-24T10:00:00.000000Z."""
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """The inverse of :func:`format_timestamp`; refuses any other spelling."""
    if not TIMESTAMP.fullmatch(text):
        raise ValueError(f"not an audit timestamp (YYYY-MM-DDTHH:MM:SS.ffffffZ): {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme: sorted keys, no whitespace, UTF-8.

    Audit documents hold only ASCII keys, strings, safe integers, booleans, null, lists and
    objects; for those orjson's sorted output is exactly the JCS bytes (same escapes, same key
    order) many times faster than the pure-Python ``rfc8785``, which stays the reference (a
    property test holds the two equal) and takes anything else.
    """
    if _jcs_plain(document):
        plain = plain_jcs(document)
        if plain is not None:
            return plain
    encoded: bytes = rfc8785.dumps(dict(document))
    return encoded


_SAFE_INTEGER = 2**53 - 1
_JCS_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def plain_jcs(document: Mapping[str, Any]) -> bytes | None:
    """The JCS of a document already known to be JCS-plain (see ``_jcs_plain``), or None.

    None means a string holds a lone surrogate, which JCS cannot encode: ``rfc8785`` refuses it.
    """
    try:
        return orjson.dumps(document, option=_JCS_OPTIONS)
    except orjson.JSONEncodeError:
        return None


def _jcs_plain(value: Any) -> bool:
    """True for values whose sorted orjson form is their JCS form (RFC 8785 §3.2)."""
    if value is None or isinstance(value, bool):
        return True
    if type(value) is int:
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if type(value) is str:
        return True  # a lone surrogate fails orjson's encoding, which falls back to rfc8785
    if type(value) in (list, tuple):
        return all(_jcs_plain(item) for item in value)
    if type(value) is dict:
        return all(
            type(key) is str and key.isascii() and _jcs_plain(item) for key, item in value.items()
        )
    return False


def entry_hash_input(document: Mapping[str, Any]) -> bytes:
    """The bytes SHA-256 is taken over: the 32 raw bytes of prev_hash, then the JCS of the entry."""
    hashed = {name: value for name, value in document.items() if name != "entry_hash"}
    prev_hash = hashed.get("prev_hash")
    if not isinstance(prev_hash, str) or not HEX_DIGEST.fullmatch(prev_hash):
        raise ValueError("prev_hash must be 64 lowercase hex digits")
    return bytes.fromhex(prev_hash) + canonical_json(hashed)


def compute_entry_hash(document: Mapping[str, Any]) -> str:
    """The entry hash of an entry document (``entry_hash`` itself, if present, is left out)."""
    return hashlib.sha256(entry_hash_input(document)).hexdigest()


def seal(fields: Mapping[str, Any], *, version: int = FORMAT_VERSION) -> dict[str, Any]:
    """Complete an entry document with its ``entry_hash`` (every hashed member of the format
    version must be present; others are left out)."""
    return seal_with_jcs(fields, version=version)[0]


def seal_with_jcs(
    fields: Mapping[str, Any], *, version: int = FORMAT_VERSION
) -> tuple[dict[str, Any], bytes]:
    """As :func:`seal`, with the JCS bytes that were hashed (the entry without entry_hash).

    The gateway stores those bytes next to the entry's columns, so that verifying the stored log
    hashes them as they are instead of writing the JCS of every entry again.
    """
    names = fields_of(version)
    missing = [name for name in names if name not in fields]
    if missing:
        raise ValueError(f"entry lacks {', '.join(missing)}")
    document = {name: fields[name] for name in names}
    hashed = entry_hash_input(document)
    document["entry_hash"] = hashlib.sha256(hashed).hexdigest()
    return document, hashed[32:]
