"""RS-485 address search (搜表) and swap candidates on a wired port, in virtual time on the
simulated bus: the wildcard walk finds every meter, two meters sharing the low byte included
(their answers collide), a swapped meter becomes a swap candidate with both registers, and the
candidate is withdrawn when the old meter answers again."""
import simpy

from edge import rs485_search, swaps
from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.scheduler import PREPAID
from edge.store import Store
from meter_sim.faults import swapped_addr
from meter_sim.population import DEFAULT_EPOCH, build_population, derive
from meter_sim.serve.bus import MeterBus
from plc_channel.rs485 import Rs485Bus
from protocols.civil import DAY
from protocols.dlt645 import apdu
from protocols.dlt645.di import DI_ADDRESS
from protocols.dlt645.frame import decode_frame, encode_frame
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY
PORT = "rs485-1"


def _area(env, faults=()):
    meters = build_population(3, 1, DEFAULT_EPOCH, faults) + \
        build_population(2, 2, DEFAULT_EPOCH, first=101)     # ...0101, ...0102: low bytes shared
    return meters, Rs485Bus(env, meters, derive(1, "bus"))


def _agent(env, meters, bus, archived, **swap):
    archive = Archive.from_dict({"port": [{"name": PORT, "url": "sim:rs485", "medium": "rs485"}],
                                 "meter": [{"addr": m.addr[::-1].hex(), "port": PORT}
                                           for m in archived]})
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None,
                        swaps=swaps.SwapPolicy(**swap) if swap else None)
    agent = Agent(archive, Store(":memory:", durable=False), settings, now=env.now, wall=env.now)
    runtime = SimRuntime(env, agent, {PORT: bus})
    return agent, runtime


def test_the_wildcard_walk_finds_every_meter_on_the_bus():
    env = simpy.Environment(initial_time=START + 7200.0)
    meters, bus = _area(env)
    agent, runtime = _agent(env, meters, bus, meters[:2])
    found = []
    runtime.call(agent.spawn, rs485_search.search_job(agent, PORT, found.extend), None, PREPAID,
                 PORT, "rs485_search")
    env.run(until=env.now + 1800.0)
    assert found == sorted(m.addr[::-1].hex() for m in meters[2:])
    assert bus.bus.collisions >= 2
    assert agent.counters["rs485_search_probes"] > 200          # the shared bytes opened twice


def test_a_swapped_wired_meter_becomes_a_candidate_and_is_withdrawn_when_the_old_one_answers():
    env = simpy.Environment(initial_time=START)
    faults = [{"kind": "swapped", "meters": [1], "start_h": 26}]     # 02:00 on the first day
    meters, bus = _area(env, faults)
    agent, runtime = _agent(env, meters, bus, meters[:3] + meters[3:], vanish_h=12,
                            rs485_search=True)
    env.run(until=START + DAY + 7 * 3600.0)                         # the next freeze window closed
    old = meters[1].old_addr[::-1].hex()
    [c] = swaps.candidates(agent.store)
    assert (c["old_addr"], c["new_addr"]) == (old, swapped_addr(meters[1].old_addr)[::-1].hex())
    assert c["new_kwh"] is not None and c["new_kwh"] < 100.0 < c["old_kwh"]
    swaps.answered(agent, old)                                      # the old meter heard again
    assert swaps.candidates(agent.store) == []
    [w] = swaps.candidates(agent.store, withdrawn=True)
    assert w["old_addr"] == old and w["withdrawn_at"] == agent.wall


def test_a_swapped_meter_answers_its_new_address_on_the_bus_at_once():
    meters = build_population(2, 1, DEFAULT_EPOCH, [{"kind": "swapped", "meters": [0],
                                                      "start_h": 1}])
    bus = MeterBus(meters)
    new = swapped_addr(meters[0].old_addr)
    ask = encode_frame(apdu.Read(DI_ADDRESS).to_frame(new))
    assert bus.handle(ask, DEFAULT_EPOCH + 60.0)[0] is None          # not installed yet
    reply, _ = bus.handle(ask, DEFAULT_EPOCH + 7200.0)
    assert apdu.parse_reply(decode_frame(reply)).value()[1] == new[::-1].hex()
    old = encode_frame(apdu.Read(DI_ADDRESS).to_frame(meters[0].old_addr))
    assert bus.handle(old, DEFAULT_EPOCH + 7300.0)[0] is None        # the old one is gone
