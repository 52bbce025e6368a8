"""One DL/T 645-2007 meter: registers, freezes, events, relay, wallet, passwords.

MicroPython-compatible and clock-free: every entry point takes the true time ``t`` (naive local
seconds) as an argument. ``Meter.handle(request_bytes, t)`` returns the reply bytes or None.
"""
from meter_sim.firmware.load import ConstantLoad, HourlyProfile, DEFAULT_TOU
from meter_sim.firmware.meter import Meter, REMOTE, LOCAL
from meter_sim.firmware.esam import TestEsam, TEST_KEY

__all__ = ["ConstantLoad", "HourlyProfile", "DEFAULT_TOU", "Meter", "REMOTE", "LOCAL", "TestEsam",
           "TEST_KEY"]
