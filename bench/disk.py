"""The disk a run writes to: how long a sync takes, and a slower one on request.

Group commit pays where a commit waits for the disk, so every run records the time of one
8 KiB write and fdatasync(2) in the folder it writes to. `--fsync-delay-us N` builds
`slow_sync.c` and preloads it into every process of the run (LD_PRELOAD), each sync then
waiting N microseconds first: production block storage syncs in about a millisecond, the
disks of a development machine often in a tenth of that.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "bench" / "slow_sync.c"
LIBRARY = ROOT / ".tools" / "lib" / "slow_sync.so"
DELAY_VARIABLE = "SLOW_SYNC_US"  # read by slow_sync.c, and passed to PostgreSQL by services.sh


def sync_latency_us(folder: Path | None = None, times: int = 200) -> float:
    """Median microseconds of one 8 KiB write followed by fdatasync, in ``folder``."""
    with tempfile.NamedTemporaryFile(dir=folder, prefix="sync-probe-") as probe:
        block = os.urandom(8192)
        samples = []
        for _ in range(times):
            start = time.perf_counter()
            os.write(probe.fileno(), block)
            os.fdatasync(probe.fileno())
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def slow_sync_library() -> Path:
    """``slow_sync.c`` compiled (again when the source is newer); SystemExit without a compiler."""
    if LIBRARY.exists() and LIBRARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return LIBRARY
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("--fsync-delay-us needs a C compiler (apt-get install gcc)")
    LIBRARY.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [compiler, "-O2", "-shared", "-fPIC", "-o", str(LIBRARY), str(SOURCE), "-ldl"], check=True
    )
    return LIBRARY


def slowed_environment(delay_us: int) -> dict[str, str]:
    """The environment in which every sync of a process, and of its children, waits first."""
    preload = " ".join(filter(None, [str(slow_sync_library()), os.environ.get("LD_PRELOAD")]))
    return {**os.environ, "LD_PRELOAD": preload, DELAY_VARIABLE: str(delay_us)}
