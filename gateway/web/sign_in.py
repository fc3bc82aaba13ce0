"""The pages' side of an OpenID Connect sign-in: to the provider and back, refusals as pages.

The sign-in under way lives in a cookie of its own (``SIGN_IN_COOKIE``, ``SameSite=Lax``, ten
minutes), used by one callback and then deleted.
"""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response

from gateway.auth.oidc import PendingSignIn, RelyingParty, SignInRefused
from gateway.web.rendering import Page
from gateway.web.sessions import SIGN_IN_COOKIE, SIGN_IN_LIFETIME, WebSession

REFUSAL_STATUS = {"acr": 403, "no-role": 403, "party-disabled": 403, "provider-unavailable": 503}


def to_provider(page: Page, provider: RelyingParty, callback: str, login: str) -> Response:
    """Send the browser to the provider with a fresh ``state``, ``nonce`` and PKCE challenge."""
    try:
        url, pending = provider.begin(redirect_uri=page.runtime.settings.public_url + callback)
    except SignInRefused as error:
        return refused(page, error, again=login)
    response = page.finish(RedirectResponse(url, status_code=303))
    response.set_cookie(
        SIGN_IN_COOKIE, page.web.sessions.encode_pending(pending),
        max_age=int(SIGN_IN_LIFETIME.total_seconds()), path="/", secure=page.web.secure_cookies,
        httponly=True, samesite="lax",
    )  # fmt: skip
    return response


def pending(page: Page) -> PendingSignIn:
    """The sign-in this browser started; a callback without one is refused."""
    found = page.web.sessions.decode_pending(page.request.cookies.get(SIGN_IN_COOKIE))
    if found is None:
        raise SignInRefused("state", "no sign-in was started in this browser, or it took too long")
    return found


def callback_query(page: Page) -> dict[str, str]:
    return {name: value[:2048] for name, value in page.request.query_params.items()}


def refused(page: Page, error: SignInRefused, *, again: str) -> Response:
    """A refusal as a page that says what to do; no session is started."""
    key = {"acr": "acr_too_low", "provider-unavailable": "sign_in_unavailable"}.get(
        error.reason, "officer_no_role" if error.reason == "no-role" else "sign_in_failed"
    )
    response = page.render(
        "sign_in_refused.html", status=REFUSAL_STATUS.get(error.reason, 400),
        message=page.text(key), reason=error.reason, detail=error.detail, again=again,
    )  # fmt: skip
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


def signed_in(page: Page, session: WebSession, *, target: str) -> Response:
    """Start the session; the next page is opened from our own site (see signed_in.html)."""
    page.start(session)
    response = page.render("signed_in.html", target=target)
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response
