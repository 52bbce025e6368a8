"""A seeded low-voltage area: feeders from the transformer, laterals, meter boxes, meters.

Meters sit in boxes (表箱) along trunks and laterals; a box is a point on the tree. Distances are
tree distances, so ``|r1 - r2|`` (distances to the transformer) bounds every pair from below,
which keeps neighbour searches cheap for 10 000 meters. Link attenuation is
``alpha * metres + tap * junctions + shadow_i + shadow_j (+ cross-phase loss)``; the per-meter
shadowing stands for coupling and module spread (neighbours differ by 1.1-1.4 dB, CHANNEL.md).
"""
import bisect
import math

ROOT = -1               # the coordinator (concentrator's carrier module) at the transformer
DEFAULTS = {
    "feeders": 0,               # outgoing LV feeders (0: one per 250 meters, 1..8)
    "trunk_m": (120.0, 350.0),  # trunk length range (CHANNEL.md: 200 m and 400 m feeders),
                                # shortened for small areas (scale sqrt(meters / 250), at most 1)
    "lateral_every_m": (20.0, 60.0),
    "lateral_m": (10.0, 90.0),
    "box_meters": (1, 12),      # meters per box
    "shadow_db": 2.5,           # sigma of per-meter coupling spread
}


class Box:
    """A meter box: on ``feeder``, on lateral ``branch`` (0 = trunk) joining the trunk at
    ``attach`` metres, ``offset`` metres along it."""

    __slots__ = ("feeder", "branch", "attach", "offset", "r", "junction", "leg")

    def __init__(self, feeder, branch, attach, offset):
        self.feeder = feeder
        self.branch = branch
        self.attach = attach
        self.offset = offset
        self.r = attach + offset
        self.junction = attach if branch else offset    # where its path meets the trunk
        self.leg = offset if branch else 0.0            # metres from there to the box

    def junctions(self):
        return 1 if self.branch else 0


class Topology:
    """Boxes, meters (index -> box, phase 1..3, shadow dB) and tree distances."""

    def __init__(self, boxes, box_of, phase, shadow):
        self.boxes = boxes
        self.box_of = box_of
        self.phase = phase
        self.shadow = shadow
        self.members = [[] for _ in boxes]
        for i, b in enumerate(box_of):
            self.members[b].append(i)
        self._order = sorted(range(len(boxes)), key=lambda b: boxes[b].r)
        self._rs = [boxes[b].r for b in self._order]

    @property
    def size(self):
        return len(self.box_of)

    def box_distance(self, b1, b2):
        """(metres, junctions) between two boxes; ``ROOT`` is the transformer."""
        if b1 == ROOT and b2 == ROOT:
            return 0.0, 0
        if b1 == ROOT or b2 == ROOT:
            b = self.boxes[b2 if b1 == ROOT else b1]
            return b.r, b.junctions()
        x, y = self.boxes[b1], self.boxes[b2]
        if x.feeder != y.feeder:
            return x.r + y.r, x.junctions() + y.junctions()
        if x.branch == y.branch:
            return abs(x.offset - y.offset), 0
        return x.leg + abs(x.junction - y.junction) + y.leg, x.junctions() + y.junctions()

    def box_att(self, b1, b2, phy):
        metres, taps = self.box_distance(b1, b2)
        return phy.alpha_db_per_m * metres + phy.tap_db * taps

    def attenuation(self, i, j, phy):
        """Static attenuation (dB) between meters ``i`` and ``j`` (either may be ``ROOT``)."""
        bi = ROOT if i == ROOT else self.box_of[i]
        bj = ROOT if j == ROOT else self.box_of[j]
        a = self.box_att(bi, bj, phy)
        if i != ROOT:
            a += self.shadow[i]
        if j != ROOT:
            a += self.shadow[j]
        if i != ROOT and j != ROOT and self.phase[i] != self.phase[j]:
            a += phy.cross_phase_db
        return a

    def boxes_near(self, b, metres):
        """Boxes whose tree distance to ``b`` may be within ``metres`` (a superset)."""
        r = 0.0 if b == ROOT else self.boxes[b].r
        lo = bisect.bisect_left(self._rs, r - metres)
        hi = bisect.bisect_right(self._rs, r + metres)
        return self._order[lo:hi]


def generate(count, rng, **params):
    """A topology of ``count`` meters drawn from ``rng`` (a ``random.Random``)."""
    p = dict(DEFAULTS)
    unknown = set(params) - set(p)
    if unknown:
        raise ValueError("unknown topology parameters: %s" % ", ".join(sorted(unknown)))
    p.update(params)
    feeders = int(p["feeders"]) or max(1, min(8, int(round(count / 250.0))))
    segments = []       # (feeder, branch, attach, length)
    scale = min(1.0, math.sqrt(count / 250.0))
    for f in range(feeders):
        trunk = rng.uniform(*p["trunk_m"]) * scale
        segments.append((f, 0, 0.0, trunk))
        at = rng.uniform(*p["lateral_every_m"])
        branch = 1
        while at < trunk:
            segments.append((f, branch, at, rng.uniform(*p["lateral_m"])))
            branch += 1
            at += rng.uniform(*p["lateral_every_m"])
    lo, hi = p["box_meters"]
    sizes = []
    while sum(sizes) < count:
        sizes.append(rng.randint(int(lo), int(hi)))
    sizes[-1] -= sum(sizes) - count
    total = sum(s[3] for s in segments)
    cum = []
    acc = 0.0
    for s in segments:
        acc += s[3]
        cum.append(acc)
    boxes, box_of, phase, shadow = [], [], [], []
    for n in sizes:
        k = min(bisect.bisect_left(cum, rng.uniform(0.0, total)), len(segments) - 1)
        f, br, attach, length = segments[k]
        boxes.append(Box(f, br, attach, rng.uniform(0.0, length)))
        for _ in range(n):
            box_of.append(len(boxes) - 1)
            phase.append(rng.randint(1, 3))
            shadow.append(abs(rng.gauss(0.0, p["shadow_db"])) + 1.0)
    return Topology(boxes, box_of, phase, shadow)


def quality(snr_db):
    """1376.2 signal quality 0..15 from an SNR (0 dB -> 0, 30 dB and above -> 15)."""
    return max(0, min(15, int(math.floor(snr_db / 2.0))))
