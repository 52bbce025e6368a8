"""A transformer area on one SimPy clock: seeded meters with faults behind one medium.

``build_area`` derives every random stream from the seed by name (topology, noise, channel,
meters, faults), so the same arguments reproduce the same area and the same run.
"""
from meter_sim.population import DEFAULT_EPOCH, build_population, derive
from plc_channel.area_ident import AreaIdent, weaken
from plc_channel.carrier import CarrierNetwork
from plc_channel.noise import NoiseModel
from plc_channel.phy import PHYS
from plc_channel.rs485 import Rs485Bus
from plc_channel.topology import generate

MEDIA = ("rs485", "nbplc", "hplc")


class Area:
    """The meters, the medium in front of them (``network``) and, for carrier, the topology."""

    def __init__(self, env, medium, meters, network, seed, t0):
        self.env = env
        self.medium = medium
        self.meters = meters
        self.network = network
        self.seed = seed
        self.t0 = t0

    @property
    def topology(self):
        return getattr(self.network, "topology", None)


def build_area(env, count, medium, seed, t0=DEFAULT_EPOCH, faults=(), population=None,
               channel=None, topology=None, noise=None, rs485=None, trace=None, area_ident=None):
    """An Area of ``count`` meters on ``medium`` ('rs485', 'nbplc', 'hplc'); networks it now.
    ``area_ident``: the carrier module's area/phase identification (plc_channel.area_ident)."""
    if medium not in MEDIA:
        raise ValueError("medium must be one of %s, got %r" % (", ".join(MEDIA), medium))
    meters = build_population(count, seed, t0, faults, **(population or {}))
    if medium == "rs485":
        network = Rs485Bus(env, meters, derive(seed, "rs485"), trace=trace, **(rs485 or {}))
    else:
        phy = PHYS[medium].copy(**(channel or {}))
        topo = generate(count, derive(seed, "topology"), **(topology or {}))
        ident = AreaIdent(seed, **(area_ident or {}))
        weaken(topo, meters, ident)
        model = NoiseModel(topo, derive(seed, "noise"), **(noise or {}))
        network = CarrierNetwork(env, meters, topo, phy, derive(seed, "channel"), model, trace=trace)
        network.area_ident = ident
    network.build()
    return Area(env, medium, meters, network, seed, t0)
