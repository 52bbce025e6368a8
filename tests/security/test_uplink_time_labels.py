"""Time labels and replays (Q/GDW 1376.1 Tp): a frame that changes state acts only with a fresh
label, and only once. Each attack is refused and changes nothing: the meters' relays, the
journal, the archive."""
import pytest

from protocols.gdw1376_1 import Tp, Unit, decode_frame, encode_frame
from protocols.gdw1376_1.units import AFN_CONTROL, AFN_FORWARD, AFN_SET, parse_units
from edge.prepaid.journal import Journal

from tests.hostlink.test_uplink import PASSWORD, WEDNESDAY, _entry, agent_at, ask, down, online
from tests.security.uplink_parts import (DIRECT_CLOSE, TRIP, Attack, control_frame, denied,
                                         forward_unit)


def _trip_forward(a, fw, now, **kw):
    return a.frame(AFN_FORWARD, [forward_unit(control_frame(fw, TRIP, now + 600))], now, **kw)


@pytest.mark.parametrize("label", ["none", "delay 0"])
def test_a_forwarded_trip_without_a_usable_label_does_not_act(label):
    a = Attack()
    fw = a.meter()
    a.run([(0.0, lambda now: _trip_forward(a, fw, now, tp=None if label == "none" else
                                           Tp.at(7, now, 0)))], seconds=60)
    assert denied(a.answers[0])
    assert fw.relay.closed and a.journal() == []
    reason = a.ua.store.logged("uplink_denied")[-1][2]
    assert ("no time label" if label == "none" else "without an allowed delay") in reason


def _recompute(raw, edit):
    """``raw`` with ``edit(bytearray)`` applied and its checksum made right again (what anyone
    who captured the frame can do: the PW is static)."""
    b = bytearray(raw)
    edit(b)
    b[-2] = sum(b[6:-2]) & 0xFF
    return bytes(b)


@pytest.mark.parametrize("replay", ["same bytes", "PFC edited", "delay edited"])
def test_a_captured_trip_sent_again_does_not_act(replay):
    a = Attack()
    fw = a.meter()
    captured = {}

    def trip(now):
        captured["raw"] = encode_frame(_trip_forward(a, fw, now))
        return decode_frame(captured["raw"])

    def close(now):
        return a.frame(AFN_FORWARD, [forward_unit(control_frame(fw, DIRECT_CLOSE, now + 600))], now)

    def again(now):
        raw = captured["raw"]
        if replay == "PFC edited":        # Tp = PFC, ss mm hh DD, delay: the last 6 bytes
            raw = _recompute(raw, lambda b: b.__setitem__(-8, (b[-8] + 1) & 0xFF))
        elif replay == "delay edited":
            raw = _recompute(raw, lambda b: b.__setitem__(-3, 30))
        return decode_frame(raw)
    a.run([(0.0, trip), (30.0, close), (30.0, again)], seconds=120)
    assert [o for o, _ in a.answers[:2]] == ["ok", "ok"]
    assert denied(a.answers[2]) and "replayed frame" in a.ua.store.logged("uplink_denied")[-1][2]
    assert fw.relay.closed                                  # the replay did not open it again
    assert [c.action for c in a.journal()] == ["trip", "direct_close"]


def test_a_control_without_a_label_is_refused_not_named_by_its_seq():
    agent = agent_at(WEDNESDAY, prepaid=True)
    online(agent)
    trip = Unit(AFN_CONTROL, 1, 1, {"limit_alarm": 0}, False)
    [answer] = ask(agent, down(AFN_CONTROL, [trip], pw=PASSWORD))            # seq 5, no Tp
    assert parse_units(0, answer.data, True)[0].fn == 2
    assert Journal(agent.store).all() == []
    # a later legitimate control with the same SEQ is carried out, not absorbed
    [answer] = ask(agent, down(AFN_CONTROL, [trip], pw=PASSWORD, tp=Tp.at(9, WEDNESDAY, 5)))
    assert parse_units(0, answer.data, True)[0].fn == 1
    [cmd] = Journal(agent.store).all()
    assert "seq" not in cmd.id and cmd.action == "trip"


def test_an_archive_set_without_a_label_changes_nothing():
    agent = agent_at(WEDNESDAY)
    online(agent)
    before = dict(agent.archive.meters)
    [answer] = ask(agent, down(AFN_SET, [Unit(AFN_SET, 10, 0, {"items": [
        _entry("000000000003", 3)]}, False)], pw=PASSWORD))
    assert parse_units(0, answer.data, True)[0].fn == 2
    assert agent.archive.meters == before and agent.store.archive_changes() == ([], [])
