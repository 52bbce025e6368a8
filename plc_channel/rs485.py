"""An RS-485 bus on a SimPy clock: half duplex, one frame in flight, airtime from the bits.

Each byte is 11 bits on the wire (start, 8 data, even parity, stop: 8E1, DL/T 645 §5.2), so
airtime = bytes * 11 / baud including the FE wake-up preamble. The meter answers after its reply
delay; the master waits at most ``response_timeout`` (645 allows 20..500 ms, §5.3.3) and the reply
must not pause longer than ``byte_gap`` between bytes. Optional noise flips bits in bytes.
Multi-drop semantics (silence for others, wildcard collisions) come from ``MeterBus``.
A meter wired A/B swapped (fault ``ab_swapped``) drives the pair with inverted polarity: in this
model it still frames the request, but every bit of its reply reaches the master inverted.
"""
import simpy

from meter_sim.faults import firmware, module_alive, wiring_inverted
from meter_sim.serve.bus import MeterBus
from plc_channel.medium import Delivery, Stats

BITS_PER_BYTE = 11
RESPONSE_TIMEOUT_S = 0.5
CHUNK = 16                      # reply bytes handed over at once (a UART driver's FIFO)


def airtime(nbytes, baud):
    return nbytes * BITS_PER_BYTE / float(baud)


class Rs485Bus:
    """Meters on one RS-485 pair, reached one frame at a time."""

    def __init__(self, env, meters, rng, baud=2400, byte_error=0.0,
                 response_timeout=RESPONSE_TIMEOUT_S, trace=None):
        self.env = env
        self.bus = MeterBus(meters)
        self.rng = rng
        self.baud = baud
        self.byte_error = byte_error
        self.response_timeout = response_timeout
        self.line = simpy.PriorityResource(env, capacity=1)
        self.trace = trace
        self.stats = Stats()
        self.index = {m.addr: i for i, m in enumerate(self.bus.meters)}
        self.concurrency = 1

    def build(self):
        """Nothing to network on a wire."""

    @property
    def meters(self):
        return self.bus.meters

    def airtime(self, nbytes):
        return airtime(nbytes, self.baud)

    def depth(self, addr):
        return 0

    def phase_of(self, addr):
        return 0

    def snr_of(self, addr):
        return None

    def min_cost(self, addr, request_bytes, reply_bytes):
        """Least time one read of ``addr`` can take: both frames at the line rate plus the
        meter's own reply delay (KPIS.md channel lower bound)."""
        meter = firmware(self.bus.meters[self.index[addr]])
        return airtime(request_bytes + reply_bytes, self.baud) + meter.reply_delay

    def reachable(self, i, t):
        return module_alive(self.bus.meters[i], t)

    def _noisy(self, data):
        if not self.byte_error:
            return data
        out = bytearray(data)
        for k in range(len(out)):
            if self.rng.random() < self.byte_error:
                out[k] ^= 1 << self.rng.randrange(8)
        return bytes(out)

    def _wiring(self, request, reply, t):
        """The reply as the master's receiver sees it: inverted from a meter wired A/B swapped."""
        meter = self.bus.addressed(request)
        if meter is not None and wiring_inverted(meter, t):
            return bytes(b ^ 0xFF for b in reply)
        return reply

    def transact(self, addr, request, priority=0, on_bytes=None, baud=None):
        """SimPy process: send ``request`` at ``baud`` (default the bus rate), wait for the
        answer; returns a Delivery. Only meters set to that rate understand it.

        ``on_bytes(chunk)``, when given, receives the reply as it arrives on the line, in
        chunks of at most ``CHUNK`` bytes, so a byte-stream reader sees a frame still arriving."""
        baud = baud or self.baud
        env = self.env
        start = env.now
        with self.line.request(priority=priority) as slot:
            yield slot
            d = Delivery("ok", depth=0, tx=1)
            t_req = airtime(len(request), baud)
            yield env.timeout(t_req)
            d.airtime += t_req
            heard = self._noisy(request)
            reply, delay = self.bus.handle(heard, env.now, baud)
            if reply is not None:
                reply = self._wiring(heard, reply, env.now)
            if reply is None or delay > self.response_timeout:
                yield env.timeout(self.response_timeout)
                d.reason = "meter silent"
            else:
                yield env.timeout(delay)
                reply = self._noisy(reply)
                for k in range(0, len(reply), CHUNK):
                    chunk = reply[k:k + CHUNK]
                    t_chunk = airtime(len(chunk), baud)
                    yield env.timeout(t_chunk)
                    d.airtime += t_chunk
                    if on_bytes is not None:
                        on_bytes(chunk)
                d.reply = reply
        d.started = start
        d.ended = env.now
        self.stats.add(d, self.env.now)
        if self.trace is not None:
            self.trace.append((round(env.now, 6), "delivery", (addr or b"").hex(), d.reason, 0))
        return d
