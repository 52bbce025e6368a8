"""Conformance of a meter on a real pty: the firmware meters served by `gridedge meters serve`
stand in for a real meter; a missing meter answers nothing and the CLI says so."""
import json
import subprocess
import sys

import pytest

from hil.conformance import READS, check_meter


@pytest.fixture
def served(env_with_path):
    server = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", "3", "--seed", "5"], stdout=subprocess.PIPE, text=True,
                              env=env_with_path)
    try:
        yield json.loads(server.stdout.readline())["serving"]
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.timeout(60)
def test_firmware_meter_conformance_on_a_pty(served, env_with_path):
    report = check_meter(served, "000000000003", timeout=0.5)
    rows = {r["check"]: r for r in report["checks"]}
    assert len(rows) == len(READS) + 4
    assert report["reads_answered"] >= 15 and report["unknown_item_refused"]
    assert rows["read forward active total (00010000)"]["outcome"] == "ok"
    assert rows["read an item no meter has (0400FFFF): expect an error reply"]["error_code"] == "02"
    assert rows["alarm (0x1C 2A, default password)"]["outcome"] == "ok"
    assert report["latency_ms"]["n"] == len(rows)
    assert report["relay_carried_out"] is None              # the relay only when asked
    out = subprocess.run([sys.executable, "-m", "hil.cli", "hil", "conformance", "--port", served,
                          "--address", "000000000099", "--timeout", "0.1"],
                         capture_output=True, text=True, env=env_with_path, timeout=50)
    assert out.returncode == 1
    assert json.loads(out.stdout.strip().splitlines()[-1])["reads_answered"] == 0


@pytest.mark.timeout(60)
def test_relay_checks_read_the_relay_back(served):
    report = check_meter(served, "000000000002", timeout=0.5, relay=True, settle_s=0.1)
    rows = {r["check"]: r for r in report["checks"]}
    assert rows["trip (0x1C 1A, level 02)"]["outcome"] == "ok"
    assert rows["relay after trip (status word 3 read back)"]["carried_out"] is True
    assert rows["relay after direct close (status word 3 read back)"]["carried_out"] is True
    assert report["relay_carried_out"] == [True, True]
    # a wrong password: the meter refuses, and the read-back says the relay did not move
    report = check_meter(served, "000000000001", timeout=0.5, relay=True, settle_s=0.1,
                         password=b"\x12\x34\x56")
    rows = {r["check"]: r for r in report["checks"]}
    assert rows["trip (0x1C 1A, level 02)"]["outcome"] != "ok"
    assert report["relay_carried_out"][0] is False
