"""The portal's access log offers, for each entry, the proof that the log holds it as a file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from audit.keys import publish_jwks
from audit.proofs import InclusionBundle, check_inclusion
from gateway.audit_log.checkpointer import sign_if_due
from gateway.settings import Settings
from tests.support import SettableClock, running_gateway
from tests.web.pages import NOOR, SAM, seed
from tests.web.test_pages import give_consent, log_in


def test_a_participant_downloads_the_proof_of_an_access_log_entry(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        demo_login=True,
    )
    clock = SettableClock()
    with running_gateway(settings, clock) as (runtime, client):
        seed(runtime, tmp_path / "demo")
        log_in(client, SAM)
        give_consent(client)
        clock.advance(settings.audit_checkpoint_every_seconds + 1)
        assert sign_if_due(runtime.sessions, runtime.trail) is not None
        page = client.get("/portal/access-log").text
        links = re.findall(r'href="(/portal/access-log/[0-9]+/proof)"', page)
        assert links
        download = client.get(links[0])
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        bundle = InclusionBundle.model_validate(json.loads(download.text))
        report = check_inclusion(bundle, publish_jwks(runtime.audit_keys.signing_key))
        assert report.ok, report.summary()
        client.post("/portal/logout", follow_redirects=False)
        log_in(client, NOOR)
        assert client.get(links[0]).status_code == 404  # Sam's entry, not Noor's
