"""Never-crash properties of the uplink's byte-facing parts: any bytes into the terminal session
(with the agent's handler behind it) or into the master's connection give frames, garbage or
denials, never an exception; a valid frame after the noise still gets through."""
from hypothesis import HealthCheck, given, settings, strategies as st

from hostlink.master import MasterConnection
from hostlink.store import MasterStore
from protocols.gdw1376_1 import Frame, Tp, encode_frame
from protocols.gdw1376_1.frame import PW_AFNS

from tests.hostlink.helpers import WALL, concentrator
from tests.hostlink.test_uplink import online

AFNS = st.sampled_from([0x00, 0x01, 0x02, 0x04, 0x05, 0x0A, 0x0C, 0x0D, 0x0E, 0x10, 0x33])
AGENT = concentrator(2082)
MASTER = online(AGENT)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300), AFNS, st.binary(max_size=120), st.integers(0, 15))
def test_terminal_survives_any_bytes_and_any_request_data(noise, afn, data, seq):
    s = AGENT.uplink.session
    s.receive_data(noise, 1.0)
    frame = Frame(afn, data, up=False, prm=True, func=11, region="0171", terminal=2082, seq=seq,
                  tp=Tp.at(1, WALL, 5), pw=bytes(16) if afn in PW_AFNS else None)
    before = s.counters.get("answers", 0)
    s.receive_data(b"\x16" + encode_frame(frame), 1.0)
    assert s.online and s.counters.get("answers", 0) <= before + 1
    s.data_to_send()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_master_connection_survives_any_bytes(noise):
    m = MasterConnection(MasterStore(":memory:"))
    m.receive_data(noise, 0.0, WALL)
    m.on_timer(1.0e9)
    m.data_to_send()
