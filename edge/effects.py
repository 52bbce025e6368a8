"""What agent jobs yield: small requests the agent core carries out, in sim and on a board alike.

A job is a generator; it yields one of these and is resumed with the answer (ARCHITECTURE.md
principle 2). Times are the core's ``now`` seconds.
"""


class Transact:
    """Exchange ``requests`` (645 APDUs, coalesced into one job on the meter's bus) with the job's
    meter, not before ``not_before`` (or from ``early`` if the bus would idle; ``humble``: only if
    no other work at all is due; ``meter``: another address than the job's, such as a wildcard
    probe of an address search); resumes with an ``edge.links.Result``."""

    __slots__ = ("requests", "not_before", "early", "humble", "meter")

    def __init__(self, requests, not_before=0.0, early=None, humble=False, meter=None):
        self.requests = list(requests)
        self.not_before = not_before
        self.early = early
        self.humble = humble
        self.meter = meter


class Broadcast:
    """Send one 645 broadcast ``request`` on ``port`` at ``baud`` (None: the port's rate; no
    reply); resumes with the link's Result."""

    __slots__ = ("port", "request", "baud")

    def __init__(self, port, request, baud=None):
        self.port = port
        self.request = request
        self.baud = baud


class ModuleCall:
    """One 1376.2 management request to the carrier module on ``port``; resumes with the
    answer unit, or None when the module did not answer."""

    __slots__ = ("port", "unit")

    def __init__(self, port, unit):
        self.port = port
        self.unit = unit


class SleepUntil:
    """Resume the job at ``t``."""

    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t
