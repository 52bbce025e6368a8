"""The field faults of an archive that no longer fits the area: a swapped meter (new address,
fresh registers, same place), a phantom archive entry (never answers) and an unarchived meter
(left out of the concentrator's archive)."""
import random

import simpy

from hil.agent_run import area_archive
from meter_sim.faults import Fault, FaultyMeter, module_alive, swapped_addr
from meter_sim.population import DEFAULT_EPOCH, build_meters
from plc_channel.area import build_area
from protocols.civil import DAY
from protocols.dlt645 import Read, decode_frame, encode_frame, parse_reply

T0 = DEFAULT_EPOCH
SWAP = T0 + 5 * DAY + 8 * 3600.0


def energy(m, addr, t):
    raw = m.handle(encode_frame(Read(0x00010000).to_frame(addr)), t)
    return None if raw is None else parse_reply(decode_frame(raw)).value()[1]


def test_a_swapped_meter_answers_at_its_new_address_only_from_zero():
    fw = build_meters(1, seed=3)[0]
    m = FaultyMeter(fw, [Fault("swapped", SWAP)], random.Random(1))
    old, new = bytes(fw.addr), swapped_addr(fw.addr)
    assert new != old and m.aliases == [new]
    before = energy(m, old, SWAP - 60)
    assert before > 100 and energy(m, new, SWAP - 60) is None
    after = energy(m, new, SWAP + DAY)
    assert energy(m, old, SWAP + DAY) is None
    assert 0 < after < before                   # fresh registers: only a day's consumption
    assert m.old_addr == old and m.addr == new


def test_a_phantom_never_answers_nor_relays():
    fw = build_meters(1, seed=3)[0]
    m = FaultyMeter(fw, [Fault("phantom", T0)], random.Random(1))
    assert energy(m, fw.addr, T0 + DAY) is None and not module_alive(m, T0 + DAY)


def test_the_archive_leaves_the_unarchived_meter_out_and_the_network_knows_the_successor():
    env = simpy.Environment(initial_time=T0 + 5 * DAY)
    faults = [{"kind": "unarchived", "meters": [2]}, {"kind": "swapped", "meters": [4],
                                                       "start_h": 128}]
    area = build_area(env, 8, "hplc", 1, T0, faults)
    printed = [m.addr[::-1].hex() for m in area.meters]
    assert sorted(area_archive(area).meters) == sorted(printed[:2] + printed[3:])
    net = area.network
    new = swapped_addr(area.meters[4].addr)
    assert net.index[new] == 4 and net.phase_of(new) == net.phase_of(area.meters[4].addr)
