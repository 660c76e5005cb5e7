"""The systemd units in deploy/ pass `systemd-analyze verify` (where systemd is installed)."""
import shutil
import subprocess

import pytest

from tests.e2e.conftest import ROOT

UNITS = ("tifftock-api.service", "tifftock-scheduler.service")
VENV_BIN = "/opt/tifftock/.venv/bin/"


def unit_text(name):
    return (ROOT / "deploy" / name).read_text()


def test_units_run_unprivileged_from_opt_with_the_env_file():
    for name in UNITS:
        text = unit_text(name)
        for line in ("User=tifftock", "WorkingDirectory=/opt/tifftock", "EnvironmentFile=/opt/tifftock/.env",
                     "Restart=on-failure", "WantedBy=multi-user.target"):
            assert line in text.splitlines(), f"{name} lacks {line}"
    assert "gunicorn -w 2 -b 127.0.0.1:8000" in unit_text("tifftock-api.service")
    assert f"ExecStart={VENV_BIN}python scheduler.py" in unit_text("tifftock-scheduler.service")


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    # verify insists that ExecStart's program exists: stand-ins replace the install's venv.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("gunicorn", "python"):
        stub = bin_dir / program
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    paths = []
    for name in UNITS:
        path = tmp_path / name
        path.write_text(unit_text(name).replace(VENV_BIN, f"{bin_dir}/"))
        paths.append(str(path))
    result = subprocess.run([analyze, "verify", *paths], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not [line for line in output.splitlines() if ".service" in line], output  # no warnings about our units
