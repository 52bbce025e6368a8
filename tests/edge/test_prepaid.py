"""Prepaid units: tariffs, the ledger, the policy against a reference model, the journal."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.civil import from_civil

from edge.prepaid import journal as J
from edge.prepaid.journal import Command, Journal, JournalError
from edge.prepaid.ledger import Ledger
from edge.prepaid.policy import (ALARM, ALARM_RELEASE, ALLOW_CLOSE, DIRECT_CLOSE, TRIP,
                                 FriendlyWindows, Situation, Thresholds, decide)
from edge.prepaid.tariff import Flat, Ladder, TariffError, TimeOfUse, tariff_from_dict, to_uyuan
from edge.store import Store

T0 = from_civil(2026, 3, 4, 12)            # a Wednesday noon


# --- tariffs ----------------------------------------------------------------------------------
def test_flat_and_tou_charge_exact_micro_yuan():
    assert Flat(0.5283).cost([150, 0, 0, 0, 0], 0) == 150 * 5283          # 1.50 kWh
    tou = TimeOfUse([1.0, 0.8, 0.5, 0.3])
    assert tou.cost([400, 100, 100, 100, 100], 0) == 100 * (10000 + 8000 + 5000 + 3000)


def test_ladder_splits_a_delta_at_the_block_edge():
    ladder = Ladder([(2160, 0.4883), (4200, 0.5383), (None, 0.7883)])
    # 2 kWh starting 1 kWh below the first edge: 1 kWh in block 1, 1 kWh in block 2
    assert ladder.cost([200, 0, 0, 0, 0], 215900) == 100 * 4883 + 100 * 5383
    assert ladder.cost([100, 0, 0, 0, 0], 500000) == 100 * 7883


@pytest.mark.parametrize("doc", [{"kind": "tou", "prices": [1, 2]}, {"kind": "ladder", "blocks": []},
                                 {"kind": "ladder", "blocks": [[100, 1], [50, 2], ["none", 3]]},
                                 {"kind": "ladder", "blocks": [[100, 1]]}, {"kind": "flat"},
                                 {"kind": "stepped"}])
def test_bad_tariffs_are_typed_errors(doc):
    with pytest.raises(TariffError):
        tariff_from_dict(doc)


# --- ledger -----------------------------------------------------------------------------------
def test_ledger_charges_once_per_newer_reading_and_pays_once_per_id(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    ledger = Ledger(store)
    acct = ledger.open("C1", to_uyuan(10))
    flat = Flat(1.0)
    assert acct.charge([100.0, 0, 0, 0, 0], T0, flat) == 0                # first: the baseline
    assert acct.charge([101.5, 0, 0, 0, 0], T0 + 900, flat) == to_uyuan(1.5)
    assert acct.charge([101.5, 0, 0, 0, 0], T0 + 900, flat) is None       # not newer
    assert acct.charge([99.0, 0, 0, 0, 0], T0 + 1800, flat) is None       # register went back
    ledger.save(acct)
    assert ledger.pay("p1", "C1", to_uyuan(5), T0) and not ledger.pay("p1", "C1", to_uyuan(5), T0)
    again = Ledger(Store(tmp_path / "a.sqlite")).accounts["C1"]
    assert again.balance == to_uyuan(13.5) and again.regs == [10150, 0, 0, 0, 0]


def test_ladder_year_restarts_on_new_year():
    acct = Ledger(Store(":memory:")).open("C", 0)
    ladder = Ladder([(10, 1.0), (None, 2.0)])
    acct.charge([0.0] * 5, from_civil(2026, 12, 31, 12), ladder)
    acct.charge([10.0] + [0.0] * 4, from_civil(2026, 12, 31, 20), ladder)
    assert acct.annual == 1000
    assert acct.charge([15.0] + [0.0] * 4, from_civil(2027, 1, 1, 1), ladder) == 500 * 10000


# --- policy against a reference model -----------------------------------------------------------
def forbidden(action, s):
    """What the reference model never allows."""
    th = s.thresholds
    if action == TRIP:
        return (s.keep_power or s.friendly or s.voltage_low or s.balance > th.trip or s.relay_open
                or (s.large_current_until is not None and s.now < s.large_current_until))
    if action in (ALLOW_CLOSE, DIRECT_CLOSE):
        return (s.balance < th.close_allowed or not s.opened_for_credit or not s.relay_open
                or s.voltage_low)
    if action == ALARM:
        return s.balance > th.alarm or s.alarm_on
    if action == ALARM_RELEASE:
        return s.balance <= th.alarm or not s.alarm_on
    return action is not None


def required(s):
    """The trip the reference model demands: in debt, closed, nothing to hold it back."""
    return (s.balance <= s.thresholds.trip and not s.relay_open and not s.keep_power
            and not s.friendly and not s.voltage_low
            and (s.large_current_until is None or s.now >= s.large_current_until))


situations = st.builds(
    Situation, balance=st.integers(-10 ** 8, 10 ** 8),
    thresholds=st.builds(lambda t, gap, a, d: Thresholds(t + a, t, t + gap, d),
                         st.integers(-10 ** 7, 10 ** 7), st.integers(1, 10 ** 7),
                         st.integers(0, 10 ** 7), st.booleans()),
    keep_power=st.booleans(), friendly=st.booleans(), voltage_low=st.booleans(),
    large_current_until=st.none() | st.floats(0, 2000), now=st.floats(0, 2000),
    relay_open=st.booleans(), opened_for_credit=st.booleans(), alarm_on=st.booleans())


@settings(max_examples=2000, deadline=None)
@given(situations)
def test_policy_never_decides_what_the_reference_forbids_and_never_misses_a_trip(s):
    action, reason = decide(s)
    assert not forbidden(action, s), (action, reason)
    if required(s):
        assert action == TRIP


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["use", "pay", "keep", "friendly", "volts"]),
                          st.integers(0, 3 * 10 ** 6)), max_size=60))
def test_policy_sequences_against_the_reference(steps):
    """Consumption, payments, keep-power and window changes in any order, the relay following
    each decision: every decision is allowed, and a meter in debt with nothing holding it back
    is open after its step."""
    th = Thresholds(to_uyuan(5), 0, to_uyuan(2), direct_close=False)
    s = Situation(to_uyuan(3), th)
    for kind, amount in steps:
        if kind == "use":
            s.balance -= amount
        elif kind == "pay":
            s.balance += amount
        elif kind == "keep":
            s.keep_power = not s.keep_power
        elif kind == "friendly":
            s.friendly = not s.friendly
        else:
            s.voltage_low = not s.voltage_low
        for _ in range(3):                      # act until the policy is content
            action, _ = decide(s)
            assert not forbidden(action, s)
            if action == TRIP:
                s.relay_open, s.opened_for_credit = True, True
            elif action in (ALLOW_CLOSE, DIRECT_CLOSE):
                s.relay_open, s.opened_for_credit = False, False
            elif action == ALARM:
                s.alarm_on = True
            elif action == ALARM_RELEASE:
                s.alarm_on = False
        assert not required(s)


def test_friendly_windows_nights_weekends_holidays():
    w = FriendlyWindows(20, 8, weekends=True, holidays=["2026-03-05"])
    assert not w.active(T0) and w.active(T0 + 9 * 3600) and w.active(T0 - 5 * 3600)
    assert w.active(from_civil(2026, 3, 7, 12)) and w.active(from_civil(2026, 3, 5, 12))
    with pytest.raises(ValueError):
        FriendlyWindows(holidays=["2026-01-%02d" % d for d in range(1, 31)] +
                        ["2026-02-%02d" % d for d in range(1, 29)] + ["2026-03-01", "2026-03-02",
                                                                      "2026-03-03"])


# --- journal ----------------------------------------------------------------------------------
def cmd(cid, action=TRIP, meter="000000000001", expires=T0 + 3600):
    return Command(cid, meter, action, "test", "policy", T0, expires)


def test_lifecycle_follows_the_table_and_illegal_moves_are_typed(tmp_path):
    j = Journal(Store(tmp_path / "j.sqlite"))
    c, new = j.submit(cmd("a"), T0)
    assert new and c.state == J.QUEUED
    for event, state in (("send", J.SENT), ("ack", J.VERIFYING), ("not_moved", J.RETRY),
                         ("send", J.SENT), ("ack", J.VERIFYING), ("verified", J.DONE)):
        j.move(c, event, T0 + 1)
        assert c.state == state
    assert c.attempts == 2 and j.open_commands() == []
    with pytest.raises(JournalError) as e:
        j.move(c, "send", T0 + 2)
    assert e.value.state == J.DONE and e.value.event == "send"
    assert Journal(Store(tmp_path / "j.sqlite")).get("a").state == J.DONE


def test_duplicates_do_not_double_act_and_expired_commands_never_go_out(tmp_path):
    j = Journal(Store(tmp_path / "j.sqlite"))
    first, _ = j.submit(cmd("a"), T0)
    assert j.submit(cmd("a"), T0) == (first, False)                  # same id
    assert j.submit(cmd("b"), T0) == (first, False)                  # same action, still open
    close, new = j.submit(cmd("c", DIRECT_CLOSE), T0 + 5)            # the relay group moves on
    assert new and first.state == J.SUPERSEDED
    old, new = j.submit(cmd("d", ALARM, expires=T0 - 1), T0)
    assert new and old.state == J.EXPIRED and not old.open
    reopened = Journal(Store(tmp_path / "j.sqlite"))
    assert [c.id for c in reopened.open_commands()] == ["c"]         # resumes after a restart


def test_master_keep_power_survives_a_restart(tmp_path):
    store = Store(tmp_path / "k.sqlite")
    Ledger(store).set_keep_power("C1", True)
    assert Ledger(Store(tmp_path / "k.sqlite")).keep_power() == {"C1": True}
