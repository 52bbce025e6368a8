"""The rig's parts on their own: its master-side cost control (what it decides to send, and
that its KPIs catch a relay that moved when it should not have and one that did not move when
it should), and its freeze check over every day a run saw."""
import tomllib

import pytest

from hil.rig import Rig
from hostlink.store import MasterStore
from protocols.civil import DAY, iso, midnight
from protocols.gdw1376_1 import Unit
from hil.rig_prepaid import CLOSE, TRIP, CostControl
from hil.scenario import Scenario
from meter_sim.faults import firmware
from edge.jobs import DI_FREEZE_ENERGY
from protocols.dlt645 import apdu
from protocols.dlt645.frame import decode_frame, encode_frame

SCENARIO = """
[scenario]
name = "rig-prepaid-unit"
seed = 4
start = "2026-01-07 10:00"
[area]
meters = 12
medium = "rs485"
[prepaid]
opening = [-3.0, 8.0]
friendly = false
keep_power = 0
pay = 0
stuck = 0
[rig]
settle_s = 10
"""


@pytest.fixture
def rig():
    r = Rig(Scenario(tomllib.loads(SCENARIO)))
    yield r
    r.close()


def test_cost_control_trips_the_overdrawn_and_judges_by_true_relay_moves(rig):
    control = CostControl(rig, rig.sc.prepaid, rig.sc.doc["rig"], 3600.0)
    t = rig.now() + 60.0
    balances = [control.truth.balance(i, t) for i in range(len(rig.meters))]
    overdrawn = [i for i, b in enumerate(balances) if b <= 0.0]
    in_credit = [i for i, b in enumerate(balances) if b > 1.0]
    # missed: below the trip amount by more than the tolerance since settle_s ago
    settled = [i for i in overdrawn if control.truth.balance(i, t - 10.0) < -0.01]
    assert overdrawn and in_credit

    # nobody sent anything yet: every overdrawn customer is a missed trip once settled
    r = control.report(t)
    assert r["missed_ops"] == len(settled) > 0 and r["wrongful_ops"] == 0
    assert {m["meter"] for m in r["prepaid"]["missed"]} == set(settled)

    # a relay opening for a customer in credit is wrongful, whoever did it
    victim = in_credit[0]
    with rig.lock:
        firmware(rig.meters[victim]).relay.trip(t, b"\x00" * 4)
    r = control.report(t)
    assert r["wrongful_ops"] == 1 and r["prepaid"]["wrongful"][0]["meter"] == victim

    # the master decides a trip for each overdrawn customer, nothing for the victim (it did not
    # open that relay, so it is not its to close), and nothing twice while one is in flight
    due = control.due(t)
    assert sorted((c.meter, c.action) for c in due) == [(i, TRIP) for i in overdrawn]
    for c in due:
        c.sent.append(t)
    assert control.due(t + 1.0) == []

    # the trips arrive: the relays move, the commands are done and the latency is measured
    with rig.lock:
        for i in overdrawn:
            firmware(rig.meters[i]).relay.trip(t + 5.0, b"\x00" * 4)
    assert control.due(t + 6.0) == [] and not control.pending
    r = control.report(t + 6.0)
    assert r["missed_ops"] == 0 and r["trip_latency_s"]["n"] == len(overdrawn)
    assert r["prepaid"]["delivery_latency_s"]["max"] == 5.0

    # a payment lifts one of them above the close-allowed amount: the master closes it
    control.truth.pay(overdrawn[0], t + 7.0, 100.0)
    due = control.due(t + 8.0)
    assert [(c.meter, c.action) for c in due] == [(overdrawn[0], CLOSE)]

    # a trip not yet carried out when the customer pays is withdrawn, not sent again
    with rig.lock:
        firmware(rig.meters[victim]).relay.direct_close(t + 9.0, b"\x00" * 4)
    control.truth.pay(victim, t + 9.0, -100.0)  # (a refund: the victim is overdrawn now)
    [trip] = control.due(t + 10.0)
    assert (trip.meter, trip.action) == (victim, TRIP)
    trip.sent.append(t + 10.0)
    control.truth.pay(victim, t + 11.0, 200.0)
    assert control.due(t + 200.0) == [] and victim not in control.pending
    assert control.report(t + 200.0)["prepaid"]["withdrawn"] == 1


def test_unit_carries_a_645_control_the_meter_accepts(rig):
    control = CostControl(rig, rig.sc.prepaid, {}, 3600.0)
    t = rig.now()
    unit = control.unit(control._new(0, TRIP, t), t, 1)
    fw = firmware(rig.meters[0])
    with rig.lock:
        raw = fw.handle(unit.value["content"], t)
    assert isinstance(apdu.parse_reply(decode_frame(raw)), apdu.Ack)
    assert fw.relay.cmd_open


def test_the_report_checks_each_freeze_day_against_the_meters_own(rig):
    store, terminal = MasterStore(":memory:"), "0171-00001"
    t = rig.start + 2 * DAY + 3600.0            # Jan 7 10:00 + 2 days: freezes of Jan 7, 8, 9
    days = [midnight(rig.start) + k * DAY for k in range(3)]
    for k, day in enumerate(days):
        period = iso(day - DAY)
        td = (int(period[8:10]), int(period[5:7]), int(period[2:4]))
        for i in range(len(rig.meters)):
            if k == 2 and i == 1:
                continue                        # never delivered
            value = rig.true_freeze(i, t, 3 - k) + (1.0 if (k, i) == (1, 0) else 0.0)
            unit = Unit(0x0D, 161, i + 1, {"td": td, "forward_active": [value]}, True)
            store.store_upload(terminal, 0x0D, [unit], at=max(day, rig.start) + 600.0 + i)
    # on the last day the concentrator reads meter i at 300 s + i after midnight (the meters
    # note it: ground truth of the read time) and the master receives it at 600 s + i
    read = apdu.Read(DI_FREEZE_ENERGY)
    for i, m in enumerate(rig.meters):
        frame = decode_frame(encode_frame(read.to_frame(firmware(m).addr)))
        with rig.lock:
            assert m.handle_frame(frame, days[2] + 300.0 + i) is not None
    samples = {}
    r = rig.report(store, terminal, samples, t=t)
    n = len(rig.meters)
    assert [d["period"] for d in r["days"]] == ["2026-01-06", "2026-01-07", "2026-01-08"]
    assert [d["wrong_values"] for d in r["days"]] == [0, 1, 0]
    assert r["days"][0]["read_rate"] == 1.0 and r["days"][1]["read_rate"] == round((n - 1) / n, 6)
    assert r["days"][0]["completion_s"] == 600.0 + n - 1       # no meter-side reads: receipts
    # the last freeze's figures head the report: one missing; the freeze task began with the
    # first read at 300 s, the last meter read n - 1 s later, delivered 300 s after it was asked
    assert r["period"] == "2026-01-08" and r["missing"] == 1 and r["wrong_values"] == 0
    # (a meter's answer is out after its own reply delay)
    delay = [firmware(m).reply_delay for m in rig.meters]
    assert r["completion_s"] == round(n - 1 + delay[-1], 3)
    assert r["delivered_s"] == 300.0 + n - 1
    assert samples["freeze_read_times_s"] == pytest.approx(  # times near 1.8e9 s: float steps
        sorted(i + delay[i] for i in range(n) if i != 1), abs=1e-6)
    assert r["readings_confirmed_by_master"] == 3 * n - 1
    assert r["passed"] is True                  # the scenario has no gates


def test_a_trip_the_relay_never_carries_out_is_resent_then_given_up(rig):
    control = CostControl(rig, rig.sc.prepaid, {"retry_s": 10, "tries": 2}, 3600.0)
    t = rig.now() + 60.0

    def answered(cmds, at):                     # sent and answered; the relays do not move
        for c in cmds:
            c.sent.append(at)
            c.in_flight = False

    first = control.due(t)
    assert first and all(c.action == TRIP for c in first)
    answered(first, t)
    assert control.due(t + 5.0) == []           # within retry_s
    again = control.due(t + 11.0)
    assert again == first                       # the same commands, a second send each
    answered(again, t + 11.0)
    assert control.due(t + 22.0) == []          # tries spent: given up, not sent forever
    assert control.given_up == {c.meter for c in first} and not control.pending
    assert control.report(t + 22.0)["prepaid"]["sends"] == 2 * len(first)
