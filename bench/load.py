"""Load from wrk: POSTs of a few bodies in turn, as many connections as clients.

``start`` runs wrk in the background (so that two loads can run side by side) and ``finish``
reads its summary: requests, errors, throughput and latency percentiles. A timed load
(``timed=True``) also records every request: when it was sent (CLOCK_MONOTONIC, the clock of
Python's ``time.monotonic``), how long its answer took and its status. wrk then runs one
connection per thread, so that a thread's request and response are always the same exchange.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUEST = """
local bodies = {%(bodies)s}
local n = 0
local function next_request()
  n = n + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s", ["X-Schakel-User"] = "uwv/bench"},
    bodies[(n %% #bodies) + 1])
end
"""

SUMMARY = """
local function summarise(summary, latency)
  io.write(string.format("BENCH %%d %%d %%d %%d %%f %%f %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max))
end
"""

PLAIN = (
    REQUEST
    + SUMMARY
    + """
request = next_request
done = function(summary, latency, requests) summarise(summary, latency) end
"""
)

TIMED = (
    REQUEST
    + SUMMARY
    + """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]]
local clock = ffi.new("bench_timespec")
local function monotonic()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end
local sent = 0
samples = {}
request = function()
  sent = monotonic()
  return next_request()
end
response = function(status, headers, body)
  samples[#samples + 1] = string.format("%%.6f %%.6f %%d", sent, monotonic() - sent, status)
end
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
done = function(summary, latency, requests)
  local out = io.open("%(samples)s", "w")
  for _, thread in ipairs(threads) do
    for _, line in ipairs(thread:get("samples")) do out:write(line, "\\n") end
  end
  out:close()
  summarise(summary, latency)
end
"""
)


@dataclass(frozen=True)
class Target:
    """What a load asks: POST ``path`` on ``url`` with ``token``, the ``bodies`` in turn."""

    url: str
    path: str
    token: str
    bodies: list[str]


@dataclass(frozen=True)
class Sample:
    """One request of a timed load: sent at (monotonic seconds), answered after, its status."""

    sent: float
    seconds: float
    status: int


@dataclass
class Running:
    process: subprocess.Popen[str]
    samples: Path | None


def available() -> bool:
    return shutil.which("wrk") is not None


def start(target: Target, *, seconds: int, clients: int, folder: Path, name: str,
          timed: bool = False) -> Running:  # fmt: skip
    """wrk in the background; ``finish`` waits for it and reads its figures."""
    samples = folder / f"{name}.samples" if timed else None
    script = folder / f"{name}.lua"
    template = TIMED if timed else PLAIN
    script.write_text(template % {
        "bodies": ", ".join(json.dumps(body) for body in target.bodies),
        "path": target.path, "token": target.token, "samples": samples,
    })  # fmt: skip
    threads = clients if timed else min(2, clients)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(script), target.url]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    return Running(process, samples)


def finish(running: Running) -> dict[str, Any]:
    """The run's figures: requests, errors, non-2xx, rps, p50/p99/mean/max in ms (and samples)."""
    output, errors = running.process.communicate()
    assert running.process.returncode == 0, (
        f"wrk exited with {running.process.returncode}: {errors}"
    )
    found = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+) (\S+) (\S+) (\S+) (\S+)", output)
    assert found, output + errors
    requests, failed, duration_us, status_errors = (int(found[i]) for i in range(1, 5))
    figures: dict[str, Any] = {
        "requests": requests,
        "errors": failed,
        "non_2xx": status_errors,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": float(found[5]) / 1000,
        "p99_ms": float(found[6]) / 1000,
        "mean_ms": float(found[7]) / 1000,
        "max_ms": float(found[8]) / 1000,
    }
    if running.samples is not None:
        figures["samples"] = [
            Sample(float(sent), float(seconds), int(status))
            for sent, seconds, status in (
                line.split() for line in running.samples.read_text().splitlines()
            )
        ]
    return figures


def run(target: Target, *, seconds: int, clients: int, folder: Path, name: str,
        timed: bool = False) -> dict[str, Any]:  # fmt: skip
    """One wrk run, waited for."""
    return finish(start(target, seconds=seconds, clients=clients, folder=folder, name=name,
                        timed=timed))  # fmt: skip
