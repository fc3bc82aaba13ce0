"""Gateway configuration: one pydantic-settings object, ``SCHAKEL_`` prefix, read once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from audit.note import NoteError, Verifier

REPOSITORY_POLICIES = Path(__file__).resolve().parents[1] / "policies"


# DigiD's levels as its SAML authentication context classes, as DigiD brokers pass them on.
DIGID_ACR_LEVELS = (
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",  # Basis
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",  # Midden
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",  # Substantieel
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",  # Hoog
)
DIGID_SUBSTANTIEEL = DIGID_ACR_LEVELS[2]


class PolicyEngineKind(StrEnum):
    EMBEDDED = "embedded"
    OPA = "opa"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class AuditWitness(BaseModel):
    """A witness that cosigns the audit log's checkpoints (C2SP tlog-witness): where it answers
    add-checkpoint, and the verifier key of its cosignatures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Its URL prefix: POST <url>/add-checkpoint")
    vkey: str = Field(description="Its cosignature key: <name>+<key id>+<base64 key>")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("vkey")
    @classmethod
    def _cosigning_key(cls, value: str) -> str:
        try:
            Verifier.parse(value)
        except (NoteError, ValueError) as error:
            raise ValueError(f"not a witness verifier key: {error}") from None
        return value

    @property
    def verifier(self) -> Verifier:
        return Verifier.parse(self.vkey)


class Settings(BaseSettings):
    """Every knob of the gateway; unknown ``SCHAKEL_`` keys are refused so typos do not go unnoticed."""

    model_config = SettingsConfigDict(
        env_prefix="SCHAKEL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded SQLite database and generated keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in data_dir. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    host: str = Field(default="127.0.0.1", description="Address `schakel serve` binds to.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(default=8000, description="Port to bind.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The gateway's external base URL; the token endpoint audience derives from it.",
    )
    policy_engine: PolicyEngineKind = Field(
        default=PolicyEngineKind.EMBEDDED, description="`embedded` (regorus) or `opa` (OPA server)."
    )
    opa_url: str = Field(default="http://127.0.0.1:8181", description="OPA server base URL.")
    opa_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = Field(
        default=0.2,
        description="Time allowed for an OPA decision, counted from the request's arrival, "
        "before failing closed.",
    )
    api_contact_name: str = Field(
        default="Schakel API support",
        min_length=1,
        description="Who partners reach about the API: `info.contact` of /openapi.json.",
    )
    api_contact_email: str = Field(
        default="api@schakel.nl",
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="E-mail address of that contact.",
    )
    api_contact_url: str = Field(
        default="https://schakel.nl/api",
        pattern=r"^https?://",
        description="Web page of that contact (terms, status, how to connect).",
    )
    notice_acknowledge_working_days: Annotated[int, Field(ge=1, le=60)] = Field(
        default=10,
        description="Working days a recipient has to acknowledge a deletion notice.",
    )
    notice_sweep_seconds: Annotated[float, Field(ge=0, le=86400)] = Field(
        default=60,
        description="How often expired consents are swept for deletion notices; 0 turns it off.",
    )
    metrics_port: Annotated[int, Field(ge=0, le=65535)] | None = Field(
        default=None,
        description="Serve Prometheus metrics at /metrics on this port (apart from the API).",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address the metrics port binds to.")
    write_wait_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0,
        description="How long a request waits for its turn to write (SQLite) before a 503.",
    )
    opa_binary: Path | None = Field(
        default=None,
        description="An opa binary: `opa test` must pass on the policies before a reload.",
    )
    opa_cooloff_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        default=1.0,
        description="After two OPA time-outs or refused connections in a row, refuse at once this long.",
    )
    policies_dir: Path = Field(
        default=REPOSITORY_POLICIES, description="Folder holding the Rego policies and data."
    )
    token_signing_key_file: Path | None = Field(
        default=None,
        description="PEM Ed25519 key that signs access tokens; default data_dir/keys/token-signing.pem"
        " (generated on first start).",
    )
    token_signing_key: SecretStr | None = Field(
        default=None, description="The same key as PEM text (e.g. from a secret store)."
    )
    token_retired_keys_file: Path | None = Field(
        default=None,
        description="Retired access-token keys (JWKS, `schakel keys rotate-token-key`), published and "
        "accepted until the last token each signed has expired; default data_dir/keys/token-retired.json.",
    )
    receipt_signing_key_file: Path | None = Field(
        default=None,
        description="PEM Ed25519 key that signs consent receipts, and nothing else; default "
        "data_dir/keys/receipt-signing.pem (generated on first start of the embedded default).",
    )
    receipt_retired_keys_file: Path | None = Field(
        default=None,
        description="Retired receipt keys (JWKS, `schakel keys rotate-receipt-key`), published beside "
        "the current one forever; default data_dir/keys/receipt-retired.json.",
    )
    session_key_file: Path | None = Field(
        default=None,
        description="Key (32 bytes, hex) that signs web session cookies, and nothing else; default "
        "data_dir/keys/session.key (generated on first start of the embedded default).",
    )
    web_session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = Field(
        default=15, description="A web session ends after this long without a request."
    )
    web_session_absolute_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] = Field(
        default=8 * 60, description="A web session ends this long after sign-in, used or not."
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="PEM Ed25519 key that signs audit checkpoints; default "
        "data_dir/keys/audit-signing.pem (generated on first start).",
    )
    audit_retired_keys_file: Path | None = Field(
        default=None,
        description="JWKS of retired audit signing keys, so checkpoints they signed stay verifiable.",
    )
    audit_checkpoint_every_entries: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=100, description="Sign a checkpoint once this many entries are unsigned."
    )
    audit_checkpoint_every_seconds: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=300, description="Sign a checkpoint once the oldest unsigned entry is this old."
    )
    audit_log_origin: str | None = Field(
        default=None,
        description="The audit log's name in its checkpoints (C2SP tlog-checkpoint origin); "
        "default <host of the public URL>/audit. Keep it for the life of the log.",
    )
    audit_witnesses: list[AuditWitness] = Field(
        default_factory=list,
        description='Witnesses that cosign checkpoints, as JSON: [{"url": …, "vkey": …}]',
    )
    audit_checkpoint_interval_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=15.0,
        description="How often a background task signs a checkpoint that fell due while nothing "
        "was appended (an idle log); 0 turns it off (then checkpoints fall due on appends only).",
    )
    # Unusual activity in the audit log (gateway/audit_log/unusual.py), as privacy reports flag it.
    unusual_window_days: Annotated[int, Field(ge=2, le=90)] = Field(
        default=14, description="Days of the log the unusual-activity rules look back over."
    )
    unusual_min_denials: Annotated[int, Field(ge=1)] = Field(
        default=3, description="Denial share: a party refused at least this often today ..."
    )
    unusual_denial_margin: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.3,
        description="... with a share of refusals this much above its own earlier share.",
    )
    office_hours_start: Annotated[int, Field(ge=0, le=23)] = Field(
        default=7,
        description="Office hours begin at this hour, Europe/Amsterdam, Monday to Friday.",
    )
    office_hours_end: Annotated[int, Field(ge=1, le=24)] = Field(
        default=19, description="Office hours end at this hour, Europe/Amsterdam."
    )
    unusual_after_hours_min: Annotated[int, Field(ge=1)] = Field(
        default=1, description="Outside office hours: a party asking for data this often is listed."
    )
    unusual_bulk_participants: Annotated[int, Field(ge=2)] = Field(
        default=25,
        description="Bulk reading: this many different participants read by one party ...",
    )
    unusual_bulk_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        default=60, description="... within this many minutes."
    )
    unusual_most_consulted_min: Annotated[int, Field(ge=1)] = Field(
        default=20, description="Most consulted: a participant read this often in the window ..."
    )
    unusual_most_consulted_top: Annotated[int, Field(ge=1, le=100)] = Field(
        default=5, description="... of whom at most this many, the most read first."
    )
    unusual_rise_factor: Annotated[float, Field(gt=1)] = Field(
        default=3.0,
        description="Sudden rise: a party's requests today this many times its daily average ...",
    )
    unusual_rise_min: Annotated[int, Field(ge=1)] = Field(
        default=10, description="... and at least this many."
    )
    access_token_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = Field(
        default=300, description="Lifetime of issued access tokens."
    )
    assertion_max_lifetime_seconds: Annotated[int, Field(ge=10, le=300)] = Field(
        default=300, description="Client assertions must expire within this many seconds."
    )
    clock_skew_seconds: Annotated[int, Field(ge=0, le=120)] = Field(
        default=30, description="Leeway for clocks of partner systems."
    )
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = Field(
        default=1024 * 1024, description="Largest request body accepted."
    )
    generate_missing_keys: bool = Field(
        default=True,
        description="Generate missing keys in data_dir on first start (the embedded default). "
        "Set false in production: a missing key then stops the gateway instead of a new one "
        "silently taking its place.",
    )
    identity_keys_file: Path | None = Field(
        default=None,
        description="JSON file with the BSN vault, blind-index and pseudonym keys; default "
        "data_dir/keys/identity.json (generated on first start of the embedded default).",
    )
    retention_years: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None,
        description="`schakel retention run` erases participants whose newest contribution is "
        "older than this and who have no consent in force; unset: nothing expires.",
    )
    kek_file: Path | None = Field(
        default=None,
        description="Key-encryption key (32 bytes, base64) wrapping the participants' data keys;"
        " default data_dir/keys/kek.b64 (generated on first start of the embedded default).",
    )
    kek: SecretStr | None = Field(default=None, description="The same KEK as text (secret store).")
    previous_kek_file: Path | None = Field(
        default=None, description="The KEK before a rotation, still read until re-wrapping ends."
    )
    participant_oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer that authenticates participants (DigiD broker).",
    )
    participant_oidc_jwks_url: str | None = Field(
        default=None, description="JWKS URL of that issuer; default {issuer}/.well-known/jwks.json."
    )
    participant_oidc_audience: str = Field(
        default="schakel", description="Audience participant tokens must name."
    )
    participant_bsn_claim: str = Field(
        default="bsn", description="Claim of the participant token that carries the BSN."
    )
    participant_oidc_client_id: str | None = Field(
        default=None,
        description="The gateway's client id at that issuer; set, /portal/login signs in there "
        "(authorization code flow with PKCE). Redirect URI: {public_url}/portal/callback.",
    )
    participant_oidc_client_secret: SecretStr | None = Field(
        default=None, description="The client secret that goes with it."
    )
    participant_oidc_scope: str = Field(
        default="openid", description="Scopes asked for at sign-in (space-separated)."
    )
    participant_oidc_acr_levels: list[str] = Field(
        default=list(DIGID_ACR_LEVELS),
        description="The issuer's assurance levels (acr), lowest first; default DigiD's "
        "Basis, Midden, Substantieel, Hoog.",
    )
    participant_oidc_minimum_acr: str = Field(
        default=DIGID_SUBSTANTIEEL,
        description="The lowest acr accepted at sign-in; default DigiD Substantieel, since "
        "GGZ-derived data is involved.",
    )
    officer_providers_file: Path | None = Field(
        default=None,
        description="JSON file naming each organisation's own OpenID provider for its officers "
        "and operators (issuer, client, the claim that maps to each role); see the README.",
    )
    demo_login: bool = Field(
        default=False,
        description="Offer POST /v1/demo/login for the seeded demo participants (never in production).",
    )
    webhook_interval_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=2.0,
        description="How often the background worker delivers due webhooks; 0 turns it off "
        "(then something else must call gateway.signals.webhooks.deliver_due).",
    )
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        default=5.0, description="Time a webhook receiver has to answer one attempt."
    )
    webhook_max_attempts: Annotated[int, Field(ge=1, le=50)] = Field(
        default=8, description="Attempts before a webhook message goes to the dead-letter list."
    )
    webhook_first_retry_seconds: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=30.0, description="Delay after the first failed attempt; doubled after each."
    )
    register_min_count: Annotated[int, Field(ge=2, le=1000)] = Field(
        default=10,
        description="The obstacle register (and any statistics) withholds counts from 1 to this "
        "minus one, and the counts that would give them back.",
    )
    monitoring_noise: bool = Field(
        default=True,
        description="Monitoring releases carry differential-privacy noise (OpenDP). Never false "
        "in production: without noise a release spends no budget and protects against no "
        "differencing; it says so in its protection statement.",
    )
    worker_threads: Annotated[int, Field(ge=1, le=256)] = Field(
        default=4,
        description="Threads that run request handlers at once, and disclosure decisions with the "
        "OPA engine (with the embedded engine they run on the batch writer's thread); each keeps "
        "its own database connection, and a policy engine if it decides. More do not help on "
        "SQLite, which writes one transaction at a time.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: LogFormat = Field(default=LogFormat.JSON, description="`json` or `console`.")

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator(
        "public_url", "opa_url", "participant_oidc_issuer", "participant_oidc_jwks_url"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("audit_log_origin")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() or c == "+" for c in value)):
            raise ValueError("an origin is not empty and holds no spaces and no '+'")
        return value

    @field_validator("data_dir")
    @classmethod
    def _a_folder_or_none_yet(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(
                f"{value} is a file, not a folder; name a folder (it is made if missing)"
            )
        return value

    @field_validator("policies_dir")
    @classmethod
    def _policies_with_their_catalogue(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(
                f"no folder at {value}; name the folder that holds the policies/ bundle"
            )
        if not (value / "schakel" / "catalogue" / "data.json").is_file():
            raise ValueError(
                f"{value} holds no schakel/catalogue/data.json; is it the policies/ folder?"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith("postgres://") or value.startswith("postgresql://"):
            # psycopg 3 is the only PostgreSQL driver we ship.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql:// (postgresql+psycopg://)")
        return value

    @model_validator(mode="after")
    def _one_signing_key_source(self) -> Settings:
        if self.token_signing_key is not None and self.token_signing_key_file is not None:
            raise ValueError(
                "set SCHAKEL_TOKEN_SIGNING_KEY or SCHAKEL_TOKEN_SIGNING_KEY_FILE, not both"
            )
        return self

    @model_validator(mode="after")
    def _participant_sign_in_is_whole(self) -> Settings:
        if self.participant_oidc_minimum_acr not in self.participant_oidc_acr_levels:
            raise ValueError(
                "SCHAKEL_PARTICIPANT_OIDC_MINIMUM_ACR must be one of "
                "SCHAKEL_PARTICIPANT_OIDC_ACR_LEVELS"
            )
        if self.participant_oidc_client_id is not None and self.participant_oidc_issuer is None:
            raise ValueError(
                "SCHAKEL_PARTICIPANT_OIDC_CLIENT_ID needs SCHAKEL_PARTICIPANT_OIDC_ISSUER"
            )
        if self.participant_oidc_client_id == self.participant_oidc_audience:
            # Otherwise an ID token, whose audience is the client, would open the API.
            raise ValueError(
                "SCHAKEL_PARTICIPANT_OIDC_AUDIENCE (of access tokens) must differ from "
                "SCHAKEL_PARTICIPANT_OIDC_CLIENT_ID (the audience of ID tokens)"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'schakel.db'}"

    @property
    def audit_origin(self) -> str:
        """The origin line of the audit log's checkpoints."""
        if self.audit_log_origin is not None:
            return self.audit_log_origin
        return self.public_url.split("://", 1)[1].split("/", 1)[0] + "/audit"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def token_endpoint(self) -> str:
        """The audience partner client assertions must name (RFC 7523 §3, item 3)."""
        return f"{self.public_url}/oauth/token"

    @property
    def issuer(self) -> str:
        return self.public_url

    @property
    def demo_participant_issuer(self) -> str:
        return f"{self.public_url}/demo"


class SettingsError(Exception):
    """Configuration is invalid; ``str()`` lists one line per bad value."""


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from environment and ``.env``; turn validation errors into readable lines."""
    unknown = unknown_environment_keys(os.environ if environ is None else environ)
    if unknown:
        raise SettingsError(
            "invalid configuration:\n  "
            + "\n  ".join(f"{key}: unknown setting; check its spelling" for key in unknown)
        )
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_settings_errors(error)) from None


def unknown_environment_keys(environ: Mapping[str, str]) -> list[str]:
    """``SCHAKEL_*`` variables that name no setting (``SCHAKEL_TEST_*`` belong to the test suite)."""
    known = {f"SCHAKEL_{name.upper()}" for name in Settings.model_fields}
    return sorted(
        key
        for key in environ
        if key.upper().startswith("SCHAKEL_")
        and not key.upper().startswith("SCHAKEL_TEST_")
        and key.upper() not in known
    )


def _is_secret(annotation: object) -> bool:
    return "SecretStr" in repr(annotation)


SECRET_SETTINGS = frozenset(
    name for name, field in Settings.model_fields.items() if _is_secret(field.annotation)
)


def shown_value(given: object) -> object:
    """A rejected value as an error line may show it: a URL's password is masked."""
    if not isinstance(given, str) or "://" not in given:
        return given
    scheme, _, rest = given.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return given
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}{slash}{path}"


def describe_settings_errors(error: ValidationError) -> str:
    """One line per bad value; a secret's value and a URL's password are never echoed."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        name = "SCHAKEL_" + location[0].upper() if location else "settings"
        message = problem["msg"].removeprefix("Value error, ")
        given = problem.get("input")
        shown = "" if isinstance(given, dict) or given is None else f" (got {shown_value(given)!r})"
        if location and location[0] in SECRET_SETTINGS:
            shown = ""
        if location and location[0] in {"data_dir", "policies_dir"}:
            shown = ""  # the message names the path already
        if problem["type"] == "extra_forbidden":
            message = "unknown setting; check its spelling"
            shown = ""
        lines.append(f"{name}: {message}{shown}")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n  " + "\n  ".join(lines)
