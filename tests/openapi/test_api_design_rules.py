"""The NL GOV API Design Rules 2.2 lint (Spectral, the Logius ruleset) of /openapi.json passes,
with only the deviations that docs/api-design-rules.md states."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from gateway.settings import Settings
from tests.conftest import require_service
from tests.support import SettableClock, running_gateway

HERE = Path(__file__).resolve().parent
SPECTRAL_HOWTO = (
    "the ADR lint needs SCHAKEL_TEST_SPECTRAL_BIN (@stoplight/spectral-cli); `make test` finds "
    "the one scripts/provision.sh installs into .tools/"
)


def _document(folder: Path) -> Path:
    """The document a deployment at an https public URL serves, with the demo login on."""
    deployed = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder / "var",
        database_url=f"sqlite:///{folder / 'schakel.db'}",
        public_url="https://schakel.example",
        demo_login=True,
    )
    with running_gateway(deployed, SettableClock()) as (_runtime, client):
        response = client.get("/openapi.json")
    assert response.headers["API-Version"] == "1.0.0"
    path = folder / "openapi.json"
    path.write_text(json.dumps(response.json(), indent=1), "utf-8")
    return path


def _lint(spectral: str, ruleset: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [spectral, "lint", "--ruleset", str(ruleset), "--fail-severity", "warn",
         "--format", "text", str(document)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_openapi_document_passes_the_adr_lint_with_only_the_stated_deviations(
    tmp_path: Path,
) -> None:
    spectral = require_service("SCHAKEL_TEST_SPECTRAL_BIN", SPECTRAL_HOWTO)
    document = _document(tmp_path)

    ours = _lint(spectral, HERE / "spectral.yaml", document)
    assert ours.returncode == 0, ours.stdout + ours.stderr

    # Without the overrides, the published ruleset finds exactly the deviations, no more.
    published = _lint(spectral, HERE / "adr" / "linter-2.2.yaml", document)
    found = sorted(line.split()[2] for line in published.stdout.splitlines() if " error " in line)
    assert found == [
        "nlgov:paths-kebab-case",
        "nlgov:paths-kebab-case",
        "nlgov:problem-invalid-input",
        "nlgov:problem-invalid-input",
    ], published.stdout
