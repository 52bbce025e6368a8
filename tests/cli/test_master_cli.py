"""`gridedge master`, `gridedge agent` with an [uplink] and `gridedge master ask`, as processes on
real TCP (127.0.0.1) with the meters on a real pty: the agent logs in, uploads the daily freeze
it reads, answers a class-2 request and the area's day (F221/F222), and denies a control with the wrong password (`master
ask` has no default password and needs the station's token) and a price campaign it cannot
carry out."""
import json
import sqlite3
import subprocess
import sys
import time

import pytest

START = "2026-01-07 00:01"
CONFIG = """
[agent]
store = "agent.sqlite"
[tasks]
freeze_offset_s = 0
curve_every_min = 0
event_every_h = 0
clock_check_h = -1
[uplink]
master = "127.0.0.1:%d"
region = "0171"
terminal = 2082
password = "%s"
heartbeat_s = 5
reconnect_min_s = 0.5
[[port]]
name = "p1"
url = "%s"
[[meter]]
addr = "000000000001"
port = "p1"
[[meter]]
addr = "000000000002"
port = "p1"
"""


def wait_rows(db, sql, n, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            rows = sqlite3.connect(db).execute(sql).fetchall()
        except sqlite3.OperationalError:
            rows = []
        if len(rows) >= n:
            return rows
        time.sleep(0.2)
    raise AssertionError("%s: fewer than %d rows" % (sql, n))


@pytest.mark.timeout(120)
def test_agent_uplink_to_the_master_cli_end_to_end(tmp_path, env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    run = {"env": env_with_path, "text": True}
    procs = []
    try:
        master = subprocess.Popen(cli + ["master", "--listen", "127.0.0.1:0", "--control",
                                         "127.0.0.1:0", "--db", str(tmp_path / "m.sqlite"),
                                         "--epoch", START],
                                  stdout=subprocess.PIPE, **run)
        procs.append(master)
        info = json.loads(master.stdout.readline())
        port = int(info["master"].rsplit(":", 1)[1])
        meters = subprocess.Popen(cli + ["meters", "serve", "--pty", "--count", "2", "--seed", "2",
                                         "--start", START], stdout=subprocess.PIPE, **run)
        procs.append(meters)
        pty = json.loads(meters.stdout.readline())["serving"]
        cfg = tmp_path / "agent.toml"
        cfg.write_text(CONFIG % (port, "11" * 16, pty))
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "90"], stdout=subprocess.PIPE, **run)
        procs.append(agent)
        assert json.loads(agent.stdout.readline())["uplink"] == "127.0.0.1:%d" % port
        rows = wait_rows(tmp_path / "m.sqlite", "SELECT pn, label FROM data WHERE fn = 161", 2, 60)
        assert sorted(rows) == [(1, "06-01-26"), (2, "06-01-26")]

        def ask(*args):
            out = subprocess.run(cli + ["master", "ask", "--control", info["control"],
                                        "--token-file", info["token_file"],
                                        "--terminal", "0171-02082"] + list(args),
                                 capture_output=True, timeout=60, **run)
            return out.returncode, json.loads(out.stdout)
        code, reply = ask("read-day", "--point", "2", "--date", "2026-01-06")
        assert code == 0 and reply["outcome"] == "ok", reply
        stored = json.loads(wait_rows(tmp_path / "m.sqlite", "SELECT value FROM data WHERE"
                                      " fn = 161 AND pn = 2", 1, 5)[0][0])
        assert reply["units"][0]["value"]["forward_active"] == stored["forward_active"]
        code, reply = ask("missed", "--date", "2026-01-06")        # gridedge's AFN0D F222
        assert code == 0 and reply["units"][0]["value"] == {"td": [6, 1, 26], "points": 2,
                                                            "missed": [], "wrong": []}, reply
        code, reply = ask("line-loss", "--date", "2026-01-06")     # F221: no area meter here
        assert code == 0 and reply["units"][0]["value"]["status"] == "not_computed", reply
        code, reply = ask("control", "--action", "trip", "--point", "1")     # no password
        assert code == 1 and "password" in reply["error"]
        code, reply = ask("control", "--action", "trip", "--point", "1", "--password", "22" * 16)
        assert code == 1 and reply["outcome"] == "denied"
        prices = tmp_path / "prices.toml"
        prices.write_text('[[campaign]]\nid = "ladder-2026"\neffective = "2036-01-01 00:00"\n'
                          '[campaign.tariff]\nkind = "ladder"\nblocks = [[5, 0.6], ["none", 0.9]]\n')
        code, reply = ask("price-campaign", "--file", str(prices), "--password", "11" * 16)
        assert code == 1 and reply["outcome"] == "denied"       # this one runs no cost control
        code, reply = ask("terminals")
        assert reply["online"] == ["0171-02082"] and reply["terminals"][0]["logins"] == 1
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
    denied = sqlite3.connect(tmp_path / "agent.sqlite").execute(
        "SELECT detail FROM event_log WHERE kind = 'uplink_denied'").fetchall()
    assert len(denied) == 2 and "wrong password" in denied[0][0]
    assert "no prepaid cost control" in denied[1][0]
