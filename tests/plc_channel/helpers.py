"""Small hand-built carrier areas for tests (a line of boxes on one trunk)."""
import simpy

from meter_sim.population import DEFAULT_EPOCH, build_population, derive
from plc_channel.area import Area
from plc_channel.carrier import CarrierNetwork
from plc_channel.noise import NoiseModel
from plc_channel.phy import NBPLC
from plc_channel.topology import Box, Topology

START = DEFAULT_EPOCH + 86400 + 300          # 00:05 of the second day
QUIET = {"hourly_db": (0.0,) * 24, "sources_per_100_boxes": 0.0, "burst_rate_per_h": (0.0, 0.0)}


def line_area(offsets, seed=1, phy=NBPLC, start=START, noise=None, trace=None):
    """One meter per box at ``offsets`` metres along a single trunk, all on phase A."""
    env = simpy.Environment(initial_time=start)
    meters = build_population(len(offsets), seed, DEFAULT_EPOCH)
    boxes = [Box(0, 0, 0.0, float(x)) for x in offsets]
    topo = Topology(boxes, list(range(len(offsets))), [1] * len(offsets), [0.5] * len(offsets))
    model = NoiseModel(topo, derive(seed, "noise"), **(noise or QUIET))
    net = CarrierNetwork(env, meters, topo, phy, derive(seed, "channel"), model, trace=trace)
    net.build()
    return Area(env, phy.name, meters, net, seed, DEFAULT_EPOCH)


def run(env, gen):
    """Run one SimPy process to completion and return its value."""
    proc = env.process(gen)
    env.run(until=proc)
    return proc.value
