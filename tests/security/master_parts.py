"""A master station on 127.0.0.1 (``hostlink.aio.MasterServer``) with real concentrators (agent
cores behind ``TerminalClient``) and raw TCP sockets playing strangers and attackers."""
import asyncio
import time

from hostlink.aio import TerminalClient, local_wall
from protocols.gdw1376_1 import Deframer, Frame, Unit, encode_frame
from protocols.gdw1376_1.frame import F_LINK_TEST, F_USER_DATA
from protocols.gdw1376_1.units import AFN_CLASS2, AFN_LINK, encode_units

from tests.helpers import deframe
from tests.hostlink.test_loopback import _until as until


def client(agent, port, wall=local_wall):
    """``agent``'s terminal session dialling the station, its clocks set from ``wall``."""
    def clocks():
        agent.set_clock(time.monotonic(), wall())
    return TerminalClient(agent.uplink.session, "127.0.0.1", port, before=clocks)


def up_frame(afn, units, terminal=2082, seq=1, con=True, func=F_USER_DATA, data=None):
    """An uplink frame as a concentrator sends it."""
    return encode_frame(Frame(afn, encode_units(units) if data is None else data, up=True,
                              prm=True, func=func, region="0171", terminal=terminal, seq=seq,
                              con=con))


def login(terminal=2082, seq=0, data=None):
    return up_frame(AFN_LINK, [Unit(AFN_LINK, 1, 0, None, True)], terminal, seq,
                    func=F_LINK_TEST, data=data)


def freeze_upload(kwh, terminal=2082, pn=1, td=(21, 11, 26), seq=1):
    value = {"td": td, "time": (0, 0, 22, 11, 26), "m": 4,
             "forward_active": [kwh, 0.0, 0.0, 0.0, 0.0]}
    return up_frame(AFN_CLASS2, [Unit(AFN_CLASS2, 161, pn, value, True)], terminal, seq)


class Raw:
    """A raw TCP peer of the station."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port):
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def frames(self, timeout=2.0):
        """The frames the station sends within ``timeout`` (until it goes quiet)."""
        data = b""
        try:
            while True:
                chunk = await asyncio.wait_for(self.reader.read(65536), timeout)
                if not chunk:
                    break
                data += chunk
                timeout = 0.3
        except asyncio.TimeoutError:
            pass
        return deframe(Deframer(), [data])

    async def closed_by_peer(self, timeout):
        """Whether the station closes the connection within ``timeout`` seconds."""
        try:
            while True:
                chunk = await asyncio.wait_for(self.reader.read(65536), timeout)
                if not chunk:
                    return True
        except (asyncio.TimeoutError, ConnectionError):
            return False

    def close(self):
        self.writer.close()


__all__ = ["Raw", "client", "until", "up_frame", "login", "freeze_upload"]
