"""Physical-layer figures: SNR -> bit error -> frame error per modulation, and airtime.

BER tables: AWGN curves shipped with the public OMNeT++ PRIME model noriolg/PLC-PRIME-Hybrid
(``omnet/simulations/BERDATA``), as quoted in CHANNEL.md. "<1e-6" is entered as 1e-7 and a 0 entry
means error-free from that SNR on. Between points log10(BER) is interpolated linearly in dB.
Frame error assumes independent bit errors: PER = 1 - (1 - BER)^(8 * bytes) (CHANNEL.md), so a
long frame fails more often than a short one at the same SNR.
"""
import math

BER_TABLES = {
    "dbpsk_fec": ((1, 0.29), (3, 2.6e-2), (5, 1.4e-4), (7, 1e-7), (9, 0.0)),
    "dbpsk": ((1, 0.14), (3, 6.9e-2), (5, 2.2e-2), (7, 3.7e-3), (9, 2.0e-4), (11, 1e-7), (13, 0.0)),
    "dqpsk_fec": ((1, 0.50), (3, 0.46), (5, 0.29), (7, 4.8e-2), (9, 1.4e-3), (11, 8e-6), (13, 0.0)),
    "d8psk_fec": ((1, 0.50), (3, 0.50), (5, 0.50), (7, 0.48), (9, 0.36), (11, 0.13), (13, 1.1e-2),
                  (15, 2.3e-4), (17, 0.0)),
}
# Middleton class A impulsive noise moves the DBPSK+FEC waterfall by about +20 dB (CHANNEL.md).
IMPULSE_PENALTY_DB = 20.0


def ber(table, snr_db):
    """Bit error rate at ``snr_db`` from a (dB, BER) table."""
    pts = BER_TABLES[table] if isinstance(table, str) else table
    if snr_db <= pts[0][0]:
        return min(0.5, pts[0][1])
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if snr_db <= x1:
            if y1 <= 0.0:
                # towards an error-free point: fall two decades per dB below the last figure
                return y0 * 10.0 ** (-2.0 * (snr_db - x0)) if snr_db < x1 else 0.0
            f = (snr_db - x0) / (x1 - x0)
            return 10.0 ** (math.log10(y0) + f * (math.log10(y1) - math.log10(y0)))
    return 0.0 if pts[-1][1] <= 0.0 else pts[-1][1]


def per(table, snr_db, nbytes):
    """Frame error probability of an ``nbytes`` frame at ``snr_db``."""
    b = ber(table, snr_db)
    if b <= 0.0:
        return 0.0
    if b >= 0.5:
        return 1.0
    return 1.0 - math.exp(8 * nbytes * math.log1p(-b))


def snr_for_per(table, nbytes, target):
    """Least SNR (0.1 dB steps) at which an ``nbytes`` frame fails with probability <= target."""
    s = -10.0
    while s < 60.0:
        if per(table, s, nbytes) <= target:
            return s
        s += 0.1
    return s


class Phy:
    """Figures of one carrier technology; each default names its source or says it is a guess."""

    def __init__(self, name, table, bit_rate, mac_overhead_bytes, access_s, hop_retries,
                 concurrency, budget_db, alpha_db_per_m, tap_db, cross_phase_db, max_depth,
                 discovery_s):
        self.name = name
        self.table = table                          # BER curve of the modulation in use
        self.bit_rate = bit_rate                    # bit/s on the carrier
        self.mac_overhead_bytes = mac_overhead_bytes  # MAC/network headers around the 645 frame
        self.access_s = access_s                    # channel access + acknowledgement per hop
        self.hop_retries = hop_retries              # MAC transmissions per hop before giving up
        self.concurrency = concurrency              # reads the coordinator keeps in flight
        self.budget_db = budget_db                  # transmit level minus quiet background noise
        self.alpha_db_per_m = alpha_db_per_m        # line attenuation
        self.tap_db = tap_db                        # loss at each branch junction passed
        self.cross_phase_db = cross_phase_db        # coupling loss between phases
        self.max_depth = max_depth                  # relay levels the router may build
        self.discovery_s = discovery_s              # a search for a meter without a route

    def airtime(self, nbytes):
        """Seconds one hop occupies the channel for an ``nbytes`` payload (one MAC attempt)."""
        return (nbytes + self.mac_overhead_bytes) * 8.0 / self.bit_rate + self.access_s

    def per(self, snr_db, nbytes):
        return per(self.table, snr_db, nbytes + self.mac_overhead_bytes)

    def copy(self, **changes):
        p = Phy.__new__(Phy)
        p.__dict__.update(self.__dict__)
        for k, v in changes.items():
            if k not in p.__dict__:
                raise ValueError("unknown channel parameter %r" % k)
            setattr(p, k, type(getattr(self, k))(v) if not isinstance(v, (tuple, list)) else v)
        return p


# Narrowband (CENELEC-A class): PRIME DBPSK+FEC at 21.4 kbit/s (CHANNEL.md); attenuation fitted to
# the 200 m / 109-node matrices (median -76 dB, far end ~-139 dB => ~0.55 dB/m plus junctions);
# a 62 dB budget so most meters on long feeders need relaying (CHANNEL.md). Access time, MAC
# overhead, cross-phase loss and depth limit are guesses, exposed as scenario parameters.
NBPLC = Phy("nbplc", "dbpsk_fec", bit_rate=21400.0, mac_overhead_bytes=24, access_s=0.12,
            hop_retries=3, concurrency=1, budget_db=62.0, alpha_db_per_m=0.55, tap_db=3.0,
            cross_phase_db=12.0, max_depth=7, discovery_s=20.0)
# HPLC (IEEE 1901.1 class): no public read-success tables (CHANNEL.md) - every figure here is a
# documented default: OFDM robust mode approximated by the DBPSK+FEC curve, 400 kbit/s effective,
# 15 levels, 5 concurrent reads (public CCO default), more loss per metre at 2-12 MHz but a larger
# budget, little cross-phase loss (broadband couples across phases).
HPLC = Phy("hplc", "dbpsk_fec", bit_rate=400000.0, mac_overhead_bytes=48, access_s=0.02,
           hop_retries=4, concurrency=5, budget_db=75.0, alpha_db_per_m=0.65, tap_db=2.0,
           cross_phase_db=4.0, max_depth=15, discovery_s=3.0)
PHYS = {"nbplc": NBPLC, "hplc": HPLC}
