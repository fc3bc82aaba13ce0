"""Every bad setting is one line naming the variable and what to do, and exit code 2 — never a
traceback. Walked as an operator meets them: `serve`, `migrate` and `audit verify`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCHAKEL = str(Path(sys.executable).with_name("schakel"))
UNREACHABLE = "postgresql://schakel:hunter2@127.0.0.1:1/schakel"


def _cases(tmp_path: Path, postgres_admin_url: str) -> list[tuple[str, dict[str, str], str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    missing_database = postgres_admin_url.rsplit("/", 1)[0] + "/no_such_database"
    return [
        ("PostgreSQL unreachable", {"SCHAKEL_DATABASE_URL": UNREACHABLE}, "SCHAKEL_DATABASE_URL"),
        ("database missing", {"SCHAKEL_DATABASE_URL": missing_database}, "SCHAKEL_DATABASE_URL"),
        ("policies folder missing", {"SCHAKEL_POLICIES_DIR": str(tmp_path / "nope")},
         "SCHAKEL_POLICIES_DIR"),
        ("data folder is a file", {"SCHAKEL_DATA_DIR": str(a_file)}, "SCHAKEL_DATA_DIR"),
    ]  # fmt: skip


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["audit", "verify"]])
def test_each_bad_setting_is_one_line_and_exit_code_2(
    command: list[str], tmp_path: Path, postgres_admin_url: str
) -> None:
    for case, env, variable in _cases(tmp_path, postgres_admin_url):
        done = subprocess.run(
            [SCHAKEL, *command],
            env={"PATH": "/usr/bin:/bin", "SCHAKEL_DATA_DIR": str(tmp_path / "var"), **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        lines = (done.stdout + done.stderr).strip().splitlines()
        assert done.returncode == 2, (case, lines)
        assert len(lines) == 1, (case, lines)
        assert lines[0].startswith("error: ") and variable in lines[0], (case, lines)
        assert "hunter2" not in lines[0]
