"""AFN10 F1 transparent forwarding under a policy: a forwarded password change, write, address
or baud change, or clear is refused and the meter is untouched; a forwarded relay control goes
through the journal, acts once however often it comes, and is read back; reads pass."""
import pytest

from protocols.dlt645 import apdu
from protocols.dlt645 import di as DI
from protocols.dlt645.frame import decode_frame as decode_645, encode_frame as encode_645
from protocols.gdw1376_1.units import AFN_FORWARD
from edge.uplink import UplinkSettings
from hil.uplink_sim import SIM_PASSWORD

from tests.security.uplink_parts import (DIRECT_CLOSE, TRIP, Attack, control_frame, denied,
                                         forward_unit)


def _meter_state(fw):
    """What a forwarded frame could change in the meter: passwords (and the wrong-password
    count that locks it for the day), address, line rate, relay, and every register's state."""
    return (dict(fw.passwords), fw.addr, fw.baud, fw.relay.closed, fw._wrong, list(fw.base_kwh),
            {k: len(v) for k, v in fw.events.records.items()})


GUARDED = {
    "change_password": lambda fw: apdu.ChangePassword(0x02, fw.passwords[0x02], 0x02,
                                                      b"\x99\x99\x99"),
    "write": lambda fw: apdu.Write(0x04000401, b"\x01\x00\x00\x00\x00\x00",
                                   password=fw.passwords[0x02]),
    "write_address": lambda fw: apdu.WriteAddress(b"\x99\x00\x00\x00\x00\x00"),
    "change_baud": lambda fw: apdu.ChangeBaud(0x40),
    "meter_clear": lambda fw: apdu.MeterClear(password=fw.passwords[0x02]),
    "event_clear": lambda fw: apdu.EventClear(password=fw.passwords[0x02]),
}


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_a_forwarded_change_is_refused_and_the_meter_is_untouched(name):
    a = Attack()
    fw = a.meter()
    before = _meter_state(fw)
    content = encode_645(GUARDED[name](fw).to_frame(fw.addr))
    a.run([(0.0, lambda now: a.frame(AFN_FORWARD, [forward_unit(content)], now))], seconds=60)
    assert denied(a.answers[0])
    assert _meter_state(fw) == before and a.journal() == []
    assert "refused by the forwarding policy" in a.ua.store.logged("uplink_denied")[-1][2]


def test_forward_allow_lets_a_named_kind_through():
    settings = UplinkSettings("sim:0", "0171", 2082, password=SIM_PASSWORD,
                              forward_allow=["password"])
    a = Attack(uplink=settings)
    fw = a.meter()
    content = encode_645(GUARDED["change_password"](fw).to_frame(fw.addr))
    a.run([(0.0, lambda now: a.frame(AFN_FORWARD, [forward_unit(content)], now))], seconds=60)
    assert a.answers[0][0] == "ok" and fw.passwords[0x02] == b"\x99\x99\x99"


def test_a_forwarded_read_passes():
    a = Attack()
    fw = a.meter()
    content = encode_645(apdu.Read(DI.DI_TIME).to_frame(fw.addr))
    a.run([(0.0, lambda now: a.frame(AFN_FORWARD, [forward_unit(content)], now))], seconds=60)
    outcome, [unit] = a.answers[0]
    assert outcome == "ok" and decode_645(unit.value["content"]).ctrl == 0x91


def test_a_forwarded_trip_is_journaled_acts_once_and_is_read_back():
    a = Attack()
    fw = a.meter()
    trip = {}

    def forward(now):           # the same 645 trip, each time under a new 1376.1 label
        trip.setdefault("content", control_frame(fw, TRIP, now + 600))
        return a.frame(AFN_FORWARD, [forward_unit(trip["content"])], now)
    a.run([(0.0, forward), (1.0, forward), (30.0, forward)], seconds=120)
    assert [o for o, _ in a.answers] == ["ok"] * 3
    assert not fw.relay.closed
    [cmd] = a.journal()
    assert (cmd.meter, cmd.action, cmd.source, cmd.state, cmd.attempts) == (
        a.addr(fw), "trip", "master-forward", "done", 1)
    assert "status3" in cmd.history[-1][2]                  # verified by reading status word 3
    first = a.answers[0][1][0].value["content"]
    assert decode_645(first).ctrl == 0x9C                    # the meter's own acknowledgement


def test_a_forwarded_close_after_a_trip_is_a_new_command_and_both_are_read_back():
    a = Attack()
    fw = a.meter()
    def forward(code):
        return lambda now: a.frame(AFN_FORWARD, [forward_unit(control_frame(fw, code, now + 600))],
                                   now)
    a.run([(0.0, forward(TRIP)), (30.0, forward(DIRECT_CLOSE))], seconds=120)
    assert fw.relay.closed
    assert [(c.action, c.state) for c in a.journal()] == [("trip", "done"),
                                                         ("direct_close", "done")]


def test_a_forwarded_trip_to_a_meter_under_our_cost_control_passes_its_checks():
    from protocols.dlt645 import address
    from protocols.gdw1376_1 import Tp
    from protocols.gdw1376_1.units import parse_units
    from edge.prepaid.journal import Journal
    from tests.hostlink.test_uplink import PASSWORD, WEDNESDAY, agent_at, ask, down, online
    agent = agent_at(WEDNESDAY, prepaid=True)
    online(agent)
    content = encode_645(apdu.Control(TRIP, WEDNESDAY + 600).to_frame(address("000000000001")))
    agent.prepaid.keep_power["C1"] = True                # keep-power (保电): no trip
    [answer] = ask(agent, down(AFN_FORWARD, [forward_unit(content)], pw=PASSWORD,
                               tp=Tp.at(1, WEDNESDAY, 5)))
    assert parse_units(0, answer.data, True)[0].fn == 2 and Journal(agent.store).all() == []
    assert "keep_power" in agent.store.logged("uplink_denied")[-1][2]
    agent.prepaid.keep_power["C1"] = False
    assert ask(agent, down(AFN_FORWARD, [forward_unit(content)], pw=PASSWORD,
                           tp=Tp.at(2, WEDNESDAY + 1, 5))) == []      # answered once the meter has
    [cmd] = Journal(agent.store).all()
    assert (cmd.action, cmd.source, bytes.fromhex(cmd.frame)) == ("trip", "master", content)
