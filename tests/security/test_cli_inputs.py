"""Every bad command-line input ends with exit code 2 and a message naming the thing, never a
traceback: options out of range or of the wrong type, ports that do not exist or refuse,
a metrics port already taken, a store that cannot be opened (deploy/agent.toml as shipped)."""
import os
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from hil.cli import main
from tests.conftest import ROOT
from tests.security.helpers import SHIPPED_CONFIG

SMOKE = str(ROOT / "hil" / "scenarios" / "smoke.toml")
READ = ["meters", "read", "--port", "loop://", "--address", "000000000001", "--di", "00010000"]


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("args, named", [
    (["sim", "area", "--meters", "-5"], "--meters"),
    (["sim", "area", "--meters", "0"], "--meters"),
    (["sim", "area", "--dead", "1.5"], "--dead"),
    (["sim", "area", "--intermittent", "nan"], "--intermittent"),
    (["sim", "area", "--hours", "inf"], "--hours"),
    (["sim", "area", "--start-hour", "24"], "--start-hour"),
    (["sim", "prepaid", "--read-every", "7"], "--read-every"),
    (["sim", "prepaid", "--stuck", "-0.1"], "--stuck"),
    (["sim", "prepaid", "--days", "0"], "--days"),
    (["sim", "uplink", "--loss", "5"], "--loss"),
    (["sim", "module", "--meters", "0"], "--meters"),
    (["sim", "module", "--epoch", "yesterday"], "--epoch"),
    (["meters", "serve", "--pty", "--count", "0"], "--count"),
    (["meters", "serve", "--tcp", "127.0.0.1:99999"], "--tcp"),
    (["meters", "serve", "--pty", "--epoch", "2026-02-30"], "--epoch"),
    (["meters", "serve", "--pty", "--baud", "1234"], "--baud"),
    (["meters", "serve", "--pty", "--speed", "-1"], "--speed"),
    (READ + ["--timeout", "0"], "--timeout"),
    (READ + ["--blocks", "0"], "--blocks"),
    (READ + ["--retries", "-1"], "--retries"),
    (READ + ["--start", "soon"], "--start"),
    (["meters", "read", "--tcp", "nohost", "--address", "1", "--di", "1"], "--tcp"),
    (["hil", "run", SMOKE, "--seed", "-1"], "--seed"),
    (["hil", "fleet", SMOKE, "--areas", "0"], "--areas"),
    (["hil", "rig", SMOKE, "--archive-port", "99"], "--archive-port"),
    (["hil", "rig", SMOKE, "--duration", "nan"], "--duration"),
    (["hil", "conformance", "--port", "loop://", "--address", "1", "--password", "xyz"],
     "--password"),
    (["hil", "conformance", "--port", "loop://", "--address", "1", "--baud", "7"], "--baud"),
    (["demo", "--meters", "0"], "--meters"),
    (["agent", "--config", "/nonexistent/agent.toml"], "/nonexistent/agent.toml"),
    (["agent", "--config", SMOKE, "--duration", "-1"], "--duration"),
    (["decode", "zz"], "not hex"),
])
def test_an_option_out_of_range_or_type_exits_2_naming_it(args, named):
    result = invoke(*args)
    assert result.exit_code == 2 and named in result.output


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_serial_device_that_does_not_exist_is_named():
    result = invoke("meters", "read", "--port", "/dev/ttyNOPE", "--address", "000000000001",
                    "--di", "00010000")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: cannot open port /dev/ttyNOPE: No such file or directory"]


def test_a_tcp_port_that_refuses_is_named():
    port = _free_port()
    result = invoke("meters", "read", "--tcp", "127.0.0.1:%d" % port, "--address",
                    "000000000001", "--di", "00010000")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: cannot open port socket://127.0.0.1:%d: Connection refused" % port]


def test_an_unknown_url_scheme_is_named():
    result = invoke(*READ[:2], "--port", "nope://x", *READ[4:])
    assert result.exit_code == 2 and "nope://x" in result.output


def _agent_toml(tmp_path, extra=""):
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nstore = "agent.sqlite"\n%s[tasks]\nclock_check_h = -1\n'
                    '[[port]]\nname = "p1"\nurl = "loop://"\n'
                    '[[meter]]\naddr = "000000000001"\nport = "p1"\n' % extra)
    return path


def test_a_metrics_port_already_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        where = "127.0.0.1:%d" % taken.getsockname()[1]
        result = invoke("agent", "--config", str(_agent_toml(tmp_path, 'metrics = "%s"\n' % where)),
                        "--duration", "1")
    assert result.exit_code == 2
    assert "cannot serve metrics on %s" % where in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_port_of_the_archive_that_cannot_be_opened_is_named_and_retried(tmp_path, env_with_path):
    # the agent starts without it (a lost port is not a lost agent) and names it in its log
    path = _agent_toml(tmp_path)
    path.write_text(path.read_text().replace("loop://", "/dev/ttyNOPE"))
    out = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config", str(path),
                          "--duration", "1"], capture_output=True, text=True, env=env_with_path,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "port" in out.stderr and "/dev/ttyNOPE" in out.stderr
    assert "cannot be opened" in out.stderr and "retrying" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_store_that_cannot_be_opened_is_named(tmp_path):
    # deploy/agent.toml's store, without its [uplink] (that section has checks of its own)
    shipped = SHIPPED_CONFIG.read_text()
    head, _, rest = shipped.partition("[uplink]")
    path = tmp_path / "agent.toml"
    path.write_text(head + "[tasks]" + rest.partition("[tasks]")[2])
    result = invoke("agent", "--config", str(path), "--duration", "1")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: cannot open the store /var/lib/gridedge/agent.sqlite: unable to open database "
        "file"]


@pytest.mark.skipif(os.path.isdir("/var/lib/gridedge"),
                    reason="/var/lib/gridedge exists here: the shipped store opens")
def test_the_shipped_config_exits_2_with_a_line_per_problem(env_with_path):
    out = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config",
                          str(SHIPPED_CONFIG), "--duration", "1"],
                         capture_output=True, text=True, env=env_with_path, timeout=60)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.startswith("Error: ")


def test_an_invalid_config_exits_2_listing_every_problem(tmp_path):
    path = _agent_toml(tmp_path, "max_readings = 0\nmax_store_mb = -1\n")
    path.write_text(path.read_text() + "[prepaid]\nevery_min = 0\n")
    result = invoke("agent", "--config", str(path))
    assert result.exit_code == 2
    lines = result.output.strip().replace("Error: ", "", 1).splitlines()
    assert [line.split(": ")[:2] for line in lines] == [
        [str(path), "agent.max_readings"], [str(path), "agent.max_store_mb"],
        [str(path), "prepaid.every_min"]]
    assert not (tmp_path / "agent.sqlite").exists()          # nothing ran


def test_prepaid_commands_on_a_config_without_prepaid_exit_2(tmp_path):
    result = invoke("prepaid", "status", "--config", str(_agent_toml(tmp_path)))
    assert result.exit_code == 2 and "has no [prepaid] section" in result.output


def test_a_report_that_cannot_be_written_is_refused_before_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for args in (["hil", "run", SMOKE, "--report", str(blocker / "out")],
                 ["sim", "prepaid", "--report", str(tmp_path / "no" / "such" / "r.json")],
                 ["hil", "conformance", "--port", "loop://", "--address", "000000000001",
                  "--report", str(blocker / "r.json")]):
        result = invoke(*args)
        assert result.exit_code == 2 and "cannot write the report to" in result.output
        assert "simulating" not in result.output and "%" not in result.output


def test_a_rig_listen_address_already_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        where = "127.0.0.1:%d" % taken.getsockname()[1]
        result = invoke("hil", "rig", str(ROOT / "hil" / "scenarios" / "rig-lab.toml"),
                        "--listen", where, "--duration", "1", "--report", str(tmp_path))
    assert result.exit_code == 2 and "cannot listen on %s" % where in result.output
