"""The ERC35 record of a swap candidate: whatever the phase, protocol and address, it encodes
and the 1376.1 decoder reads back the same meter."""
from hypothesis import given, strategies as st

from edge import swaps
from protocols.gdw1376_1 import erc as E

T = 1767765660.0


@given(st.sampled_from([None, 1, 2, 4, 3, 7]), st.sampled_from([1, 2, 3]),
       st.text("0123456789", min_size=12, max_size=12), st.sampled_from(["plc", "p2", "x31"]))
def test_erc35_of_a_swap_round_trips(phase, protocol, addr, port):
    value = {"erc": 35, "at": T, "began": True, "port": port, "addr": addr, "phase": phase,
             "protocol": protocol, "replaces": "000000000001"}
    rec = E.decode_event(35, swaps.record(value, 1).encode())
    (m,) = rec.meters
    assert m["addr"] == addr and m["phase_quality"] >> 5 == (phase or 0)
    assert m["protocol"] == (0 if protocol == 1 else 1)
