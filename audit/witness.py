"""A witness of transparency logs (C2SP tlog-witness, tlog-cosignature): it keeps the last
checkpoint it cosigned for each log, checks a consistency proof from it before it cosigns a
newer one, and so refuses a fork (another tree of a size it saw) or a rollback (a smaller tree).

Another organisation runs it (``schakel witness serve``); the gateway asks it to cosign each
checkpoint it signs. Its state is one small file per log, replaced atomically under a lock, so
the check of the old size and the update are one step (tlog-witness's race).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from audit.note import Note, NoteError, Verifier, b64, unb64, verify_note
from audit.tlog import Checkpoint, cosign, cosigner, parse_add_checkpoint

SIZE_MEDIA_TYPE = "text/x.tlog.size"


class Refused(Exception):
    """An add-checkpoint request the witness does not cosign, with the HTTP answer tlog-witness
    gives for it (400, 403, 404, 409 with the size it holds, or 422)."""

    def __init__(self, status: int, reason: str, body: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body if body is not None else reason + "\n"
        self.media_type = SIZE_MEDIA_TYPE if status == 409 else "text/plain"


@dataclass(frozen=True)
class Seen:
    """The last checkpoint the witness cosigned for a log: its size, root and note."""

    size: int
    root: bytes
    note: str


def origin_hash(origin: str) -> str:
    """How tlog-witness names a log in URLs: the lowercase hex SHA-256 of its origin."""
    return hashlib.sha256(origin.encode()).hexdigest()


class Witness:
    """Cosigns the checkpoints of the logs it knows (origin -> the logs' note keys)."""

    def __init__(
        self,
        *,
        name: str,
        private_key: Ed25519PrivateKey,
        logs: Mapping[str, Sequence[Verifier]],
        state_dir: Path,
        clock: Callable[[], datetime],
    ) -> None:
        self.name = name
        self._key = private_key
        self._logs = {origin: tuple(keys) for origin, keys in logs.items()}
        self._state_dir = state_dir
        self._clock = clock
        self._lock = threading.Lock()
        state_dir.mkdir(parents=True, exist_ok=True)

    @property
    def verifier(self) -> Verifier:
        """The verifier key of this witness's cosignatures (type 0x04)."""
        return cosigner(self.name, self._key)

    def add_checkpoint(self, body: str) -> str:
        """Answer a tlog-witness add-checkpoint request: the cosignature line, or Refused."""
        try:
            request = parse_add_checkpoint(body)
            head = Checkpoint.parse(request.note.text)
        except NoteError as error:
            raise Refused(400, f"malformed request: {error}") from None
        keys = self._logs.get(head.origin)
        if keys is None:
            raise Refused(404, f"unknown log {head.origin!r}")
        self._check_signed(request.note, keys)
        if request.old_size > head.size:
            raise Refused(400, f"old size {request.old_size} is past the checkpoint's {head.size}")
        with self._exclusive(head.origin):
            seen = self.seen(head.origin)
            held = seen.size if seen is not None else 0
            if request.old_size != held:
                raise Refused(409, f"this witness holds size {held}", f"{held}\n")
            self._check_consistent(seen, head, request.proof)
            signature = cosign(request.note.text, self.name, self._key, self._timestamp())
            cosigned = request.note.with_signatures((signature,))
            self._keep(head.origin, Seen(head.size, head.root, str(cosigned)))
        return signature.line

    def _check_signed(self, note: Note, keys: Sequence[Verifier]) -> None:
        try:
            signed = [verify_note(note, key) for key in keys]
        except NoteError as error:
            raise Refused(403, str(error)) from None
        if not any(signed):
            raise Refused(403, "no signature of a key this witness trusts for the log")

    @staticmethod
    def _check_consistent(seen: Seen | None, head: Checkpoint, proof: list[bytes]) -> None:
        """The new tree extends the one cosigned last: a fork or a rollback is refused."""
        if head.size == 0 and head.root != EMPTY_ROOT:
            raise Refused(422, "a tree of size 0 has the empty root hash")
        if seen is None or seen.size == 0:
            if proof:
                raise Refused(422, "from size 0 the consistency proof is empty")
            return
        if seen.size == head.size and seen.root != head.root:
            raise Refused(422, f"another tree of size {head.size}: the log forked")
        try:
            verify_consistency(seen.size, head.size, seen.root, head.root, proof)
        except ProofError as error:
            raise Refused(422, f"not consistent with size {seen.size}: {error}") from None

    def _timestamp(self) -> int:
        return int(self._clock().timestamp())

    def seen(self, origin: str) -> Seen | None:
        """The last checkpoint cosigned for the log, or None."""
        path = self._state_path(origin)
        if not path.exists():
            return None
        stored = json.loads(path.read_text("utf-8"))
        return Seen(stored["size"], unb64(stored["root"]), stored["note"])

    def latest(self, hashed_origin: str) -> str | None:
        """The last cosigned checkpoint of the log whose origin hashes to this (monitoring)."""
        for origin in self._logs:
            if origin_hash(origin) == hashed_origin:
                seen = self.seen(origin)
                return seen.note if seen is not None else None
        return None

    def _state_path(self, origin: str) -> Path:
        return self._state_dir / f"{origin_hash(origin)}.json"

    def _keep(self, origin: str, seen: Seen) -> None:
        """Replace the log's state atomically (written, synced, renamed)."""
        stored = {"origin": origin, "size": seen.size, "root": b64(seen.root), "note": seen.note}
        handle, temporary = tempfile.mkstemp(dir=self._state_dir, suffix=".partial")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(stored, out)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(self._state_path(origin))

    @contextmanager
    def _exclusive(self, origin: str) -> Iterator[None]:
        """One request per log at a time, in this process and across processes."""
        lock_path = self._state_dir / f"{origin_hash(origin)}.lock"
        with self._lock, lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
