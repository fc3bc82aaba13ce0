"""A bounded schemathesis pass over every operation /openapi.json holds, against the real gateway
on a real port: coverage, fuzzing and stateful phases, with every check. Each kind of caller
fuzzes the operations its token opens (and sees every other one refuse it), so the bodies behind
authentication are fuzzed too. A longer run: docs/api-design-rules.md, "Schemathesis"."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.openapi.live import LiveGateway, live_gateway

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"

# Which operations each token fuzzes, by tag, with its share of the time: the partner takes
# every operation no other kind claims, so a route added later is fuzzed without a change here.
PASSES = {
    "partner": (["--exclude-tag-regex", "^(participant|audit|operators)"], 50),
    "participant": (["--include-tag-regex", "^participant"], 30),
    "officer": (["--include-tag", "audit"], 20),
    "operator": (["--include-tag", "operators"], 10),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    with live_gateway(tmp_path_factory.mktemp("schemathesis")) as gateway:
        yield gateway


@pytest.mark.parametrize("kind", list(PASSES))
def test_schemathesis_finds_nothing_with_a_token_of_each_kind(
    live: LiveGateway, kind: str, tmp_path: Path
) -> None:
    selection, seconds = PASSES[kind]
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run",
        f"{live.base_url}/openapi.json",
        "--header", f"Authorization: {live.tokens[kind]}",
        # Who acts is given like the token is: one professional for the whole pass.
        "--header", "X-Schakel-User: schemathesis",
        "--phases", "coverage,fuzzing,stateful", "--checks", "all",
        "--max-examples", "10", "--max-time", str(seconds), "--seed", "20261206",
        "--workers", "1", "--no-color", "--report-dir", str(tmp_path),
        *selection,
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-4000:]
