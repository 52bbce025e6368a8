"""Nothing lost without being counted: a reading is delivered only when the master's confirm for
its very frame arrives. A denial (AFN00 F2) puts it back in the backlog, and after
``max_denies`` denials it is rejected - kept, counted and listed, never silently gone; a late
confirm that carries a reused 4-bit SEQ does not settle the frame now using that SEQ."""
from hostlink.master import MasterConnection
from hostlink.store import MasterStore
from protocols.gdw1376_1 import Deframer, Frame, Unit, encode_frame
from protocols.gdw1376_1.units import AFN_CLASS2, AFN_CONFIRM, encode_units

from tests.helpers import deframe
from tests.hostlink.helpers import concentrator


def _frames(data):
    return deframe(Deframer(), [data]) if data else []


def _deny(f):
    return encode_frame(Frame(AFN_CONFIRM, encode_units([Unit(AFN_CONFIRM, 2, 0, None, False)]),
                              up=False, prm=False, func=0, region=f.region, terminal=f.terminal,
                              msa=1, seq=f.seq))


class Link:
    """The agent's session and a master's connection core in memory; ``up(frame)`` and
    ``down(frame, confirmed_frame)`` say what happens to each frame on the way: True to
    deliver, False to lose, or bytes to deliver instead."""

    def __init__(self, agent, up=None, down=None, **timing):
        self.agent = agent
        self.session = agent.uplink.session
        for k, v in timing.items():
            setattr(self.session.settings, k, v)
        self.master = MasterConnection(MasterStore(":memory:"))
        self.up = up or (lambda f: True)
        self.down = down or (lambda f, sent: True)
        self.sent = {}                  # SEQ -> the last uplink frame the master received
        self.inject = []                # bytes for the session before anything else
        self.now = 0.0
        self.session.connection_made(self.now)

    def run(self, seconds, step=0.5):
        end = self.now + seconds
        while self.now < end:
            self.session.on_timer(self.now)
            self.master.on_timer(self.now)
            for _ in range(20):
                moved = False
                while self.inject:
                    self.session.receive_data(self.inject.pop(0), self.now)
                for f in _frames(self.session.data_to_send()):
                    moved = True
                    what = self.up(f)
                    if what is not False:
                        self.sent[f.seq] = f
                        self.master.receive_data(f.raw if what is True else what, self.now,
                                                 1.0e9)
                for f in _frames(self.master.data_to_send()):
                    moved = True
                    what = self.down(f, self.sent.get(f.seq))
                    if what is not False:
                        self.session.receive_data(f.raw if what is True else what, self.now)
                if not moved:
                    break
            self.now += step

    def settled_not_at_master(self):
        """Readings the agent counts as delivered that the master does not hold."""
        at_master = {(d["pn"], d["label"]) for d in self.master.station.data()}
        rows = self.agent.store.db.execute("SELECT addr, period FROM reading WHERE confirmed = 1"
                                           " AND task = 'daily_freeze'").fetchall()
        return [(a, p) for a, p in rows
                if (self.agent.uplink.point_of(a), _label(p)) not in at_master]


def _label(period):
    y, m, d = period.split("-")
    return "%s-%s-%s" % (d, m, y[2:])


def test_a_denial_puts_the_readings_back_and_they_are_delivered_later():
    agent = concentrator(2082, meters=2)
    denials = [1]

    def down(f, sent):
        if sent is not None and sent.afn == AFN_CLASS2 and denials[0]:
            denials[0] -= 1
            return _deny(f)
        return True
    link = Link(agent, down=down, upload_per_s=5.0)
    link.run(5)
    assert link.master.station.counts()["units"] == 2 and agent.store.unsent_count() == 0
    assert agent.store.rejected() == [] and agent.store.counter("readings_denied") == 2
    assert agent.counters["uplink_denied"] == 2


def test_readings_denied_max_denies_times_are_rejected_counted_and_listed():
    agent = concentrator(2082, meters=2)
    link = Link(agent, down=lambda f, sent: _deny(f) if sent is not None and
                sent.afn == AFN_CLASS2 else True, upload_per_s=5.0)
    link.run(10)
    rejected = agent.store.rejected()
    assert [(r.addr, r.task, n) for _, r, n in rejected] == [
        ("002082000001", "daily_freeze", 3), ("002082000002", "daily_freeze", 3)]
    assert agent.store.counter("readings_rejected") == 2 and agent.store.unsent_count() == 0
    assert agent.counters["uplink_rejected"] == 2
    assert "denied 3 times" in agent.store.logged("uplink_rejected")[-1][2]


def test_a_late_confirm_does_not_settle_the_frame_that_reuses_its_seq():
    agent = concentrator(2082, meters=40)
    state = {"first": None, "held": None, "b": None}

    def up(f):
        if f.afn != AFN_CLASS2:
            return True
        if state["first"] is None:
            state["first"] = f
        elif (state["held"] and state["b"] is None and f.seq == state["first"].seq
              and f.data != state["first"].data):
            state["b"] = f              # the frame that reuses the SEQ: lost on the way up,
            link.inject.append(state["held"])       # and the first one's confirm comes late
            state["held"] = b""
            return False
        return True

    def down(f, sent):
        if state["held"] is None and sent is state["first"] is not None:
            state["held"] = f.raw        # the master's confirm of the first upload: held back
            return False
        return True
    link = Link(agent, up=up, down=down, frame_bytes=64, upload_per_s=1.0, confirm_timeout_s=5.0,
                late_confirm_s=20.0)
    link.run(40)
    assert state["b"] is not None and state["held"] == b""      # the late confirm came
    assert link.settled_not_at_master() == []
    late = link.session.counters
    assert late.get("confirm_late", 0) + late.get("confirm_mismatch", 0) == 1
    link.run(200)
    assert link.settled_not_at_master() == [] and agent.store.unsent_count() == 0
    assert link.master.station.counts()["units"] == 40
