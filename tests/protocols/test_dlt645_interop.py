"""Interop with the public PyPI package ``dlt645`` (3.2.x) over TCP on 127.0.0.1, both ways.

Its address strings are in wire order (PROTOCOLS.md): our meter 000000000001 is "010000000000" to it.
"""
import socket
import threading

import pytest

dlt645 = pytest.importorskip("dlt645")

from protocols.civil import from_civil
from protocols.dlt645 import Read, address
from edge.runtime.ports import open_port, transact
from meter_sim.firmware import ConstantLoad, Meter
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, Session, TcpServer

T = from_civil(2026, 11, 22, 10, 30, 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def our_server():
    meter = Meter("000000000001", T - 3600, ConstantLoad(0.0), base_kwh=[100.0, 20.0, 3.25, 0.0])
    bus = MeterBus([meter, Meter("000000000002", T, ConstantLoad(0.0))])
    lock = threading.Lock()
    server = TcpServer(("127.0.0.1", 0), lambda: Session(bus, BusClock(T, 0.0), lock)).start()
    yield server
    server.close()


def test_their_client_reads_energy_voltage_and_date_from_us(our_server):
    client = dlt645.MeterClientService.new_tcp_client("127.0.0.1", our_server.port, timeout=3.0)
    try:
        assert client.set_address("010000000000")
        energy = client.read_00(0x00010000)
        assert energy is not None and float(energy.value) == pytest.approx(123.25)
        voltage = client.read_02(0x02010100)
        assert voltage is not None and float(voltage.value) == pytest.approx(220.0)
        date = client.read_04(0x04000101)
        assert date is not None and str(date.value) == "26112200"   # YYMMDDWW, Sunday = 00
    finally:
        client.disconnect()


@pytest.fixture
def their_server():
    port = free_port()
    server = dlt645.MeterServerService.new_tcp_server("127.0.0.1", port, 3.0)
    server.set_address("010000000000")
    server.set_00(0x00010000, 4321.09)
    server.set_02(0x02010100, 229.8)
    server.start()
    yield port
    server.stop()


def test_our_reader_reads_their_server(their_server):
    port = open_port("socket://127.0.0.1:%d" % their_server, 2400)
    try:
        energy = transact(port, address("000000000001"), Read(0x00010000), timeout=2.0, retries=2)
        voltage = transact(port, address("000000000001"), Read(0x02010100), timeout=2.0, retries=2)
    finally:
        port.close()
    assert energy.ok and energy.reply.value() == ("forward_active_total", 4321.09, "kWh")
    assert voltage.ok and voltage.reply.value() == ("voltage_a", 229.8, "V")


def test_their_server_answers_frames_not_addressed_to_it(their_server):
    # a known deviation (PROTOCOLS.md): on a shared bus a meter must stay silent; we do, it does not
    port = open_port("socket://127.0.0.1:%d" % their_server, 2400)
    try:
        out = transact(port, address("000000000077"), Read(0x00010000), timeout=1.0, retries=0)
    finally:
        port.close()
    assert out.kind in ("garbled", "error_reply")
