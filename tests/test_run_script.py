"""`./run test` on a machine without Node.js/npm: every other test runs, the MicroPython check
skips with its reason (not a stop before pytest starts)."""
import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

TOOLS = ("bash", "dirname", "sha256sum", "cut", "rm", "touch", "cat", "env")


def path_without_node(tmp_path):
    """A PATH with the few tools ./run needs and no node or npm."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found is None:
            pytest.skip("%s not found" % tool)
        os.symlink(found, bin_dir / tool)
    return str(bin_dir)


def test_setup_node_says_why_without_npm(tmp_path):
    folder = tmp_path / "micropython"
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "micropython" / "setup_node.sh", folder)
    shutil.copy(ROOT / "tests" / "micropython" / "package.json", folder)
    out = subprocess.run([str(folder / "setup_node.sh")], capture_output=True, text=True,
                         env={"PATH": path_without_node(tmp_path)}, timeout=60)
    assert out.returncode == 1
    assert "npm not found" in out.stderr


@pytest.mark.timeout(120)
def test_run_test_without_node_runs_pytest_and_skips_the_micropython_check(tmp_path):
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv: ./run would install it first")
    env = {"PATH": path_without_node(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([str(ROOT / "run"), "test", "-q", "-rs", "-p", "no:cacheprovider",
                          "tests/micropython/test_micropython.py::"
                          "test_firmware_and_codec_run_identically_under_micropython",
                          "tests/test_layering.py"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=110)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 skipped" in out.stdout and "Node.js not found" in out.stdout, out.stdout
    assert " passed" in out.stdout
