"""Real I/O: meters behind a pty, behind a serial server on a pty, and behind TCP on 127.0.0.1."""
import json
import os
import select
import subprocess
import sys
import threading
import time

import pytest

from protocols.dlt645 import Read, address
from protocols.dlt645 import di as DI
from edge.exchange import Exchange
from edge.runtime.ports import open_port, transact
from meter_sim.population import DEFAULT_EPOCH, build_meters
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, SerialServer, Session, TcpServer

EPOCH = DEFAULT_EPOCH + 40 * 86400


def make_session(n=5, timing=False):
    bus = MeterBus(build_meters(n, seed=7, t0=DEFAULT_EPOCH))
    lock = threading.Lock()
    clock = BusClock(EPOCH, speed=0.0)   # frozen meter time: reads are comparable
    return bus, (lambda: Session(bus, clock, lock, timing, 9600))


def expected(bus, addr, di):
    from tests.helpers import value
    meter = next(m for m in bus.meters if m.addr == address(addr))
    return value(meter, Read(di), EPOCH)


def read_via(url, addr, di):
    port = open_port(url, 9600)
    try:
        return transact(port, address(addr), Read(di), timeout=1.0, retries=1)
    finally:
        port.close()


@pytest.mark.parametrize("kind", ["pty", "tcp"])
def test_read_every_meter_on_a_real_port(kind):
    bus, session = make_session()
    if kind == "pty":
        server = PtyServer(session()).start()
        url = server.path
    else:
        server = TcpServer(("127.0.0.1", 0), session).start()
        url = "socket://127.0.0.1:%d" % server.port
    try:
        for m in bus.meters:
            addr = "%012d" % int(m.meter_number)
            out = read_via(url, addr, 0x00010000)
            assert out.ok, out
            assert out.reply.value()[1] == expected(bus, addr, 0x00010000)
        silent = read_via(url, "000000000099", 0x00010000)
        assert silent.kind == "timeout"
    finally:
        server.close()


def test_serial_server_on_a_pty_with_line_timing():
    bus, session = make_session(timing=True)
    master, slave = os.openpty()
    server = SerialServer(session(), os.ttyname(slave), 9600).start()
    try:
        ex = Exchange(address("000000000002"), Read(DI.DI_STATUS_3), time.monotonic(), 2.0, 0)
        sent_at = None
        while not ex.done:
            out = ex.data_to_send(time.monotonic())
            if out:
                os.write(master, out)
                sent_at = time.monotonic()
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                ex.receive_data(os.read(master, 256), time.monotonic())
            ex.on_timer(time.monotonic())
        assert ex.outcome.ok
        # the reply waited the meter's reply delay: the standard's 20 ms lower bound holds
        assert ex.outcome.latency >= 0.02
    finally:
        server.close()
        os.close(master)
        os.close(slave)


def cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env, **kw)


@pytest.mark.parametrize("where", [["--tcp", "127.0.0.1:0"], ["--pty"]])
def test_cli_serve_and_read(where, env_with_path):
    proc = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--count", "20",
                             "--seed", "3", "--duration", "30", *where],
                            stdout=subprocess.PIPE, text=True, env=env_with_path)
    try:
        info = json.loads(proc.stdout.readline())
        target = (["--tcp", info["serving"]] if where[0] == "--tcp" else ["--port", info["serving"]])
        out = cli("meters", "read", *target, "--address", "000000000007", "--di", "02010100", "--json",
                  env=env_with_path)
        result = json.loads(out.stdout)
        assert out.returncode == 0 and result["outcome"] == "ok" and result["unit"] == "V"
        assert 200 < result["value"] < 240
        out = cli("meters", "read", *target, "--address", "000000000099", "--di", "00010000",
                  "--timeout", "0.3", "--retries", "0", "--json", env=env_with_path)
        assert out.returncode == 1 and json.loads(out.stdout)["outcome"] == "timeout"
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_decode_json_and_garbage(env_with_path):
    out = cli("decode", "00 68 01 72 00 72 00 00 68 91 08 33 33 34 33 33 33 33 33 E7 16", "--json",
              env=env_with_path)
    items = json.loads(out.stdout)
    assert out.returncode == 0
    assert items[0]["garbage"] == "00"
    frame = items[1]
    assert frame["address"] == "000072007201" and frame["function"] == "11 read"
    assert frame["di"] == "00010000" and frame["value"] == 0.0 and frame["unit"] == "kWh"
    assert frame["direction"] == "meter->master" and frame["checksum"] == "E7 ok"


def test_cli_decode_reports_bad_input(env_with_path):
    out = cli("decode", "68 AA AA", env=env_with_path)
    assert out.returncode == 1 and "garbage" in out.stdout
    out = cli("decode", "6Z", env=env_with_path)
    assert out.returncode != 0 and "not hex" in out.stderr


@pytest.mark.parametrize("args", [[], ["meters"], ["meters", "serve"], ["meters", "read"], ["decode"],
                                  ["demo"], ["sim"], ["sim", "area"], ["sim", "module"]])
def test_help_on_every_level(args, env_with_path):
    out = cli(*args, "--help", env=env_with_path)
    assert out.returncode == 0 and "Usage:" in out.stdout and len(out.stdout.splitlines()) > 4


def test_demo_main_job(env_with_path):
    out = cli("demo", "--meters", "40", env=env_with_path)
    assert out.returncode == 0, out.stderr
    assert "read_rate        1.0" in out.stdout and "000000000001" in out.stdout


def test_cli_serves_a_mixed_bus_of_645_and_698_meters_on_one_tcp_line(env_with_path):
    import socket
    from protocols.dlt645 import encode_frame as encode645
    from protocols.dlt698 import OAD, GetNormal, decode_apdu, request_frame
    from protocols.dlt698 import encode_frame as encode698
    from meter_sim.population import MIXED_698_SHARE
    from meter_sim.serve.line import Garbage, LineDeframer
    twins = build_meters(10, seed=3, t0=DEFAULT_EPOCH, protocol_698_share=MIXED_698_SHARE)
    proc = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--count", "10",
                             "--seed", "3", "--protocol", "mixed", "--duration", "30", "--tcp",
                             "127.0.0.1:0"], stdout=subprocess.PIPE, text=True, env=env_with_path)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["protocol"] == "mixed"
        assert info["meters_698"] == sum(m.protocol == 698 for m in twins) > 0
        host, port = info["serving"].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            for m in twins:
                if m.protocol == 698:
                    s.sendall(encode698(request_frame(GetNormal(OAD(0x4001, 2)), m.addr)))
                else:
                    s.sendall(encode645(Read(DI.DI_ADDRESS).to_frame(m.addr)))
                line, frames = LineDeframer(), []
                for _ in range(20):
                    line.feed(s.recv(4096))
                    frames += [f for f in line if not isinstance(f, Garbage)]
                    if frames:
                        break
                if m.protocol == 698:
                    got = decode_apdu(frames[0].data).result.data.value
                    assert got == bytes(reversed(m.addr))
                else:
                    assert frames[0].addr == m.addr and frames[0].ctrl == 0x91
    finally:
        proc.terminate()
        proc.wait(10)
