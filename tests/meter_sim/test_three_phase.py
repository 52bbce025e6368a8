"""Three-phase meters through their real frames: the 645-2007 blocks 0201FF00..0206FF00 and the
698 objects 2000/2001/2004/200A carry A, B and C; each wiring fault leaves the traces a real meter
keeps (event counts and records, status words, the reverse register) and no more."""
import pytest

from protocols.civil import from_civil
from protocols.dlt645 import Read, ErrorReply
from protocols.dlt645 import di as DI
from protocols.dlt698 import OAD, GetNormal
from meter_sim.population import build_population
from tests.helpers import ask, ask698, value

T0 = from_civil(2026, 1, 1)
H = 3600.0
FAULTS = [{"kind": "phase_loss", "meters": [0], "phase": 1, "start_h": 10, "end_h": 12},
          {"kind": "reverse_polarity", "meters": [1], "phase": 2, "start_h": 10},
          {"kind": "imbalance", "meters": [2], "fraction": 0.5, "start_h": 10, "end_h": 11},
          {"kind": "reverse_sequence", "meters": [3], "start_h": 10, "end_h": 11}]


def area(**kw):
    return build_population(5, seed=3, t0=T0, faults=FAULTS, three_phase_share=1.0, **kw)


def blocks(m, t):
    return [value(m, Read(di), t) for di in (0x0201FF00, 0x0202FF00, 0x0203FF00, 0x0206FF00)]


def test_the_blocks_carry_three_phases_and_a_single_phase_meter_only_a():
    ms = area()
    u, i, p, pf = blocks(ms[4], T0 + 10.5 * H)
    assert len(u) == 3 and all(200 < v < 240 for v in u)
    assert i[0] == i[1] == i[2] > 0 and p[0] == pytest.approx(sum(p[1:]), abs=2e-4)
    assert pf == [0.95] * 4
    single = build_population(1, seed=3, t0=T0)[0]
    assert isinstance(ask(single, Read(0x02010200), T0 + 60), ErrorReply)
    assert value(single, Read(0x02010100), T0 + 60) > 200


def test_a_lost_phase_reads_no_voltage_registers_nothing_and_is_recorded():
    m = area()[0]
    t = T0 + 11 * H
    u, i, p, _ = blocks(m, t)
    assert u[1] < 1.0 and i[1] > 0.25 and p[2] == 0.0           # 失压: the load current flows
    assert value(m, Read(0x04000505), t) & 1                     # status word 5 (phase B) bit 0
    end = T0 + 13 * H
    assert value(m, Read(0x10020001), end) == 1                  # B loss-of-voltage count
    assert value(m, Read(0x10020002), end) == 120                # its total minutes
    assert value(m, Read(0x10020101), end)[:13] == "2026-01-01 10"    # meter clock (offset)
    assert value(m, Read(0x10022501), end)[:13] == "2026-01-01 12"
    assert value(m, Read(0x13020001), end) == 0                  # not a break: current flowed
    clean = build_population(5, seed=3, t0=T0, three_phase_share=1.0)[0]
    lost = value(clean, Read(0x00010000), end) - value(m, Read(0x00010000), end)
    assert lost > 0.01                                           # a third of two hours missing


def test_a_reversed_phase_runs_the_reverse_register_and_records_power_reversal():
    m = area()[1]
    t = T0 + 20 * H
    _, i, p, pf = blocks(m, t)
    assert i[2] < 0 < i[0] and p[3] < 0 and pf[3] == -0.95
    assert value(m, Read(0x00020000), T0 + 9 * H) == 0.0
    assert value(m, Read(0x00020000), t) > 0.1
    assert value(m, Read(0x1B030001), t) == 1 and value(m, Read(0x1B010001), t) == 0
    assert value(m, Read(0x04000506), t) & 1 << 6                # status word 6 (C): 潮流反向


def test_imbalance_and_reverse_sequence_are_events_and_status_word_7():
    ms = area()
    _, i, _, _ = blocks(ms[2], T0 + 10.5 * H)
    assert (max(i) - min(i)) / max(i) == pytest.approx(2 / 3, abs=0.01)
    assert value(ms[2], Read(0x17000001), T0 + 12 * H) == 1
    assert value(ms[3], Read(0x04000507), T0 + 10.5 * H) & 1
    assert value(ms[3], Read(0x04000507), T0 + 11.5 * H) == 0
    assert value(ms[3], Read(0x14000001), T0 + 12 * H) == 1
    assert isinstance(ask(ms[4], Read(0x14000101), T0 + 12 * H), ErrorReply)   # no record yet


def test_a_voltage_imbalance_skews_a_and_c_and_only_a_strong_one_is_the_meter_s_event():
    faults = [{"kind": "voltage_imbalance", "meters": [0], "fraction": 0.2, "start_h": 10,
               "end_h": 11},
              {"kind": "voltage_imbalance", "meters": [1], "fraction": 0.05, "start_h": 10}]
    ms = build_population(2, seed=3, t0=T0, faults=faults, three_phase_share=1.0)
    plain = build_population(2, seed=3, t0=T0, three_phase_share=1.0)
    t = T0 + 10.5 * H
    for m, p, f in ((ms[0], plain[0], 0.2), (ms[1], plain[1], 0.05)):
        u, base = blocks(m, t)[0], blocks(p, t)[0]
        assert u[0] == pytest.approx(base[0] * (1 + f), abs=0.1) and u[1] == base[1]
        assert u[2] == pytest.approx(base[2] * (1 - f), abs=0.1)
        assert blocks(m, t)[1] == blocks(p, t)[1]                   # the currents stay
    assert blocks(ms[0], T0 + 11.5 * H)[0] == blocks(plain[0], T0 + 11.5 * H)[0]
    # 2f / (1 + f) = 33 % passes the meter's 30 % (电压不平衡, family 16); 9.5 % does not
    assert value(ms[0], Read(0x16000001), T0 + 12 * H) == 1
    assert value(ms[0], Read(0x16000101), T0 + 12 * H).startswith("2026-01-01 10:00")
    assert value(ms[0], Read(0x16000002), T0 + 12 * H) == 60                  # minutes
    assert value(ms[1], Read(0x16000001), T0 + 12 * H) == 0


def test_698_objects_carry_the_three_phases():
    m = build_population(1, seed=3, t0=T0, three_phase_share=1.0, protocol_698_share=1.0)[0]
    t = T0 + 10 * H
    got = {}
    for oi in (0x2000, 0x2001, 0x2004, 0x200A):
        reply = ask698(m, GetNormal(OAD(oi, 2), piid=1), t)
        got[oi] = [d.value for d in reply.result.data.value]
    assert len(got[0x2000]) == 3 and len(got[0x2001]) == 3
    assert len(got[0x2004]) == 4 and got[0x2004][0] == pytest.approx(sum(got[0x2004][1:]), abs=3)
    assert got[0x200A] == [950] * 4


def test_the_same_seed_gives_the_same_three_phase_meters():
    a = [blocks(m, T0 + 10.5 * H) for m in area()]
    assert a == [blocks(m, T0 + 10.5 * H) for m in area()]
