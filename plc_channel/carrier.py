"""A carrier network on a SimPy clock: coordinator, relays, per-hop frame errors, concurrency.

``transact(addr, request)`` is a SimPy process: it takes one of the coordinator's read slots (one
for narrowband, ``phy.concurrency`` for HPLC), walks the route hop by hop (each hop: MAC attempts
costing airtime; success drawn from the frame error at the link's SNR now, with impulsive bursts),
lets the meter answer after its reply delay, and walks back. A relay that never acknowledges is
reported to the router, which repairs the routes below it.
"""
import simpy

from meter_sim.faults import firmware, module_alive
from protocols.dlt645.deframer import Deframer
from protocols.dlt698.deframer import Deframer as Deframer698

from plc_channel.medium import Delivery, Stats
from plc_channel.noise import NoiseModel
from plc_channel.phy import IMPULSE_PENALTY_DB
from plc_channel.routing import Router
from plc_channel.topology import ROOT

STA_TIMEOUT_S = 2.0     # a meter-side module waits this long for its meter on the local UART
REPAIR_AFTER = 2        # reads in a row that die at the same relay before its subtree is re-routed


class CarrierNetwork:
    """Meters (firmware or ``FaultyMeter``) behind a coordinator on one carrier phy."""

    def __init__(self, env, meters, topology, phy, rng, noise=None, margin_db=3.0, trace=None):
        self.env = env
        self.meters = list(meters)
        self.index = {m.addr: i for i, m in enumerate(self.meters)}
        for i, m in enumerate(self.meters):       # a swapped meter's successor, same place
            self.index.update((a, i) for a in getattr(m, "aliases", ()))
        self.topology = topology
        self.phy = phy
        self.rng = rng
        self.noise = noise if noise is not None else NoiseModel(topology, rng)
        self.router = Router(topology, phy, self.noise, self._alive, margin_db)
        self.concurrency = phy.concurrency
        self.slots = simpy.PriorityResource(env, capacity=phy.concurrency)
        self.trace = trace
        self.stats = Stats()
        self.last_snr = {}
        self._relay_failures = {}

    def _alive(self, i, t):
        return module_alive(self.meters[i], t)

    def build(self):
        """Network the area now (call at a quiet hour)."""
        self.router.build(self.env.now)

    def airtime(self, nbytes):
        """Seconds one hop of an ``nbytes`` frame occupies the channel."""
        return self.phy.airtime(nbytes)

    def depth(self, addr):
        """Relay level of ``addr`` (1 = heard directly, 0 = not in the network)."""
        i = self.index.get(addr)
        return 0 if i is None else self.router.level[i]

    def phase_of(self, addr):
        i = self.index.get(addr)
        return 0 if i is None else self.topology.phase[i]

    def snr_of(self, addr):
        """SNR of the last frame heard from ``addr`` (None before the first)."""
        return self.last_snr.get(self.index.get(addr))

    def min_cost(self, addr, request_bytes, reply_bytes):
        """Least time one read of ``addr`` can take: one clean attempt per hop both ways plus
        the meter's own reply delay (KPIS.md channel lower bound)."""
        hops = max(self.depth(addr), 1)
        air = self.phy.airtime(request_bytes) + self.phy.airtime(reply_bytes)
        return hops * air + firmware(self.meters[self.index[addr]]).reply_delay

    def reachable(self, i, t):
        """Whether meter ``i`` is powered, its module works and it has a route."""
        return self._alive(i, t) and self.router.parent[i] is not None

    def _log(self, *what):
        if self.trace is not None:
            self.trace.append((round(self.env.now, 6),) + what)

    def transact(self, addr, request, priority=0):
        """SimPy process: deliver ``request`` to meter ``addr``; returns a Delivery."""
        start = self.env.now
        with self.slots.request(priority=priority) as slot:
            yield slot
            d = yield from self._deliver(self.index.get(addr), request)
        d.started = start
        d.ended = self.env.now
        self.stats.add(d, self.env.now)
        self._log("delivery", addr.hex(), d.reason, d.depth)
        return d

    def _deliver(self, i, request):
        if i is None:
            return Delivery("unreachable")
        router = self.router
        path = router.path(i)
        if path is None:
            yield self.env.timeout(self.phy.discovery_s)    # the coordinator searches for it
            if router.rejoin(i, self.env.now):
                path = router.path(i)
        if path is None:
            return Delivery("unreachable")
        d = Delivery("ok", depth=len(path) - 1)
        for a, b in zip(path, path[1:]):
            if not (yield from self._hop(a, b, len(request), d)):
                self._hop_failed(b, i)
                d.reason = "hop failed"
                return d
        reply, delay = answer_frames(self.meters[i], request, self.env.now)
        if reply is None or delay > STA_TIMEOUT_S:
            yield self.env.timeout(STA_TIMEOUT_S)
            d.reason = "meter silent"
            return d
        yield self.env.timeout(delay)
        for a, b in zip(path[::-1], path[-2::-1]):
            if not (yield from self._hop(a, b, len(reply), d)):
                d.reason = "hop failed"
                return d
        d.reply = reply
        return d

    def _hop(self, a, b, nbytes, d):
        """MAC attempts of one hop ``a -> b``; True when ``b`` received the frame."""
        phy, env = self.phy, self.env
        air = phy.airtime(nbytes)
        for _ in range(phy.hop_retries):
            yield env.timeout(air)
            d.airtime += air
            d.tx += 1
            if b != ROOT and not self._alive(b, env.now):
                continue
            snr = self.router.snr(a, b, env.now)
            if self.rng.random() < self.noise.burst_probability(env.now, air):
                snr -= IMPULSE_PENALTY_DB
            ok = self.rng.random() >= phy.per(snr, nbytes)
            self._log("hop", a, b, nbytes, ok)
            if ok:
                if b != ROOT:
                    self.last_snr[b] = snr
                    self._relay_failures.pop(b, None)
                return True
        return False

    def _hop_failed(self, b, target):
        """A relay that stops acknowledging is taken out and the routes through it repaired."""
        if b == target or b == ROOT:
            return
        n = self._relay_failures.get(b, 0) + 1
        self._relay_failures[b] = n
        if n >= REPAIR_AFTER:
            del self._relay_failures[b]
            self._log("repair", b)
            self.router.mark_down(b, self.env.now)


def answer_frames(meter, request, t):
    """(replies, delay): the meter-side module hands each 645 frame of ``request`` (698 frames
    to a 698 meter, protocol type 03) to its meter in turn (a concentrator may pack several
    into one carrier message) and returns the answers back to back; None when the meter
    answered none."""
    deframer = Deframer698() if firmware(meter).front_end is not None else Deframer()
    deframer.feed(request, t)
    replies = []
    delay = 0.0
    for item in deframer:
        if not hasattr(item, "addr"):
            continue
        reply = meter.handle_frame(item, t)
        if reply is not None:
            replies.append(reply)
            delay += meter.reply_delay
    if not replies:
        return None, meter.reply_delay
    return b"".join(replies), delay
