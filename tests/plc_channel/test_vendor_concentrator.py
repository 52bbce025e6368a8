"""The vendor-style concentrator script (vendor_concentrator.py, public facts only) against our
emulated module, both editions, in virtual time (a simulated UART) and on a real pty in wall
time (the module served as `gridedge sim module` serves it)."""
import time

import pytest
import serial
import simpy

from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from plc_channel.module_1376_2 import CarrierModule
from plc_channel.module_admin import upgrade_file
from plc_channel.realtime import ModulePortServer
from plc_channel.uart import UartLink
from protocols.gdw1376_2 import Deframer, Frame, encode_frame
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.frame import COMM_HPLC
from tests.plc_channel import vendor_concentrator as V
from tests.plc_channel.helpers import START

METERS = 8
HELD_BACK = 2                   # meters left out of the archive for registration to find
NEW_VERSION = 101
IMAGE = upgrade_file(NEW_VERSION, bytes(range(256)) * 3)


class Exchanges:
    """What both drivers share: sequence numbers, the module's reports and our answers to them."""

    def __init__(self, conc):
        self.conc = conc
        self.seq = 0
        self.deframer = Deframer()
        self.answers = {}
        self.reports = []
        self.raw_confirms = []

    def frame(self, step):
        self.seq = (self.seq + 1) & 0xFF
        src = V.CONCENTRATOR if step.dst is not None else None
        return self.seq, encode_frame(A.to_frame(step.unit, seq=self.seq, src=src, dst=step.dst))

    def feed(self, data, now):
        """Answers by seq; reports kept, and answered as the standard says; returns replies."""
        out = []
        self.deframer.feed(data, now)
        for f in self.deframer:
            if not isinstance(f, Frame) or f.down:
                continue
            unit = A.unit_of(f)
            if isinstance(unit, A.Confirm):
                self.raw_confirms.append(f.data)
            if not f.prm:
                self.answers[f.seq] = unit
                continue
            self.reports.append(unit)
            self.conc.on_report(unit)
            answer = (self.conc.router_answer(unit) if isinstance(unit, A.RouterRequest)
                      else A.Confirm())
            out.append(encode_frame(A.to_frame(answer, seq=f.seq, up=False)))
        return out

    def take_report(self, kind):
        for k, unit in enumerate(self.reports):
            if isinstance(unit, kind):
                return self.reports.pop(k)
        return None


def run_virtual(edition):
    env = simpy.Environment(initial_time=START)
    area = build_area(env, METERS, "hplc", 3, DEFAULT_EPOCH)
    link = UartLink(env)
    module = CarrierModule(env, area.network, link.b.send, edition=edition, boot_report=True,
                           event_scan_s=0)
    link.b.on_bytes = module.on_bytes
    addrs = [m.addr for m in area.meters]
    conc = V.Concentrator(edition, addrs[:-HELD_BACK])
    ex = Exchanges(conc)
    arrived = [env.event()]

    def on_bytes(data):
        for reply in ex.feed(data, env.now):
            link.a.send(reply)
        arrived[0].succeed()
        arrived[0] = env.event()
    link.a.on_bytes = on_bytes

    def driver():
        gen = V.script(conc, addrs[-HELD_BACK:], area.network.phase_of, IMAGE, NEW_VERSION, 900)
        value = None
        while True:
            try:
                step = gen.send(value)
            except StopIteration:
                return
            end = env.now + step.timeout
            if isinstance(step, V.Send):
                seq, raw = ex.frame(step)
                link.a.send(raw)
                while seq not in ex.answers and env.now < end:
                    yield arrived[0] | env.timeout(end - env.now)
                value = ex.answers.pop(seq, None)
            else:
                value = ex.take_report(step.kind)
                while value is None and env.now < end:
                    yield arrived[0] | env.timeout(end - env.now)
                    value = ex.take_report(step.kind)
    proc = env.process(driver())
    env.run(until=proc)
    return conc, ex


@pytest.mark.parametrize("edition", ["2013", "2019"])
def test_vendor_script_passes_against_the_module_in_virtual_time(edition):
    conc, ex = run_virtual(edition)
    steps = [s for s, _ in conc.checks]
    assert steps == ["boot", "boot", "night", "daytime", "registration", "area", "upgrade"]
    assert ex.raw_confirms and all(len(d) == 6 for d in ex.raw_confirms)   # table 9: 6 bytes


def run_pty(edition, factor):
    holder = {}

    def make_area(env_at):
        holder["area"] = build_area(env_at(START), METERS, "hplc", 3, DEFAULT_EPOCH)
        return holder["area"]
    server = ModulePortServer(make_area, COMM_HPLC, factor=factor,
                              module={"edition": edition, "boot_report": True,
                                      "event_scan_s": 0}).start()
    try:
        port = serial.Serial(server.path, 9600, parity="E", timeout=0.05)
        area = holder["area"]
        addrs = [m.addr for m in area.meters]
        conc = V.Concentrator(edition, addrs[:-HELD_BACK])
        ex = Exchanges(conc)

        def pump(until, done):
            while time.monotonic() < until and not done():
                data = port.read(512)
                for reply in ex.feed(data, time.monotonic()):
                    port.write(reply)
        gen = V.script(conc, addrs[-HELD_BACK:], area.network.phase_of, IMAGE, NEW_VERSION, 900)
        value = None
        while True:
            try:
                step = gen.send(value)
            except StopIteration:
                break
            until = time.monotonic() + step.timeout * factor + 1.0
            if isinstance(step, V.Send):
                seq, raw = ex.frame(step)
                port.write(raw)
                pump(until, lambda: seq in ex.answers)
                value = ex.answers.pop(seq, None)
            else:
                box = []
                pump(until, lambda: box.append(ex.take_report(step.kind)) or box[-1] is not None)
                value = box[-1] if box else None
        port.close()
        return conc
    finally:
        server.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("edition", ["2013", "2019"])
def test_vendor_script_passes_against_the_module_on_a_real_pty(edition):
    conc = run_pty(edition, factor=0.05)
    assert [s for s, _ in conc.checks][-1] == "upgrade" and len(conc.checks) == 7
