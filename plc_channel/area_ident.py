"""What an HPLC CCO learns by area and phase identification (台区识别, 相位识别), modelled by
its outcome: once identification has run ``ident_h`` the module knows each node's true area
and phase from the zero-crossing signature, except for a seeded share ``error`` of nodes
whose area verdict is wrong and ``phase_error`` whose phase is. Neighbouring-area meters are
heard ``neighbour_db`` weaker (another transformer, another LV network)."""
from meter_sim.faults import foreign as _foreign
from meter_sim.population import derive

DEFAULTS = {
    "ident_h": 2.0,             # identification period before the first verdicts
    "error": 0.0,               # share of nodes whose area verdict is wrong
    "phase_error": 0.0,         # share of nodes whose phase the module gets wrong
    "neighbour_db": 10.0,       # extra attenuation of a neighbouring area's meter
    "neighbour_cco": "000000009999",   # the neighbouring CCO's (master node) address, printed
}


class AreaIdent:
    """The module's identification outcome for the meters of one carrier network."""

    def __init__(self, seed, **params):
        p = dict(DEFAULTS)
        unknown = set(params) - set(p)
        if unknown:
            raise ValueError("unknown area_ident parameters: %s" % ", ".join(sorted(unknown)))
        p.update(params)
        self.seed = seed
        self.ident_s = 3600.0 * float(p["ident_h"])
        self.error = float(p["error"])
        self.phase_error = float(p["phase_error"])
        self.neighbour_db = float(p["neighbour_db"])
        self.neighbour_cco = bytes.fromhex(p["neighbour_cco"])[::-1]

    def _rng(self, what, addr):
        return derive(self.seed, "area-ident/%s/%s" % (what, bytes(addr).hex()))

    def foreign(self, meter):
        """The module's verdict on ``meter``: True when it judges it another area's."""
        truth = _foreign(meter)
        wrong = self._rng("area", meter.addr).random() < self.error
        return truth != wrong

    def phase(self, addr, true_phase):
        """The phase (1..3, 0 unknown) the module reports for ``addr``."""
        rng = self._rng("phase", addr)
        if not true_phase or rng.random() >= self.phase_error:
            return true_phase
        return rng.choice([p for p in (1, 2, 3) if p != true_phase])


def weaken(topology, meters, ident):
    """Neighbouring-area meters (``neighbour``, ``cross_area``) heard ``neighbour_db`` weaker."""
    for i, m in enumerate(meters):
        if _foreign(m):
            topology.shadow[i] += ident.neighbour_db
