"""ARCHITECTURE.md import rules, checked on the AST: codecs and cores stay free of I/O and clocks."""
import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN_IN_CORES = {"simpy", "serial", "socket", "asyncio", "time", "random", "datetime",
                      "threading", "os", "sqlite3"}
OURS = {"protocols", "meter_sim", "plc_channel", "edge", "hostlink", "hil"}
MICROPYTHON_SAFE = ("protocols", "meter_sim/firmware")


def imports(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0], node


def files(*dirs):
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py"))


CORE_FILES = [p for p in files("protocols", "meter_sim/firmware", "edge", "hostlink")
              if "runtime" not in p.relative_to(ROOT).parts and p.name != "aio.py"]
SQLITE_OK = ("edge/store.py", "hostlink/store.py")   # the injected stores (STYLE.md)


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cores_do_no_io_and_read_no_clock(path):
    bad = {name for name, _ in imports(path) if name in FORBIDDEN_IN_CORES}
    if str(path.relative_to(ROOT)) in SQLITE_OK:
        bad.discard("sqlite3")      # the one sanctioned side effect: the injected store
    assert not bad, "%s imports %s" % (path.relative_to(ROOT), sorted(bad))


@pytest.mark.parametrize("path", files("protocols"), ids=lambda p: str(p.relative_to(ROOT)))
def test_protocols_import_nothing_of_ours(path):
    bad = {name for name, _ in imports(path) if name in OURS - {"protocols"}}
    assert not bad


@pytest.mark.parametrize("path", files("hostlink"), ids=lambda p: str(p.relative_to(ROOT)))
def test_hostlink_imports_only_protocols(path):
    bad = {name for name, _ in imports(path) if name in OURS - {"protocols", "hostlink"}}
    assert not bad


@pytest.mark.parametrize("path", files(*MICROPYTHON_SAFE), ids=lambda p: str(p.relative_to(ROOT)))
def test_micropython_safe_trees(path):
    names = {name for name, _ in imports(path)}
    assert not names & {"dataclasses", "typing", "enum", "abc", "functools", "bisect"}
    source = path.read_text()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue):
            segment = ast.get_source_segment(source, node) or ""
            assert not segment.rstrip("}").rstrip().endswith("="), "f-string '=' specifier"


def test_nothing_imports_simpy_in_edge_and_hil_is_on_top():
    for path in files("edge", "protocols", "meter_sim", "plc_channel", "hostlink"):
        names = {name for name, _ in imports(path)}
        assert "hil" not in names, path
        if path.is_relative_to(ROOT / "edge"):
            assert "simpy" not in names, path


SIM_FILES = [p for p in files("plc_channel") if p.name != "realtime.py"]
WALL_CLOCK = {"time", "datetime", "socket", "serial", "threading", "asyncio", "os"}


@pytest.mark.parametrize("path", SIM_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_simulator_reads_no_wall_clock_and_uses_only_seeded_randomness(path):
    """Determinism: virtual time only (the real-time bridge lives in plc_channel/realtime.py) and
    random numbers only from generators passed in, never the module-level ``random``."""
    names = {name for name, _ in imports(path)}
    assert not names & WALL_CLOCK, path
    assert "random" not in names, path
