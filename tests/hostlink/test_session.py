"""The 1376.1 terminal session against the master's connection core, sans-I/O: a SessionPair
with a fault-injecting link (NullModem-style manipulator), time passed in."""
import random

import pytest

from hostlink.master import DENIED, OK, TIMEOUT, MasterConnection
from hostlink.session import (CONFIRMED, LOST, S, SessionError, SessionSettings,
                              TerminalSession)
from hostlink.store import MasterStore
from protocols.gdw1376_1 import Deframer, Frame, Unit, decode_frame, encode_frame
from protocols.gdw1376_1.units import AFN_CLASS2, AFN_CONFIRM, parse_units

from tests.helpers import deframe

LOGIN = bytes.fromhex("683200320068c97101220800027800000100e016")      # PROTOCOLS.md ✔


def unit(day, pn=1):
    return Unit(AFN_CLASS2, 161, pn, {"td": (day, 11, 26), "time": (0, 1, day, 11, 26), "m": 4,
                                      "forward_active": [10.0 + day, 4.0, 3.0, 2.0, 1.0]}, True)


class Backlog:
    """A handler with ``units`` to upload; answers every request with one data unit."""

    def __init__(self, units=()):
        self.units = list(units)
        self.in_flight = {}
        self.outcomes = []
        self.token = 0
        self.requests = []

    def answer(self, frame, now):
        self.requests.append(frame)
        return [unit(k % 28 + 1, pn) for k, pn in enumerate(
            u.pn for u in parse_units(frame.afn, frame.data, False))]

    def has_upload(self):
        return bool(self.units)

    def next_upload(self, max_bytes):
        if not self.units:
            return None
        self.token += 1
        self.in_flight[self.token] = self.units.pop(0)
        return self.token, AFN_CLASS2, [self.in_flight[self.token]]

    def upload_done(self, token, outcome):
        self.outcomes.append(outcome)
        u = self.in_flight.pop(token)
        if outcome == LOST:
            self.units.insert(0, u)


class Pair:
    """Terminal and master joined in memory; ``drop_down``/``drop_up`` lose frames on the way."""

    def __init__(self, handler, **settings):
        self.handler = handler
        self.session = TerminalSession("0171", 2082, handler, random.Random(1),
                                       SessionSettings(**settings))
        self.store = MasterStore(":memory:")
        self.master = None
        self.now = 0.0
        self.drop_up = self.drop_down = lambda data: False

    def connect(self):
        self.master = MasterConnection(self.store)
        self.session.connection_made(self.now)

    def pump(self):
        for _ in range(50):
            up = self.session.data_to_send()
            if up and not self.drop_up(up):
                self.master.receive_data(up, self.now, 1.0e9)
            down = self.master.data_to_send()
            if down and not self.drop_down(down):
                self.session.receive_data(down, self.now)
            if not up and not down:
                return

    def run(self, seconds, step=1.0):
        end = self.now + seconds
        while self.now < end:
            self.now += step
            self.session.on_timer(self.now)
            self.master.on_timer(self.now)
            self.pump()


def test_login_frame_is_the_standard_one_and_the_master_confirms_it():
    p = Pair(Backlog())
    p.session._pseq = 8                     # the sample was the terminal's 8th frame
    p.connect()
    first = p.session.data_to_send()
    assert first == LOGIN
    p.master.receive_data(first, 0.0, 1.0e9)
    p.session.receive_data(p.master.data_to_send(), 0.0)
    assert p.session.state is S.ONLINE
    assert p.store.terminals()[0]["name"] == "0171-02082"


def test_heartbeats_keep_the_link_and_unanswered_ones_close_it():
    p = Pair(Backlog(), heartbeat_s=60, confirm_timeout_s=10, max_missed=3)
    p.connect()
    p.pump()
    p.run(600)
    assert p.session.online and p.store.terminals()[0]["heartbeats"] == 10
    p.drop_down = lambda data: True          # the master's answers stop arriving
    p.run(300)
    assert p.session.wants_close and p.session.counters["heartbeat_missed"] == 3
    p.session.connection_lost(p.now)
    assert p.session.state is S.OFFLINE and p.session.connect_at() > p.now


def test_reconnect_backs_off_with_jitter_and_resets_after_a_login():
    s = TerminalSession("0171", 1, Backlog(), random.Random(7),
                        SessionSettings(reconnect_min_s=5, reconnect_max_s=300, jitter=0.5))
    waits, now = [], 0.0
    for _ in range(9):
        s.connection_failed(now)
        waits.append(s.connect_at() - now)
        now = s.connect_at()
    for k, w in enumerate(waits):
        full = min(300.0, 5.0 * 2 ** (k + 1))
        assert 0.5 * full <= w <= full
    assert waits[-1] > 100 and len(set(waits)) == len(waits)      # jittered, not in lock-step
    s.connection_made(now)
    s.receive_data(_confirm_of(s.data_to_send()), now)
    s.connection_lost(now)
    assert s.connect_at() - now <= 5.0


def _confirm_of(raw):
    c = MasterConnection(MasterStore(":memory:"))
    c.receive_data(raw, 0.0, 1.0e9)
    return c.data_to_send()


def test_uploads_are_settled_only_by_the_masters_confirm_and_repeats_are_absorbed():
    h = Backlog([unit(d) for d in range(1, 11)])
    p = Pair(h, confirm_timeout_s=5, upload_per_s=1.0)
    p.connect()
    lose = iter([False, True, False, True, True] + [False] * 100)
    p.drop_down = lambda data: decode_frame(data).afn == AFN_CONFIRM and next(lose)
    p.pump()
    p.run(120)
    assert not h.units and not h.in_flight
    assert h.outcomes.count(CONFIRMED) == 10 and h.outcomes.count(LOST) >= 2
    counts = p.store.counts()
    assert counts["units"] == 10 and counts["deliveries"] > 10     # re-sent, stored once


def test_a_cut_connection_hands_uploads_in_flight_back():
    h = Backlog([unit(d) for d in range(1, 4)])
    p = Pair(h, window=2, upload_per_s=10.0)
    p.drop_up = lambda data: decode_frame(data).afn == AFN_CLASS2
    p.connect()
    p.pump()
    p.run(1)
    assert len(h.in_flight) == 2
    p.session.connection_lost(p.now)
    assert h.outcomes == [LOST, LOST] and len(h.units) == 3


def test_uploads_are_rate_limited_after_a_reconnect():
    h = Backlog([unit(d % 28 + 1, pn=d // 28 + 1) for d in range(200)])
    p = Pair(h, upload_per_s=2.0, window=4)
    p.connect()
    p.pump()
    p.run(10, step=0.1)
    sent = p.session.counters["upload_frames"]
    assert 18 <= sent <= 2.0 * 10 + 4


def test_answers_echo_the_time_label_and_long_ones_span_frames():
    p = Pair(Backlog(), frame_bytes=100)
    p.connect()
    p.pump()
    units = [Unit(AFN_CLASS2, 161, pn, {"td": (21, 11, 26)}, False) for pn in range(1, 9)]
    r = p.master.request(AFN_CLASS2, units, p.now, 1.0e9)
    seen = []
    p.drop_up = lambda data: seen.extend(deframe(Deframer(), [data])) and False
    p.pump()
    assert r.outcome == OK and [u.pn for u in r.answer] == list(range(1, 9))
    assert len(seen) > 2 and seen[0].fir and not seen[0].fin and seen[-1].fin
    assert [f.seq for f in seen] == [(r.seq + k) & 0x0F for k in range(len(seen))]
    assert all(f.tp == p.handler.requests[0].tp for f in seen)


def test_requests_time_out_and_denials_are_outcomes():
    p = Pair(Backlog())
    p.connect()
    p.pump()
    p.drop_up = lambda data: True
    r = p.master.request(AFN_CLASS2, [Unit(AFN_CLASS2, 161, 1, {"td": (1, 1, 26)}, False)],
                         p.now, 1.0e9, timeout_s=5)
    p.run(6)
    assert r.outcome == TIMEOUT
    p.drop_up = lambda data: False
    p.handler.answer = lambda frame, now: [Unit(AFN_CONFIRM, 2, 0, None, True)]
    r = p.master.request(AFN_CLASS2, [Unit(AFN_CLASS2, 161, 1, {"td": (1, 1, 26)}, False)],
                         p.now, 1.0e9)
    p.pump()
    assert r.outcome == DENIED


def test_garbage_on_the_link_is_skipped_and_illegal_moves_are_typed_errors():
    p = Pair(Backlog())
    p.connect()
    login = p.session.data_to_send()
    p.master.receive_data(b"\x68\x00\xff" + login, 0.0, 1.0e9)
    p.session.receive_data(b"\x16\x68\x99" + p.master.data_to_send(), 0.0)
    assert p.session.online and p.session.counters["garbage"] >= 1
    with pytest.raises(SessionError, match="connected.*online"):
        p.session.connection_made(0.0)


def test_frames_for_another_terminal_are_ignored():
    p = Pair(Backlog())
    p.connect()
    p.pump()
    other = Frame(0x0D, b"", up=False, prm=True, func=11, region="0171", terminal=9)
    p.session.receive_data(encode_frame(other), p.now)
    assert p.session.counters["frame_not_for_us"] == 1 and not p.session.data_to_send()


class PullOnly(Backlog):
    """A handler with nothing to push: ``next_upload`` must not be asked."""

    def __init__(self):
        super().__init__()
        self.asked = 0

    def next_upload(self, max_bytes):
        self.asked += 1
        return None


def test_a_handler_with_nothing_to_push_is_not_asked_for_an_upload():
    handler = PullOnly()
    p = Pair(handler, heartbeat_s=30)
    p.connect()
    p.pump()
    p.run(120)
    assert p.session.online and p.store.terminals()[0]["heartbeats"] == 4
    assert handler.asked == 0


def test_every_seq_waiting_closes_the_link_and_is_counted_once():
    p = Pair(Backlog([unit(d) for d in range(1, 20)]), heartbeat_s=10, confirm_timeout_s=3600,
             window=14, upload_per_s=100, max_missed=100)
    p.connect()
    p.pump()
    p.drop_down = lambda data: True          # nothing is confirmed from now on
    p.run(35)
    assert p.session.wants_close
    assert p.session.counters["seq_exhausted"] == 1


def test_a_new_heartbeat_period_retunes_the_running_session():
    p = Pair(Backlog(), heartbeat_s=60)
    p.connect()
    p.pump()
    p.run(10)
    p.session.retune(300.0, p.now)
    p.run(280)
    assert p.store.terminals()[0]["heartbeats"] == 0         # not at 60 s any more
    p.run(20)
    assert p.store.terminals()[0]["heartbeats"] == 1          # at 300 s
    assert p.session.settings.heartbeat_s == 300.0 and p.session.counters["heartbeat_retuned"] == 1
    p.session.retune(30.0, p.now)                             # shorter, overdue: now
    assert p.session.next_deadline() <= p.now + 30.0


def test_f1_answer_timeout_and_resends_apply_to_frames_sent_from_now_on():
    p = Pair(Backlog(), heartbeat_s=60, confirm_timeout_s=30, login_tries=3)
    configured = p.session.settings
    p.session.retune(60.0, p.now, confirm_timeout_s=5.0, login_tries=1)
    assert (p.session.settings.confirm_timeout_s, p.session.settings.login_tries) == (5.0, 1)
    assert (configured.confirm_timeout_s, configured.login_tries) == (30, 3)   # kept as loaded
    assert p.session.counters.get("heartbeat_retuned", 0) == 0          # the heartbeat did not
    p.drop_down = lambda data: True                 # the master never confirms the login
    p.connect()
    p.pump()
    p.run(6)                                        # one login, 5 s, no resend: the link drops
    assert p.session.wants_close
