"""Packaging and service: the wheel ships the scenario library, the board's examples and the
LICENSE; `gridedge --version` is the package's; the systemd unit verifies and scores as
hardened in `systemd-analyze security`."""
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version

import pytest

from hil.scenario import LIBRARY, Scenario, ScenarioError

from tests.conftest import ROOT

UNIT = ROOT / "edge" / "deploy" / "gridedge-agent.service"
MAX_EXPOSURE = 4.0
SCENARIO_FILES = sorted(p.name for p in (ROOT / "hil" / "scenarios").glob("*.toml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built once from a copy of the tracked files (no build/ left in the tree)."""
    tmp = tmp_path_factory.mktemp("wheel")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout")
    src = tmp / "src"
    for name in files.stdout.splitlines():
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                          str(tmp / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    (path,) = (tmp / "dist").glob("gridedge-*.whl")
    return zipfile.ZipFile(path)


@pytest.mark.timeout(300)
def test_the_wheel_ships_scenarios_examples_license_and_both_entry_points(wheel):
    names = set(wheel.namelist())
    assert SCENARIO_FILES
    for f in SCENARIO_FILES:
        assert "hil/scenarios/%s" % f in names
    assert {"edge/deploy/agent.toml", "edge/deploy/gridedge-agent.service"} <= names
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert "%s/licenses/LICENSE" % info in names
    assert "Apache License" in wheel.read("%s/licenses/LICENSE" % info).decode()
    meta = wheel.read("%s/METADATA" % info).decode()
    assert "License-Expression: Apache-2.0" in meta
    scripts = wheel.read("%s/entry_points.txt" % info).decode()
    assert "gridedge = hil.cli:main" in scripts
    assert "gridedge-agent = edge.runtime.main:main" in scripts


def test_a_bundled_scenario_is_found_by_name_and_a_wrong_name_lists_the_library(tmp_path,
                                                                                env_with_path):
    assert Scenario.load("smoke").path == str(ROOT / "hil" / "scenarios" / "smoke.toml")
    assert LIBRARY == str(ROOT / "hil" / "scenarios")
    with pytest.raises(ScenarioError, match="hard, industrial-park, mixed-698, pq, prepaid-week"):
        Scenario.load("nonesuch")
    out = subprocess.run([sys.executable, "-m", "hil.cli", "hil", "run", "nonesuch"], cwd=tmp_path,
                         capture_output=True, text=True, env=env_with_path, timeout=60)
    assert out.returncode == 2 and "smoke" in out.stderr


def test_gridedge_version_is_the_packages(env_with_path):
    for cmd in (["hil.cli"], ["edge.runtime.main"]):
        out = subprocess.run([sys.executable, "-m", *cmd, "--version"], capture_output=True,
                             text=True, env=env_with_path, timeout=60)
        assert out.returncode == 0
        assert re.search(r"\b%s\b" % re.escape(version("gridedge")), out.stdout)
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version("gridedge"))


def _systemd_analyze():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("no systemd-analyze on this machine")
    return tool


def test_the_unit_verifies(tmp_path):
    tool = _systemd_analyze()
    agent = shutil.which("gridedge-agent") or str(ROOT / ".venv" / "bin" / "gridedge-agent")
    unit = tmp_path / "gridedge-agent.service"      # the unit as installed, its venv here
    unit.write_text(UNIT.read_text().replace("/opt/gridedge/venv/bin/gridedge-agent", agent))
    out = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "gridedge-agent.service" not in out.stderr, out.stderr


def test_the_unit_is_hardened(tmp_path):
    tool = _systemd_analyze()
    out = subprocess.run([tool, "security", "--offline=true", str(UNIT)], capture_output=True,
                         text=True, timeout=60)
    found = re.search(r"Overall exposure level for gridedge-agent.service: ([\d.]+)", out.stdout)
    assert found, out.stdout + out.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, out.stdout
    text = UNIT.read_text()
    for line in ("After=network-online.target", "UMask=0077", "PrivateTmp=true",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/gridedge", "ProtectHome=true",
                 "NoNewPrivileges=true", "DeviceAllow=char-ttyUSB rw", "Restart=on-failure",
                 "StartLimitBurst=5", "User=gridedge", "useradd --system"):
        assert line in text, line
