"""The Q/GDW 1376.1 uplink: the terminal's session and the master station's end, sans-I/O, with
asyncio shells in ``hostlink.aio`` (``gridedge master``)."""
from hostlink.master import MasterConnection, Request, parse_terminal_name, terminal_name
from hostlink.session import (CONFIRMED, DENIED, LOST, SessionError, SessionSettings, State,
                              TerminalSession)
from hostlink.store import MasterStore

__all__ = ["MasterConnection", "Request", "parse_terminal_name", "terminal_name", "CONFIRMED",
           "DENIED", "LOST", "SessionError", "SessionSettings", "State", "TerminalSession",
           "MasterStore"]
