"""Fuzz every decoder: mutated and random inputs per protocol (645-2007, 645-1997, 1376.2, 1376.1)
into the frame decoders, the stream deframers, the APDU / data-unit parsers and `gridedge
decode`'s formatting path (hil/decode.py, and its JSON). A parser may raise its codec's
DecodeError; a deframer, the formatting and the JSON may raise nothing. Counts every other
exception (must be 0) and prints the rate. Not part of the tests; the last line is JSON.

Inputs (698.45: the public golden frames and APDUs of tests/protocols/vectors/dlt698, framed
again, and the 698 meter's replies to them): seeds are real traffic (meter_sim firmware answering a concentrator's reads and
commands, the agent and the emulated carrier module on one simulated UART, public 1376.1
samples when ../shared/vectors has them, frames built with our encoders), mutated byte-wise
(flips, interesting bytes, inserts, deletes, splices) or in their payload and framed again with
a good length and checksum, so the parsers behind the framing see them too; plus random
payloads in good frames and plain random bytes.

Run: .venv/bin/python benchmarks/fuzz_decoders.py [--count N] [--seed S] [--protocol P]
"""
import argparse
import json
import os
import random
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from protocols.errors import DecodeError  # noqa: E402
from protocols.dlt645 import apdu, const as K, di as DI, v1997  # noqa: E402
from protocols.dlt645.deframer import Deframer as Deframer645  # noqa: E402
from protocols.dlt645.frame import Frame as Frame645, decode_frame as decode_645  # noqa: E402
from protocols.dlt645.frame import encode_frame as encode_645  # noqa: E402
from protocols.gdw1376_2 import afn as A2  # noqa: E402
from protocols.gdw1376_2.afn.base import _REGISTRY as A2_UNITS  # noqa: E402
from protocols.gdw1376_2.deframer import Deframer as Deframer3762  # noqa: E402
from protocols.gdw1376_2.frame import Frame as Frame3762, decode_frame as decode_3762  # noqa: E402
from protocols.gdw1376_2.frame import encode_frame as encode_3762  # noqa: E402
from protocols.gdw1376_1 import Tp, Unit, encode_units, parse_units  # noqa: E402
from protocols.gdw1376_1 import formats as F  # noqa: E402
from protocols.gdw1376_1.deframer import Deframer as Deframer3761  # noqa: E402
from protocols.gdw1376_1.frame import Frame as Frame3761, decode_frame as decode_3761  # noqa: E402
from protocols.gdw1376_1.frame import encode_frame as encode_3761  # noqa: E402
from protocols.gdw1376_1 import units as U  # noqa: E402
from hil.decode import explain_capture, explain_capture_3761, explain_capture_3762  # noqa: E402
from protocols import dlt698 as D698  # noqa: E402
from hil.decode698 import explain_capture as explain_capture_698  # noqa: E402

ADDR = bytes([0x07, 0, 0, 0, 0, 0])
T = 1767312000.0                        # 2026-01-02 00:00 local
INTERESTING = (0x00, 0xFF, 0xEE, 0x68, 0x16, 0xFE, 0x99, 0xAA, 0x33, 0x80, 0x7F, 0x01)
SAMPLES = os.path.join(ROOT, "..", "shared", "vectors", "gdw1376_1_samples.txt")


# --- seeds ------------------------------------------------------------------------------------
def seeds_645():
    """Requests a concentrator sends and the firmware's own replies to them, 645-2007."""
    from meter_sim.population import DEFAULT_EPOCH, build_meters
    from hil.conformance import READS
    meter = build_meters(1, 3, DEFAULT_EPOCH)[0]
    requests = [apdu.Read(d) for _, d in READS] + [
        apdu.Read(0x06100601, blocks=4, start=T - 3600), apdu.Read(0x0400FFFF),
        apdu.Read(DI.EV_POWER_DOWN + 1), apdu.Read(0x05060001), apdu.ReadFollowUp(0x06100601, 1),
        apdu.Control(0x1A, T + 600), apdu.Control(0x1C, T + 600), apdu.Control(0x2A, T + 600),
        apdu.BroadcastTime(T), apdu.Freeze(), apdu.Freeze(1, 1, 0, 0), apdu.ReadAddress(),
        apdu.ChangeBaud(0x08), apdu.DemandReset(), apdu.MeterClear(), apdu.EventClear(),
        apdu.ChangePassword(0x02, b"\x00\x00\x00", 0x04, b"\x12\x34\x56"),
        apdu.Write(DI.DI_ALARM_1, b"\x00\x20\x00\x00"), apdu.WriteAddress(ADDR)]
    out = []
    for req in requests:
        raw = encode_645(req.to_frame(meter.addr if not isinstance(req, apdu.BroadcastTime)
                                      else K.BROADCAST_ADDR), preamble=4)
        out.append(raw)
        reply = meter.handle(raw, T + 60)
        if reply:
            out.append(reply)
    # all-FF time fields: a control's valid-until, a broadcast time (645 "no value")
    ff = b"\x02\x00\x00\x00\x01\x00\x00\x00\x1a\x00" + b"\xff" * 6
    out.append(encode_645(Frame645(ADDR, 0x1C, ff)))
    out.append(encode_645(Frame645(K.BROADCAST_ADDR, 0x08, b"\xff" * 6)))
    return out


def seeds_1997():
    from meter_sim.population import DEFAULT_EPOCH, build_meters
    meter = build_meters(1, 3, DEFAULT_EPOCH, protocol_1997_share=1.0)[0]
    out = []
    for di in (0x9010, 0xB611, 0xC010, 0xC011, 0x901F, 0xB621, 0x1234):
        raw = encode_645(v1997.Read97(di).to_frame(meter.addr), preamble=2)
        out.append(raw)
        reply = meter.handle(raw, T + 60)
        if reply:
            out.append(reply)
    return out


def seeds_3762():
    """Both directions of the agent reading an HPLC area through the emulated module (the UART
    bytes as they pass), for half a simulated hour."""
    import simpy
    from edge.agent import Agent
    from edge.plan import Settings
    from edge.store import Store
    from hil.agent_run import area_archive
    from hil.simruntime import SimRuntime
    from meter_sim.population import DEFAULT_EPOCH
    from plc_channel.area import build_area
    out = []
    for medium in ("hplc", "nbplc"):
        env = simpy.Environment(initial_time=DEFAULT_EPOCH + 86400 + 300)
        area = build_area(env, 6, medium, 2, DEFAULT_EPOCH)
        agent = Agent(area_archive(area), Store(":memory:", durable=False),
                      Settings(curve_every_min=15, event_every_h=1, clock_check_h=0.1),
                      now=env.now, wall=env.now)
        runtime = SimRuntime(env, agent, {"plc": area.network})
        port = runtime.ports["plc"]
        send, deliver = port.send, agent.receive_data

        def tap_send(data, send=send):
            out.append(bytes(data))
            send(data)
        port.send = tap_send

        def tap_rx(name, data, now, wall, deliver=deliver):
            out.append(bytes(data))
            deliver(name, data, now, wall)
        agent.receive_data = tap_rx
        env.run(until=env.now + 1800)
    whole = []
    for raw in out:                      # the UART delivers pieces: keep whole frames only
        d = Deframer3762(max_buffer=4096)
        d.feed(raw)
        whole += [f.raw for f in d if not hasattr(f, "reason")]
    return sorted(set(whole))[:400] or out[:400]


def seeds_3761():
    out = []
    if os.path.exists(SAMPLES):
        for line in open(SAMPLES):
            if line.strip() and not line.startswith("#"):
                out.append(bytes.fromhex(line.split()[1]))
    tp = Tp.at(3, T, 5)
    entry = {"index": 1, "point": 1, "port_baud": 0x61, "protocol": 30, "addr": "000000000001",
             **{"pw%d" % k: 0 for k in range(6)}, "tariffs": 4, "digits": 9, "collector": None,
             "user_class": 0}
    energy = {"time": (0, 0, 2, 1, 26), "m": 4, "forward_active": [1.5, 0.5, 0.5, 0.25, 0.25]}
    units = [
        (U.AFN_CLASS3, True, [Unit(U.AFN_CLASS3, 1, 0, {"ec1": 3, "ec2": 0, "pm": 0, "pn": 2,
                                                     "events": [{"erc": 64, "data": b"\x01\x00"
                                                                 + b"\x00\x00\x02\x01\x26" * 2},
                                                                {"erc": 65, "data": b"\x01\x00"
                                                                 + b"\x00\x00\x02\x01\x26\x01\x00"}
                                                                ]}, True)]),
        (U.AFN_CLASS3, False, [Unit(U.AFN_CLASS3, 1, 0, {"pm": 0, "pn": 2}, False)]),
        (U.AFN_SET, False, [Unit(U.AFN_SET, 10, 0, {"items": [entry]}, False)]),
        (U.AFN_QUERY, True, [Unit(U.AFN_QUERY, 10, 0, {"items": [entry]}, True)]),
        (U.AFN_CLASS2, True, [Unit(U.AFN_CLASS2, 161, 1, dict(energy, td=(2, 1, 26)), True)]),
        (U.AFN_CLASS2, True, [Unit(U.AFN_CLASS2, 101, 1, {"start": (0, 0, 2, 1, 26),
                                                          "density": 1,
                                                          "values": [1.0, None, 2.5]}, True)]),
        (U.AFN_CLASS1, True, [Unit(U.AFN_CLASS1, 129, 1, energy, True)]),
        (U.AFN_CONTROL, False, [Unit(U.AFN_CONTROL, 1, 1, {"limit_alarm": 0x21}, False)]),
        (U.AFN_FORWARD, False, [Unit(U.AFN_FORWARD, 1, 0, {
            "port": 1, "control": 0x6B, "frame_timeout": 10, "byte_timeout": 1,
            "content": encode_645(apdu.Control(0x1A, T + 600).to_frame(ADDR))}, False)]),
        (U.AFN_FORWARD, True, [Unit(U.AFN_FORWARD, 1, 0, {
            "port": 1, "content": encode_645(apdu.ReadReply(0x00010000, b"\x00\x01\x00\x00")
                                             .to_frame(ADDR))}, True)]),
        (U.AFN_CONFIRM, True, [Unit(U.AFN_CONFIRM, 3, 0, {"afn": 4, "items": [([1], [10], 0)]},
                                    True)]),
    ]
    for afn, up, us in units:
        frame = Frame3761(afn, encode_units(us), up=up, region="0171", terminal=2082,
                          tp=None if up else tp, pw=b"\x00" * 16 if not up and afn in (
                              U.AFN_SET, U.AFN_CONTROL, U.AFN_FORWARD) else None)
        out.append(encode_3761(frame))
    return out


# --- mutation ---------------------------------------------------------------------------------
def mutate_bytes(rng, data, pool):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[min(i, len(b) - 1)] = rng.choice(INTERESTING)
        elif op == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and b:
            del b[i:i + rng.randint(1, 8)]
        elif op == 4 and b:
            del b[rng.randrange(len(b)):]
        elif op == 5:
            other = rng.choice(pool)
            j = rng.randrange(len(other) + 1)
            b[i:] = other[j:]
        elif op == 6 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 16)]
        elif b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
    return bytes(b)


def random_bytes(rng, most=96):
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, most)))


class Target:
    """One protocol: seeds, how to put a payload back in a good frame, and the entry points."""

    def __init__(self, name, seeds, reframe, random_frame, entries):
        self.name = name
        self.seeds = seeds
        self.reframe = reframe
        self.random_frame = random_frame
        self.entries = entries          # (name, fn(raw, rng), total: may raise nothing at all)

    def input(self, rng):
        r = rng.random()
        seed = rng.choice(self.seeds)
        if r < 0.4:
            return mutate_bytes(rng, seed, self.seeds)
        if r < 0.8:
            try:
                return self.reframe(rng, seed)
            except Exception:           # an encoder refusing a mutated field: use the bytes
                return mutate_bytes(rng, seed, self.seeds)
        if r < 0.92:
            try:
                return self.random_frame(rng)
            except Exception:
                return random_bytes(rng)
        return random_bytes(rng)


def _deframe(cls, raw, rng):
    d = cls(max_buffer=rng.choice((64, 255, 2048)))
    t, i = 0.0, 0
    while i < len(raw):
        n = rng.randint(1, 24)
        d.feed(raw[i:i + n], t)
        t += rng.choice((0.001, 0.01, 0.6))
        i += n
        list(d)
    d.flush()
    list(d)


def _json(items):
    json.dumps(items, ensure_ascii=False)
    for item in items:                   # the text path prints every value
        for key, value in item.items():
            "  %-13s %s" % (key, value)


# 645-2007 -------------------------------------------------------------------------------------
def reframe_645(rng, seed, protocol=2007):
    frame = decode_645(seed)
    data = mutate_bytes(rng, frame.data, [frame.data]) if frame.data or rng.random() < 0.5 \
        else random_bytes(rng, 24)
    ctrl = frame.ctrl if rng.random() < 0.8 else rng.randrange(256)
    return encode_645(Frame645(frame.addr, ctrl, data[:200]), preamble=rng.randint(0, 4))


def random_645(rng):
    ctrl = rng.choice((0x11, 0x91, 0xB1, 0xD1, 0x12, 0x92, 0x1C, 0x9C, 0x08, 0x14, 0x94,
                       0x01, 0x81, 0xC1, 0x16, 0x13, 0x93, rng.randrange(256)))
    return encode_645(Frame645(rng.choice((ADDR, K.BROADCAST_ADDR, b"\xaa" * 6)), ctrl,
                               random_bytes(rng, 40)))


def parse_645(raw, rng):
    try:
        frame = decode_645(raw)
    except DecodeError:
        return
    for parse in (apdu.parse_request, apdu.parse_reply):
        try:
            msg = parse(frame)
        except DecodeError:
            continue
        if isinstance(msg, apdu.ReadReply) and not msg.more:
            try:
                msg.value()
            except DecodeError:
                pass
    try:
        DI.decode_value(rng.choice((0x00010000, 0x0001FF00, 0x05060001, 0x06100601,
                                    DI.EV_POWER_DOWN + 1, DI.DI_TIME, DI.DI_STATUS_3)),
                        frame.data[4:])
    except DecodeError:
        pass


def parse_1997(raw, rng):
    try:
        frame = decode_645(raw)
    except DecodeError:
        return
    for parse in (v1997.parse_request_97, v1997.parse_reply_97):
        try:
            msg = parse(frame)
        except DecodeError:
            continue
        if isinstance(msg, v1997.ReadReply97):
            try:
                msg.value()
            except DecodeError:
                pass


# 1376.2 ---------------------------------------------------------------------------------------
def reframe_3762(rng, seed):
    f = decode_3762(seed)
    data = mutate_bytes(rng, f.data, [f.data]) if f.data else random_bytes(rng, 24)
    afn, fn = (f.afn, f.fn) if rng.random() < 0.85 else rng.choice(sorted(A2_UNITS))[:2]
    return encode_3762(Frame3762(afn, fn, data[:400], f.down, f.prm, f.comm, f.info, f.src,
                                 f.relays if f.down else (), f.dst))


def random_3762(rng):
    afn, fn, up = rng.choice(sorted(A2_UNITS))
    addressed = rng.random() < 0.5
    return encode_3762(Frame3762(afn, fn, random_bytes(rng, 48), down=not up,
                                 prm=rng.random() < 0.5, src=ADDR if addressed else None,
                                 dst=ADDR if addressed else None))


def parse_3762(raw, rng):
    try:
        frame = decode_3762(raw)
    except DecodeError:
        return
    try:
        A2.unit_of(frame)
    except DecodeError:
        pass


# 1376.1 ---------------------------------------------------------------------------------------
LAYOUT_KEYS = sorted(U.LAYOUTS)


def reframe_3761(rng, seed):
    f = decode_3761(seed)
    data = mutate_bytes(rng, f.data, [f.data]) if f.data else random_bytes(rng, 24)
    f.data = data[:900]
    if rng.random() < 0.15:
        f.afn, f.up = rng.choice(LAYOUT_KEYS)[::2]
        f.pw = b"\x00" * 16 if f.has_pw else None
        f.acd, f.ec = False, None
    return encode_3761(f)


def random_3761(rng):
    afn, fn, up = rng.choice(LAYOUT_KEYS)
    data = U.encode_da([rng.choice((0, 1, 2, 9))]) + U.encode_dt([fn]) + random_bytes(rng, 60)
    f = Frame3761(afn, data, up=up, region="0171", terminal=2082,
                  tp=None if up or rng.random() < 0.3 else Tp.at(1, T, 5))
    f.pw = b"\x00" * 16 if f.has_pw else None
    return encode_3761(f)


def parse_3761(raw, rng):
    try:
        frame = decode_3761(raw)
    except DecodeError:
        frame = None
    if frame is not None:
        for up in (frame.up, not frame.up):
            try:
                parse_units(frame.afn, frame.data, up)
            except DecodeError:
                pass
    afn, _, up = rng.choice(LAYOUT_KEYS)
    try:
        parse_units(afn, raw[rng.randrange(len(raw) + 1):], up)
    except DecodeError:
        pass
    fmt = rng.choice(sorted(F.NUMBERS) + sorted(F.TIMES) + ["A12"])
    try:
        F.decode(fmt, raw[:F.size(fmt)])
    except DecodeError:
        pass


# 698.45 ---------------------------------------------------------------------------------------
def seeds_698():
    """The public golden frames, the golden APDUs in client frames, the 698 meter's replies."""
    from meter_sim.population import DEFAULT_EPOCH, build_meters
    from tests.conftest import tomllib
    here = os.path.join(ROOT, "tests", "protocols", "vectors", "dlt698")
    with open(os.path.join(here, "frames.toml"), "rb") as f:
        out = [bytes.fromhex(v["hex"]) for v in tomllib.load(f)["frame"]]
    with open(os.path.join(here, "apdus.toml"), "rb") as f:
        apdus = [bytes.fromhex(v["hex"]) for v in tomllib.load(f)["apdu"]]
    meter = build_meters(1, 3, DEFAULT_EPOCH, protocol_698_share=1.0)[0]
    addr = meter.addr           # wire order, as the 645 side keeps it
    for data in apdus:
        raw = D698.encode_frame(D698.Frame(D698.control(False, True), addr, 0x10, data))
        out.append(raw)
        reply = meter.handle(raw, T + 60)
        if reply:
            out.append(reply)
    return out


def reframe_698(rng, seed):
    f = D698.decode_frame(seed)
    f.data = mutate_bytes(rng, f.data, [f.data])[:600] if f.data else random_bytes(rng, 48)
    return D698.encode_frame(f)


def random_698(rng):
    ctrl = D698.control(rng.random() < 0.5, rng.random() < 0.5, segmented=rng.random() < 0.1)
    data = bytes([rng.choice((0x01, 0x02, 0x05, 0x06, 0x07, 0x08, 0x10, 0x81, 0x85, 0x86, 0x87,
                              0x88, 0x90, 0xEE))]) + random_bytes(rng, 64)
    return D698.encode_frame(D698.Frame(ctrl, ADDR, rng.randrange(256), data))


def parse_698(raw, rng):
    try:
        frame = D698.decode_frame(raw)
    except DecodeError:
        frame = None
    if frame is not None and not frame.segmented:
        try:
            D698.decode_apdu(frame.data)
        except DecodeError:
            pass
    try:
        D698.decode_data(raw[rng.randrange(len(raw) + 1):])
    except DecodeError:
        pass


def targets():
    s645, s97, s3762, s3761 = seeds_645(), seeds_1997(), seeds_3762(), seeds_3761()
    s698 = seeds_698()
    return [
        Target("645-2007", s645, reframe_645, random_645, [
            ("decode_frame+apdu", parse_645, False),
            ("deframer", lambda raw, rng: _deframe(Deframer645, raw, rng), True),
            ("gridedge decode", lambda raw, rng: _json(explain_capture(raw, 2007)), True)]),
        Target("645-1997", s97, reframe_645, random_645, [
            ("decode_frame+apdu97", parse_1997, False),
            ("gridedge decode --protocol 1997",
             lambda raw, rng: _json(explain_capture(raw, 1997)), True)]),
        Target("1376.2", s3762, reframe_3762, random_3762, [
            ("decode_frame+unit_of", parse_3762, False),
            ("deframer", lambda raw, rng: _deframe(Deframer3762, raw, rng), True),
            ("gridedge decode --protocol 1376.2",
             lambda raw, rng: _json(explain_capture_3762(raw)), True)]),
        Target("1376.1", s3761, reframe_3761, random_3761, [
            ("decode_frame+parse_units+formats", parse_3761, False),
            ("deframer", lambda raw, rng: _deframe(Deframer3761, raw, rng), True),
            ("gridedge decode --protocol 1376.1",
             lambda raw, rng: _json(explain_capture_3761(raw)), True)]),
        Target("698.45", s698, reframe_698, random_698, [
            ("decode_frame+decode_apdu+decode_data", parse_698, False),
            ("deframer", lambda raw, rng: _deframe(D698.Deframer, raw, rng), True),
            ("gridedge decode --protocol 698",
             lambda raw, rng: _json(explain_capture_698(raw)), True)]),
    ]


def fuzz(target, count, seed, keep=5):
    """Run ``count`` inputs through every entry point of ``target``; its figures."""
    rng = random.Random("%s/%s" % (seed, target.name))
    failures, examples = {}, []
    start = time.perf_counter()
    for _ in range(count):
        raw = target.input(rng)
        for name, fn, total in target.entries:
            try:
                fn(raw, rng)
            except DecodeError as exc:
                if not total:
                    continue
                _fail(failures, examples, keep, name, raw, exc)
            except Exception as exc:
                _fail(failures, examples, keep, name, raw, exc)
    seconds = time.perf_counter() - start
    return {"protocol": target.name, "inputs": count, "seeds": len(target.seeds),
            "entry_points": [e[0] for e in target.entries], "seconds": round(seconds, 1),
            "inputs_per_s": round(count / seconds) if seconds else None,
            "non_decode_errors": sum(failures.values()), "by_kind": failures,
            "examples": examples}


def _fail(failures, examples, keep, name, raw, exc):
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(ROOT)] or frames
    where = ours[-1]
    kind = "%s: %s at %s:%d" % (name, type(exc).__name__, os.path.relpath(where.filename, ROOT),
                                where.lineno)
    failures[kind] = failures.get(kind, 0) + 1
    if failures[kind] == 1 and len(examples) < keep:
        examples.append({"kind": kind, "error": str(exc)[:200], "input": raw.hex()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000, help="inputs per protocol")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--protocol", action="append", help="only these (645-2007, 645-1997, "
                    "1376.2, 1376.1, 698.45)")
    args = ap.parse_args()
    import logging
    logging.disable(logging.CRITICAL)
    results = []
    for target in targets():
        if args.protocol and target.name not in args.protocol:
            continue
        r = fuzz(target, args.count, args.seed)
        results.append(r)
        print("%-8s %9d inputs  %7s inputs/s  %d non-DecodeError exceptions%s" % (
            r["protocol"], r["inputs"], r["inputs_per_s"], r["non_decode_errors"],
            "".join("\n    %s x%d" % kv for kv in sorted(r["by_kind"].items()))), flush=True)
    print(json.dumps({"count_per_protocol": args.count, "seed": args.seed,
                      "non_decode_errors": sum(r["non_decode_errors"] for r in results),
                      "protocols": {r["protocol"]: {k: r[k] for k in (
                          "inputs", "inputs_per_s", "seconds", "seeds", "non_decode_errors",
                          "by_kind", "examples")} for r in results}}))


if __name__ == "__main__":
    main()
