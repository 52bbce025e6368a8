"""The board's entry point: the agent built from config on the edge side, nothing of the lab's."""
import json
import socket
import subprocess
import sys
from importlib.metadata import entry_points

from tests.conftest import ROOT

LAB = ("hil", "meter_sim", "plc_channel", "simpy", "matplotlib", "dask")
PROBE = """
import json, sys
from edge.runtime.main import main
rc = main(["--config", sys.argv[1], "--duration", "1"])
print(json.dumps({"rc": rc, "lab": sorted(m for m in sys.modules if m.split(".")[0] in %r)}))
""" % (LAB,)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def board_config(tmp_path):
    """The shipped example with its ports on loop://, its master on a closed local port."""
    text = (ROOT / "edge" / "deploy" / "agent.toml").read_text()
    for old, new in (("/var/lib/gridedge/agent.sqlite", "agent.sqlite"), ("/dev/ttyS1", "loop://"),
                     ("/dev/ttyS2", "loop://"), ("10.0.0.10:9000", "127.0.0.1:1"),
                     ("127.0.0.1:9108", "127.0.0.1:%d" % free_port()),
                     ('"CHANGE-ME: 32 hex digits"', '"%s"' % ("5a" * 16))):
        assert old in text
        text = text.replace(old, new)
    cfg = tmp_path / "agent.toml"
    cfg.write_text(text)
    return cfg


def test_the_agent_with_prepaid_uplink_and_metrics_imports_nothing_of_the_lab(tmp_path,
                                                                              env_with_path):
    out = subprocess.run([sys.executable, "-c", PROBE, str(board_config(tmp_path))],
                         capture_output=True, text=True, env=env_with_path, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert json.loads(lines[0])["agent"] == "running"
    assert json.loads(lines[-1]) == {"rc": 0, "lab": []}
    assert "gridedge agent" in out.stderr and "starting" in out.stderr


def test_gridedge_agent_is_a_console_script_of_the_edge_side():
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts["gridedge-agent"] == "edge.runtime.main:main"
    assert scripts["gridedge"] == "hil.cli:main"


def test_a_bad_config_is_exit_2_with_the_problem_named(tmp_path, env_with_path):
    cfg = tmp_path / "agent.toml"
    for text, problem in (("[agent]\n", "agent.store: required"),
                          ('[agent]\nstore = "s.sqlite"\n[[port]]\nname = "p"\nurl = "nosuch://x"\n',
                           "nosuch://x")):
        cfg.write_text(text)
        out = subprocess.run([sys.executable, "-m", "edge.runtime.main", "--config", str(cfg)],
                             capture_output=True, text=True, env=env_with_path, timeout=60)
        assert out.returncode == 2 and problem in out.stderr, out.stderr


def test_the_shipped_examples_print_from_the_package(env_with_path):
    out = subprocess.run([sys.executable, "-m", "edge.runtime.main", "--example", "agent.toml"],
                         capture_output=True, text=True, env=env_with_path, timeout=60)
    assert out.returncode == 0
    assert out.stdout == (ROOT / "edge" / "deploy" / "agent.toml").read_text()
