"""Scale-out: two `schakel serve` processes on one PostgreSQL, under concurrent load, keep one
gap-free audit chain that verifies, with exactly one entry per request answered."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from audit.models import AuditEntry
from gateway.auth.partner_keys import read_private_key, sign_client_assertion
from gateway.core.db import make_engine, make_sessionmaker, read_transaction
from gateway.demo.seed import DEMO_PARTICIPANTS
from tests.support import ASSERTION_TYPE, free_port

PUBLIC_URL = "http://gateway.test"  # the load balancer's address: both processes issue for it
SCHAKEL = str(Path(sys.executable).with_name("schakel"))
REQUESTS_PER_CLIENT = 25
CLIENTS = 8


def _schakel(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCHAKEL, *arguments], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@contextmanager
def _serving(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [SCHAKEL, "serve"],
            env={**env, "SCHAKEL_PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
            else:
                pytest.fail(f"gateway on {port} did not become ready: {log.read_text()}")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _token(url: str, data_dir: Path, party: str) -> str:
    assertion = sign_client_assertion(
        key=read_private_key(data_dir / "demo" / party / "private.jwk.json"),
        client_id=party,
        audience=f"{PUBLIC_URL}/oauth/token",
        now=datetime.now(UTC),
        lifetime=timedelta(seconds=60),
    )
    response = httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_two_gateway_processes_on_one_database_keep_one_gap_free_chain(
    postgres_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    env = {
        **os.environ,
        "SCHAKEL_DATABASE_URL": postgres_url,
        "SCHAKEL_DATA_DIR": str(data_dir),
        "SCHAKEL_PUBLIC_URL": PUBLIC_URL,
        "SCHAKEL_WEBHOOK_INTERVAL_SECONDS": "0",
        "SCHAKEL_AUDIT_CHECKPOINT_EVERY_ENTRIES": "20",
    }
    for step in (("migrate",), ("demo",)):
        done = _schakel(env, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    with ExitStack() as stack:
        urls = [
            stack.enter_context(_serving(env, free_port(), tmp_path / f"gateway-{n}.log"))
            for n in (1, 2)
        ]
        tokens = {url: _token(url, data_dir, "uwv-leiden") for url in urls}

        def client(number: int) -> list[int]:
            url = urls[number % len(urls)]
            statuses = []
            with httpx.Client(base_url=url, timeout=30) as http:
                for request in range(REQUESTS_PER_CLIENT):
                    participant = DEMO_PARTICIPANTS[request % len(DEMO_PARTICIPANTS)]
                    response = http.post(
                        "/v1/disclosures",
                        json={
                            "subject": {"bsn": participant.bsn},
                            "purpose": "reintegration",
                            "categories": ["care.involvement", "work.capacity"],
                        },
                        headers={
                            "Authorization": f"Bearer {tokens[url]}",
                            "X-Schakel-User": "uwv/load-test",
                        },
                    )
                    statuses.append(response.status_code)
            return statuses

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [status for result in pool.map(client, range(CLIENTS)) for status in result]
    assert statuses == [200] * CLIENTS * REQUESTS_PER_CLIENT

    engine = make_engine(postgres_url)
    with read_transaction(make_sessionmaker(engine)) as session:
        answered = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action.in_(("disclose", "deny")), AuditEntry.actor_party == "uwv-leiden"
            )
        )
        seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    engine.dispose()
    assert answered == CLIENTS * REQUESTS_PER_CLIENT
    assert list(seqs) == list(range(1, len(seqs) + 1))
    verified = _schakel(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
