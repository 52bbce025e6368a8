"""The agent against the emulated module in virtual time: it reads the run mode and reads
concurrently where the module offers F1F1, keeps each meter's phase and network place (10F31,
10F21) in its store, and a meter search turns meters the archive lacks into archive candidates
(never into the archive)."""
import simpy

from edge import module_facts
from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.store import Store
from hil.agent_run import PORT
from hil.simruntime import SimRuntime
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY

START = DEFAULT_EPOCH + DAY + 300.0
QUIET = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None)


def agent_on(area, archived):
    port = PORT[area.medium]
    archive = Archive.from_dict({
        "port": [{"name": port, "url": "sim:hplc", "medium": area.medium}],
        "meter": [{"addr": m.addr[::-1].hex(), "port": port} for m in archived]})
    agent = Agent(archive, Store(":memory:", durable=False), QUIET, now=START, wall=START)
    runtime = SimRuntime(area.env, agent, {port: area.network})
    return agent, port, runtime


def test_phase_topology_and_run_mode_come_from_the_module():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 6, "hplc", 3, DEFAULT_EPOCH)
    agent, port, _ = agent_on(area, area.meters)
    env.run(until=START + 120)
    link = agent.buses[port].link
    assert link.run_mode is not None and link.concurrent and link.answer_timeout == 95.0
    nodes = module_facts.nodes(agent.store, port)
    for m in area.meters:
        n = nodes[m.addr[::-1].hex()]
        assert n["phases"] == 1 << (area.network.phase_of(m.addr) - 1)
        assert n["level"] == area.network.depth(m.addr) and n["role"] in (1, 2)


def test_a_meter_search_makes_archive_candidates_not_archive_entries():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 6, "hplc", 3, DEFAULT_EPOCH)
    agent, port, runtime = agent_on(area, area.meters[:4])
    env.run(until=START + 60)
    runtime.call(agent.search_meters, port, minutes=1)
    env.run(until=START + 200)
    found = {c["addr"] for c in module_facts.candidates(agent.store)}
    assert found == {m.addr[::-1].hex() for m in area.meters[4:]}
    assert not found & set(agent.archive.meters)
    assert agent.counters["archive_candidates"] == 2


def test_f170_gives_the_phase_level_and_signal_quality_the_module_reports():
    import random
    from edge.uplink import Uplink, UplinkSettings
    from plc_channel.topology import quality
    from protocols.gdw1376_1 import Unit
    from protocols.gdw1376_1.units import AFN_CLASS1
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 6, "hplc", 3, DEFAULT_EPOCH)
    agent, port, _ = agent_on(area, area.meters)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 1), random.Random(1))
    env.run(until=START + 120)                       # synced (10F2) and the freezes read
    link = agent.buses[port].link
    nodes = module_facts.nodes(agent.store, port)
    assert all(n["quality"] is not None for n in nodes.values())
    assert set(link.signals) == set(nodes)           # the R bytes of each meter's reply
    ask = [Unit(AFN_CLASS1, 170, pn, None, False) for pn in sorted(agent.uplink.points())]
    for u in agent.uplink._class1(None, ask):
        m = area.meters[u.pn - 1]
        addr = m.addr[::-1].hex()
        assert agent.uplink.points()[u.pn] == addr
        v = u.value
        assert v["port"] == 31 and v["relay_level"] == area.network.depth(m.addr)
        assert v["phase"] == area.network.phase_of(m.addr)
        q = quality(area.network.snr_of(m.addr))
        assert v["quality"] == q * 0x11 > 0 and v["last_ok"] == 1 and v["last_ok_at"]
        del link.signals[addr]                       # no reply heard: the 10F2 figure
        [again] = agent.uplink._class1(None, [u])
        assert again.value["quality"] == nodes[addr]["quality"] * 0x11
