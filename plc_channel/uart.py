"""A UART between the concentrator and its carrier module on the SimPy clock (8E1 characters)."""

BITS_PER_BYTE = 11
DEFAULT_BAUD = 9600
MODULE_BAUDS = (9600, 19200, 38400, 57600, 115200)     # rates a carrier module's UART runs at


class UartEnd:
    """One side of the link: ``send(bytes)`` arrives at the other side's ``on_bytes`` after its
    airtime; a side transmits one byte stream at a time."""

    def __init__(self, link):
        self.link = link
        self.peer = None
        self.on_bytes = None
        self._free_at = 0.0

    def send(self, data):
        env = self.link.env
        start = max(env.now, self._free_at)
        self._free_at = start + len(data) * BITS_PER_BYTE / float(self.link.baud)
        ev = env.timeout(self._free_at - env.now)
        peer = self.peer
        ev.callbacks.append(lambda _e: peer.on_bytes(data))


class UartLink:
    """Two ends, ``a`` (concentrator) and ``b`` (module), at ``baud``."""

    def __init__(self, env, baud=DEFAULT_BAUD):
        if baud not in MODULE_BAUDS:
            raise ValueError("module UART baud must be one of %s, got %r"
                             % (", ".join(map(str, MODULE_BAUDS)), baud))
        self.env = env
        self.baud = baud
        self.a = UartEnd(self)
        self.b = UartEnd(self)
        self.a.peer = self.b
        self.b.peer = self.a
