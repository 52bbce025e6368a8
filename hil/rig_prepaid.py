"""Master-station cost control (远程费控) as a lab rig plays it against a concentrator under test.

The rig is the master station: it knows every customer's true balance (the meter's own energy
ledger since the rig started, the opening balance, the payments made so far at a flat price),
and when a balance falls to the trip amount it sends a trip (1A), when a payment lifts it to the
close-allowed amount a direct close (1C) - each a DL/T 645 control frame the concentrator
forwards transparently (AFN10 F1), the one control path every concentrator carries. The KPIs
come from the relays' true moves, never from the concentrator's answers: trip latency from the
balance crossing, reconnect latency from the payment, wrongful and missed operations.
"""
from protocols.civil import DAY, iso
from protocols.dlt645 import apdu, const as K
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_FORWARD
from hostlink.master import OK
from hil.prepaid_run import (CLOSE_ALLOWED, TOLERANCE, TRIP_AT, Plan, Truth, allowed_time,
                             percentiles, watch_relays, wrongful_moves)

TRIP, CLOSE = "trip", "direct_close"
CODES = {TRIP: K.CTRL_TRIP, CLOSE: K.CTRL_DIRECT_CLOSE}
VALID_S = 600.0                 # a control frame's own validity (N3..N8)


class Command:
    """One control the rig decided: every send, the last answer, and when the relay moved."""

    __slots__ = ("meter", "action", "decided", "sent", "answers", "moved", "in_flight")

    def __init__(self, meter, action, decided):
        self.meter = meter
        self.action = action
        self.decided = decided
        self.sent = []
        self.answers = []           # per send: ok, denied, timeout, gone, refused, no_answer
        self.moved = None
        self.in_flight = False


class CostControl:
    """The rig's cost control over ``rig.meters`` for a run of ``duration`` seconds.

    ``doc`` is the scenario's ``[prepaid]``; ``rig_doc`` its ``[rig]`` (control_every_s,
    retry_s, tries, settle_s)."""

    def __init__(self, rig, doc, rig_doc, duration):
        n = len(rig.meters)
        self.rig = rig
        self.every_s = float(rig_doc.get("control_every_s", 5.0))
        self.retry_s = float(rig_doc.get("retry_s", 120.0))
        self.tries = int(rig_doc.get("tries", 3))
        self.settle_s = float(rig_doc.get("settle_s", 300.0))
        # payments fall in the first 10 % to 60 % of the run, so that their closes can be seen
        self.plan = Plan(n, duration / DAY, rig.sc.seed, rig.start, doc.get("keep_power", 0.02),
                         doc.get("pay", 0.6), False, opening=tuple(doc.get("opening", (2.0, 40.0))),
                         pay_between=(0.1 * duration, 0.6 * duration),
                         friendly=doc.get("friendly", True))
        self.moves = watch_relays(rig.meters)
        with rig.lock:
            self.truth = Truth(rig.meters, self.plan, [rig.start] * n, {})
        self.commands = []
        self.pending = {}           # meter index -> its Command not yet seen carried out
        self.tripped = set()        # meters this master opened: its own to close
        self.given_up = set()       # meters whose relay never moved after ``tries`` sends
        self.withdrawn = 0          # trips not carried out before a payment made them unwanted
        self._paid = 0

    # --- deciding -----------------------------------------------------------------------------
    def due(self, t):
        """The Commands to send at ``t`` (new ones and repeats); payments made by ``t`` count."""
        plan, truth = self.plan, self.truth
        while self._paid < len(plan.payments) and plan.payments[self._paid][0] <= t:
            at, i, amount, _ = plan.payments[self._paid]
            truth.pay(i, at, amount)
            self._paid += 1
        out = []
        with self.rig.lock:
            for fw in truth.meters:
                fw.advance(t)
            closed = [fw.relay.closed for fw in truth.meters]
        for i, is_closed in enumerate(closed):
            cmd = self.pending.get(i)
            if cmd is not None:
                if is_closed == (cmd.action == CLOSE):
                    cmd.moved = self.moves[i][-1][0] if self.moves[i] else t
                    del self.pending[i]
                    if cmd.action == TRIP:
                        self.tripped.add(i)
                    else:
                        self.tripped.discard(i)
                elif cmd.action == TRIP and truth.balance(i, t) > TRIP_AT:
                    del self.pending[i]         # paid meanwhile: no longer wanted, not resent
                    self.withdrawn += 1
                elif not cmd.in_flight and t - cmd.sent[-1] >= self.retry_s:
                    if len(cmd.sent) < self.tries:
                        cmd.in_flight = True
                        out.append(cmd)
                    else:
                        self.given_up.add(i)
                        del self.pending[i]
                continue
            if i in self.given_up:
                continue
            b = truth.balance(i, t)
            if is_closed and not plan.keep[i] and b <= TRIP_AT and not plan.friendly.active(t):
                out.append(self._new(i, TRIP, t))
            elif not is_closed and i in self.tripped and b >= CLOSE_ALLOWED:
                out.append(self._new(i, CLOSE, t))
        return out

    def _new(self, i, action, t):
        cmd = self.pending[i] = Command(i, action, t)
        cmd.in_flight = True            # until its send has been answered
        self.commands.append(cmd)
        return cmd

    # --- sending ------------------------------------------------------------------------------
    def unit(self, cmd, t, port):
        """The AFN10 F1 unit carrying ``cmd``'s 645 control frame for the meter."""
        fw = self.truth.meters[cmd.meter]
        control = apdu.Control(CODES[cmd.action], t + VALID_S, level=0x02,
                               password=fw.passwords.get(0x02, b"\x00\x00\x00"))
        return Unit(AFN_FORWARD, 1, 0, {"port": port, "control": 0x6B, "frame_timeout": 30,
                                        "byte_timeout": 1,
                                        "content": encode_frame(control.to_frame(fw.addr))}, False)

    async def send(self, server, terminal, pw, port, cmd):
        """Send ``cmd`` once through the concentrator and note its answer."""
        t = self.rig.now()
        cmd.sent.append(t)
        cmd.in_flight = True
        try:
            r = await server.request(terminal, AFN_FORWARD, [self.unit(cmd, t, port)],
                                     timeout_s=max(60.0, self.retry_s), pw=pw)
        except KeyError:                # the concentrator is not connected now: try again later
            cmd.answers.append("offline")
            return
        finally:
            cmd.in_flight = False
        cmd.answers.append(r.outcome if r.outcome != OK else _meter_answer(r.answer))

    # --- the KPIs -----------------------------------------------------------------------------
    def report(self, t, samples=None):
        """KPIS.md prepaid figures at ``t`` from the relays' true moves; ``samples`` (a dict),
        when given, gets the raw latency lists."""
        plan, truth = self.plan, self.truth
        with self.rig.lock:
            for fw in truth.meters:
                fw.advance(t)
            wrongful = wrongful_moves(self.moves, truth, plan)
            bad = {(w["meter"], w["at"]) for w in wrongful}
            trip_lat, close_lat = [], []
            for i, events in enumerate(self.moves):
                for at, closed in events:
                    if (i, iso(at)) in bad:
                        continue
                    if not closed:
                        trip_lat.append(allowed_time(plan.friendly, truth.crossing(i, at), at))
                        continue
                    pays = [p for p, _ in truth.paid.get(i, ()) if p <= at]
                    if pays:
                        close_lat.append(at - pays[-1])
            missed, held, unreachable = self._missed(t)
        delivery = [c.moved - c.sent[0] for c in self.commands if c.moved is not None and c.sent]
        if samples is not None:
            samples.update(trip_latency_s=trip_lat, reconnect_latency_s=close_lat)
        answers = {}
        for c in self.commands:
            for a in c.answers:
                answers[a] = answers.get(a, 0) + 1
        return {"trip_latency_s": percentiles(trip_lat),
                "reconnect_latency_s": percentiles(close_lat),
                "wrongful_ops": len(wrongful), "missed_ops": len(missed),
                "prepaid": {"mode": "master (远程费控): AFN10 F1 forwarded 645 controls",
                            "delivery_latency_s": percentiles(delivery),
                            "commands": len(self.commands),
                            "trips": sum(1 for c in self.commands if c.action == TRIP),
                            "closes": sum(1 for c in self.commands if c.action == CLOSE),
                            "sends": sum(len(c.sent) for c in self.commands),
                            "answers": dict(sorted(answers.items())),
                            "waiting": len(self.pending), "given_up": len(self.given_up),
                            "withdrawn": self.withdrawn,
                            "relay_moves": sum(len(e) for e in self.moves),
                            "payments": sum(len(v) for v in truth.paid.values()),
                            "keep_power_customers": sum(plan.keep),
                            "stuck_relays": sum(1 for fw in truth.meters if fw.relay.stuck),
                            "held_for_load": held, "missed_unreachable": unreachable,
                            "wrongful": wrongful[:20], "missed": missed[:20]}}

    def _missed(self, t):
        """Operations due for longer than ``settle_s`` and not carried out at ``t``."""
        plan, truth = self.plan, self.truth
        since = t - self.settle_s
        if since <= self.rig.start:
            return [], 0, 0
        quiet = not any(plan.friendly.active(x) for x in range(int(since), int(t) + 1, 60))
        missed, held, unreachable = [], 0, 0
        for i, fw in enumerate(truth.meters):
            relay = fw.relay
            if plan.keep[i] or relay.stuck:
                continue
            # due since ``since`` and still due now (a payment in between lifts a trip)
            low = max(truth.balance(i, since), truth.balance(i, t))
            high = min(truth.balance(i, since), truth.balance(i, t))
            if relay.closed and quiet and low <= TRIP_AT - TOLERANCE:
                op = "trip"
            elif not relay.closed and i in self.tripped and high >= CLOSE_ALLOWED + TOLERANCE \
                    and any(p <= since for p, _ in truth.paid.get(i, ())):
                op = "close"
            else:
                continue
            if op == "trip" and relay.pending and relay.pending[0] == "open":
                held += 1               # the meter holds the trip while its load is large
            elif not self.rig.reachable(i, t):
                unreachable += 1
            else:
                missed.append({"meter": i, "op": op, "balance": round(truth.balance(i, t), 2)})
        return missed, held, unreachable


def _meter_answer(units):
    """What the meter said to a forwarded control: ok (acknowledged), refused, or no_answer."""
    content = units[0].value.get("content", b"") if units and units[0].value else b""
    if not content:
        return "no_answer"
    try:
        reply = apdu.parse_reply(decode_frame(bytes(content)))
    except ProtocolError:
        return "garbled"
    return "ok" if isinstance(reply, apdu.Ack) else "refused"
