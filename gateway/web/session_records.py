"""Server-side session records: a session is open only while its record says so.

Checked at every request of a signed-in page, in that request's transaction: a record that was
ended (logout, a disabled party, a withdrawn role, a new sign-in's key) or that timed out (idle
or absolute, ``SCHAKEL_WEB_SESSION_*``) ends the session there and then (OWASP Session
Management: server-side invalidation, idle and absolute time-outs).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gateway.settings import Settings
from gateway.web.models import WebSessionRecord
from gateway.web.sessions import WebSession, record_id

# last_seen_at is written at most this often: idle time is measured to within it, and a page
# that is read often does not write on every request.
TOUCH_EVERY = timedelta(seconds=30)


def open_session(
    session: Session, web: WebSession, *, now: datetime, user_id: str | None, roles: list[str]
) -> None:
    """Record a signed-in session in the caller's transaction."""
    assert web.sid is not None
    session.add(
        WebSessionRecord(
            id=record_id(web.sid), kind=web.kind, subject=web.subject, user_id=user_id,
            roles=roles, started_at=now, last_seen_at=now,
        )
    )  # fmt: skip


def current(
    session: Session, web: WebSession | None, *, now: datetime, settings: Settings
) -> WebSessionRecord | None:
    """The open record behind a signed-in cookie; ends it if it timed out; none otherwise."""
    if web is None or web.sid is None:
        return None
    record = session.get(WebSessionRecord, record_id(web.sid))
    if record is None or record.ended_at is not None:
        return None
    if record.kind != web.kind or record.subject != web.subject:
        return None
    idle = timedelta(minutes=settings.web_session_idle_minutes)
    absolute = timedelta(minutes=settings.web_session_absolute_minutes)
    if now - record.started_at >= absolute:
        end(session, record, now=now, reason="absolute-timeout")
        return None
    if now - record.last_seen_at >= idle:
        end(session, record, now=now, reason="idle-timeout")
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return record


def end(session: Session, record: WebSessionRecord, *, now: datetime, reason: str) -> None:
    """End one session; its cookie, and every copy of it, is refused from now on."""
    if record.ended_at is None:
        record.ended_at = now
        record.end_reason = reason


def end_by_cookie(session: Session, web: WebSession | None, *, now: datetime) -> None:
    """Logout: end the session the cookie points at, if it is still open."""
    if web is not None and web.sid is not None:
        record = session.get(WebSessionRecord, record_id(web.sid))
        if record is not None:
            end(session, record, now=now, reason="logout")
