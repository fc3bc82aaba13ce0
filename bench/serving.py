"""A gateway as the benchmarks run it: a `schakel serve` process of its own (one uvicorn worker,
its default settings), its database seeded with the demo parties and three participants with
data in five categories, consents given through the API as a participant gives them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.auth.partner_keys import read_private_key, sign_client_assertion
from gateway.core.db import make_engine, transaction
from gateway.demo.seed import DEMO_PARTICIPANTS, seed_demo, seed_demo_participants
from gateway.identity.vault import enrol
from gateway.migrations.runner import upgrade_to_head
from gateway.runtime import build_runtime
from gateway.settings import Settings
from gateway.storage.service import store_contribution
from tests.disclosures.world import SAMPLE_FIELDS

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONSENTED = ["care.involvement", "care.work_readiness", "income.benefit", "work.capacity"]
ASKED = [*CONSENTED, "care.diagnosis"]  # one category is never disclosable
DOMAINS = {"ggz-leiden": "ggz", "uwv-leiden": "uwv", "gemeente-leiden": "gemeente"}
SCHAKEL = str(Path(sys.executable).parent / "schakel")


def gateway_environment(folder: Path, database_url: str, port: int,
                        public_url: str | None = None) -> dict[str, str]:  # fmt: skip
    """The gateway's configuration, as SCHAKEL_ environment variables for `schakel serve`."""
    return {
        "SCHAKEL_DATA_DIR": str(folder / "var"),
        "SCHAKEL_DATABASE_URL": database_url,
        "SCHAKEL_PUBLIC_URL": public_url or f"http://127.0.0.1:{port}",
        "SCHAKEL_PORT": str(port),
        "SCHAKEL_DEMO_LOGIN": "true",
        "SCHAKEL_WEBHOOK_INTERVAL_SECONDS": "0",
    }


def seed_database(environment: dict[str, str]) -> Settings:
    """Migrate; demo parties and participants with data in five categories each."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{name.removeprefix("SCHAKEL_").lower(): value for name, value in environment.items()},
    )
    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine)
    engine.dispose()
    runtime = build_runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            seed_demo(session=session, catalogue=runtime.catalogue, clock=runtime.clock,
                      folder=settings.data_dir / "demo")  # fmt: skip
            seed_demo_participants(session=session, keys=runtime.identity_keys,
                                   catalogue=runtime.catalogue, clock=runtime.clock)  # fmt: skip
        now = datetime.now(UTC)
        for demo in DEMO_PARTICIPANTS:
            with transaction(runtime.sessions) as session:
                participant = enrol(session=session, keys=runtime.identity_keys, bsn=demo.bsn,
                                    domains=runtime.catalogue.domains, now=now)  # fmt: skip
                for category, (party, fields) in SAMPLE_FIELDS.items():
                    store_contribution(session=session, keks=runtime.keks,
                                       participant_id=participant.id, category=category,
                                       source_party=party, source_domain=DOMAINS[party],
                                       observed_at=now, fields=fields, now=now)  # fmt: skip
    finally:
        runtime.close()
    return settings


def disclosure_body(bsn: str) -> dict[str, Any]:
    return {"subject": {"bsn": bsn}, "purpose": "reintegration", "categories": ASKED}


def partner_token(settings: Settings, base_url: str, party: str = "uwv-leiden") -> str:
    """An access token of a demo party, obtained from the gateway at ``base_url``."""
    assertion = sign_client_assertion(
        key=read_private_key(settings.data_dir / "demo" / party / "private.jwk.json"),
        client_id=party, audience=settings.token_endpoint, now=datetime.now(UTC),
        lifetime=timedelta(seconds=60),
    )  # fmt: skip
    token = httpx.post(f"{base_url}/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    })  # fmt: skip
    token.raise_for_status()
    return str(token.json()["access_token"])


def consents_and_token(settings: Settings, base_url: str | None = None) -> str:
    """Consents given through the API as each participant would; UWV's access token, checked
    to disclose the four consented categories."""
    base_url = base_url or settings.public_url
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for demo in DEMO_PARTICIPANTS:
            login = client.post("/v1/demo/login", json={"bsn": demo.bsn})
            login.raise_for_status()
            consent = client.post(
                "/v1/me/consents",
                json={"grantee": "uwv", "purpose": "reintegration", "categories": CONSENTED},
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            )
            assert consent.status_code == 201, consent.text
        access = partner_token(settings, base_url)
        check = client.post("/v1/disclosures", json=disclosure_body(DEMO_PARTICIPANTS[0].bsn),
                            headers={"Authorization": f"Bearer {access}",
                                     "X-Schakel-User": "uwv/bench"})  # fmt: skip
        assert check.status_code == 200, check.text
        disclosed = sorted(item["category"] for item in check.json()["disclosed"])
        assert disclosed == sorted(CONSENTED), disclosed
    return access


@contextmanager
def running(command: list[str], environment: dict[str, str], ready_url: str,
            log: Path) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    """A server process, once ``ready_url`` answers; terminated when the block ends."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env={**os.environ, **environment},  # noqa: S603
                                   stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{command[0]} exited; see {log}"
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{command[0]} did not start; see {log}"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def serve(environment: dict[str, str], log: Path) -> Any:
    """`schakel serve` with ``environment``, as a context manager yielding the process."""
    base = f"http://127.0.0.1:{environment['SCHAKEL_PORT']}"
    return running([SCHAKEL, "serve"], environment, f"{base}/healthz", log)


def schakel(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """A `schakel` command with ``environment``; its output kept for the report."""
    return subprocess.run([SCHAKEL, *arguments], env={**os.environ, **environment},  # noqa: S603
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found, status
    return int(found[1]) / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages, for the record of a run."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
