"""A release as published: its document in RFC 8785 canonical JSON, signed with the gateway's
Ed25519 token-signing key as a detached JWS (RFC 7515 Appendix F, EdDSA; verify it with
``/.well-known/jwks.json``, as the consent receipts), and its noise draw sealed under the
key-encryption key (AES-256-GCM, bound to the release id), so it never leaves the gateway.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import rfc8785
from joserfc import jws
from joserfc.jwk import OKPKey

from gateway.storage.kek import KekRing
from monitoring.models import Release

RELEASE_TYPE = "schakel-release+jws"


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes that are signed, stored and served (RFC 8785)."""
    return rfc8785.dumps(document)


def sign(payload: bytes, key: OKPKey) -> str:
    """A detached compact JWS: ``header..signature`` (the payload is the canonical release)."""
    header = {"alg": "EdDSA", "typ": RELEASE_TYPE, "kid": key.kid}
    compact = jws.serialize_compact(header, payload, key, algorithms=["EdDSA"])
    head, _, signature = compact.split(".")
    return f"{head}..{signature}"


def seal_draw(keks: KekRing, release_id: str, draw: dict[str, list[int]]) -> tuple[bytes, str]:
    """The draw, sealed under the primary KEK for this release only; and that KEK's id."""
    plain = json.dumps(draw, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return keks.primary.wrap(plain, _label(release_id)), keks.primary.kek_id


def open_draw(keks: KekRing, release: Release) -> dict[str, list[int]]:
    """The sealed draw of a stored release."""
    plain = keks.for_id(release.draw_kek_id).unwrap(release.sealed_draw, _label(release.id))
    draw: dict[str, list[int]] = json.loads(plain)
    return draw


def _label(release_id: str) -> str:
    return f"monitoring-release:{release_id}"


def signed_body(release: Release, jwks_uri: str, kid: str) -> bytes:
    """The stored release with its signature, byte for byte as stored (never a re-run)."""
    signature = json.dumps(
        {"alg": "EdDSA", "kid": kid, "jws": release.signature, "jwks_uri": jwks_uri},
        separators=(",", ":"),
    )
    return (
        b'{"release":'
        + release.document.encode("utf-8")
        + b',"signature":'
        + (signature.encode("utf-8") + b"}")
    )


def csv_lines(document: dict[str, Any]) -> Iterator[str]:
    """Every published figure of a release as CSV: table, dimension values, count, how it is
    protected (suppressed and why, or the noise's 95 % half-width)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(row: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    yield line(["release", "table", "kind", "values", "count", "suppressed", "noise_95"])
    for table in document["tables"]:
        accuracy = (table.get("noise") or {}).get("accuracy_95", {})
        parts = [("cell", c, accuracy.get("cell")) for c in table["cells"]]
        for dimension, margin in table["margins"].items():
            parts += [("margin", c, accuracy.get("margins", {}).get(dimension)) for c in margin]
        parts.append(("total", table["total"], accuracy.get("total")))
        for kind, count, noise in parts:
            values = ";".join(f"{k}={v}" for k, v in count["values"].items())
            shown_noise = "" if count["count"] is None or noise is None else noise
            yield line([document["id"], table["name"], kind, values, count["count"],
                        count["suppressed"] or "", shown_noise])  # fmt: skip
