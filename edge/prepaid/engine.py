"""The cost-control engine in the agent: settings, balances charged from prepaid reads, the
policy evaluated on every reading and payment, commands journaled and carried out by jobs.

Master-station commands (trip, allow-close, keep-power on/off) enter through ``command`` and
pass the same checks as the policy's own: a trip under keep-power or in a friendly window, or
a close of a meter still below its close-allowed amount, is refused and journaled as such. A
relay control a master forwards as a DL/T 645 frame (AFN10 F1) to one of our meters passes the
same checks (``forward``); the journal and the command jobs are ``edge.prepaid.carrier``'s.
Price campaigns (``edge.prepaid.campaign``) re-price local wallets (``reprice``) and switch the
remote customers' ledgers at their instant (``pricing``).
"""
import itertools

from protocols.civil import DAY, iso

from edge.effects import SleepUntil
from edge.prepaid.audit import PARAMETERS, LocalAudit
from edge.prepaid.campaign import PENDING as CAMPAIGN_PENDING, Campaigns
from edge.prepaid import pricing
from edge.prepaid.reprice import Repricer
from edge.prepaid.carrier import Carrier, forward_id, forwarded_action
from edge.prepaid.jobs import PrepaidRead, SwitchFreeze
from edge.prepaid.ledger import Ledger
from edge.prepaid.security import KINDS
from edge.prepaid.topup import TopUps
from edge.prepaid.policy import (ALARM, ALLOW_CLOSE, CLOSES, KEEP_POWER, KEEP_POWER_RELEASE, TRIP,
                                 FriendlyWindows, Situation, Thresholds, decide)
from edge.prepaid.tariff import UYUAN, tariff_from_dict, to_uyuan, to_yuan
from edge.scheduler import PREPAID

NOMINAL_V = 220.0
FRIENDLY_MARGIN_S = 600.0       # no credit trip this close to a friendly window
FREEZE_ASK_AGAIN_S = 3600.0      # a switch-over freeze not had is asked again at most this often


class PrepaidSettings:
    """``[prepaid]``: read interval, command expiry, guards, friendly windows, tariffs, and the
    customers' thresholds (defaults in ``[prepaid.defaults]``, per customer in
    ``[[prepaid.customer]]``). Amounts in yuan."""

    DEFAULTS = {"alarm": 20.0, "trip": 0.0, "close_allowed": 10.0, "balance": 100.0,
                "direct_close": False, "keep_power": False}

    def __init__(self, every_min=15, expiry_h=24.0, voltage_guard=0.7, large_current_a=30.0,
                 large_current_max_min=120.0, friendly=None, tariffs=None, defaults=None,
                 customers=None, password="000000", level=2, inbox_s=5.0, audit_every_h=6,
                 local=None, security="hardware", esam_session_min=5.0):
        for name, every in (("every_min", every_min * 60), ("audit_every_h", audit_every_h * 3600)):
            if every and (every < 0 or 86400 % every):
                raise ValueError("%s must divide a day, got %r" % (name, every))
        if not every_min:
            raise ValueError("every_min must be set: balances are charged from these reads")
        self.every_min = every_min
        self.expiry_h = expiry_h
        self.voltage_guard = voltage_guard
        self.large_current_a = large_current_a
        self.large_current_max_s = large_current_max_min * 60.0
        self.friendly = friendly or FriendlyWindows()
        self.tariffs = tariffs or {"flat": tariff_from_dict({"kind": "flat", "price": 0.56})}
        self.defaults = dict(self.DEFAULTS, **(defaults or {}))
        self.customers = dict(customers or {})
        self.password = password
        self.level = level
        self.inbox_s = inbox_s          # how often the payment inbox is looked at (0: never)
        self.audit_every_h = audit_every_h          # local-wallet audit (0: none)
        self.local = dict(local or {})              # expected local thresholds, yuan
        if security not in KINDS:
            raise ValueError("security must be one of %s, got %r" % (", ".join(KINDS), security))
        self.security = security        # backend of meters archived control_level = 152 (98H)
        self.esam_session_min = esam_session_min

    KEYS = {"every_min", "expiry_h", "voltage_guard", "large_current_a", "large_current_max_min",
            "password", "level", "inbox_s", "audit_every_h", "local", "friendly", "tariff",
            "defaults", "customer", "security", "esam_session_min"}

    @classmethod
    def from_dict(cls, doc):
        """From the ``[prepaid]`` table; ValueError names every unknown key."""
        doc = dict(doc)
        bad = sorted(set(doc) - cls.KEYS)
        bad += ["defaults.%s" % k for k in sorted(set(doc.get("defaults", {})) - set(cls.DEFAULTS))]
        for c in doc.get("customer", []):
            if "id" not in c:
                bad.append("customer without id")
            bad += ["customer %s: %s" % (c.get("id"), k)
                    for k in sorted(set(c) - set(cls.DEFAULTS) - {"id"})]
        bad += ["local.%s" % k for k in sorted(set(doc.get("local", {})) - set(PARAMETERS))]
        if bad:
            raise ValueError("unknown [prepaid] settings: %s" % ", ".join(bad))
        friendly = doc.pop("friendly", None)
        if friendly is not None:
            night = friendly.get("night", (20, 8))
            friendly = FriendlyWindows(night[0], night[1], friendly.get("weekends", True),
                                       friendly.get("holidays", ()))
        tariffs = {k: tariff_from_dict(dict(v, kind=v.get("kind", k)))
                   for k, v in doc.pop("tariff", {}).items()} or None
        customers = {c["id"]: c for c in doc.pop("customer", [])}
        return cls(friendly=friendly, tariffs=tariffs, defaults=doc.pop("defaults", None),
                   customers=customers, **doc)

    def customer(self, cid):
        """A customer's settings: defaults overlaid by its own entry."""
        return dict(self.defaults, **self.customers.get(cid, {}))


class Prepaid(Carrier):
    """Cost control over the agent's remote-prepaid meters."""

    def __init__(self, agent, settings):
        Carrier.__init__(self, agent, settings)
        self.ledger = Ledger(agent.store)
        self.keep_power = {}            # customer -> keep-power set (config or master)
        self._ids = itertools.count(1)
        self.tasks = [PrepaidRead(settings.every_min * 60.0, 0.0, settings.every_min * 60.0)]
        self.switch_task = SwitchFreeze(settings.every_min * 60.0, 0.0, settings.every_min * 60.0)
        self.freeze_asked = {}              # (addr, switch): when its switch-over freeze was asked
        if settings.audit_every_h:
            every = settings.audit_every_h * 3600.0
            self.tasks.append(LocalAudit(every, 600.0, every, settings.local))
        for m in self.meters():
            c = settings.customer(m.customer)
            self.ledger.open(m.customer, to_uyuan(c["balance"]))
            self.keep_power.setdefault(m.customer, bool(c["keep_power"]))
        self.keep_power.update(self.ledger.keep_power())   # the master's word survives restarts
        for addr, (action, source) in self.journal.last_relay_done().items():
            self.belief(addr).for_credit = action == TRIP and source == "policy"
        self.topups = TopUps(self)
        self.campaigns = Campaigns(agent.store.db)
        self.repricer = Repricer(self, self.campaigns)

    def resume(self):
        """Carry on with the commands a restart interrupted (their state is in the journal), and
        start watching the payment inbox."""
        if self.settings.inbox_s:
            self.agent.spawn(self._inbox_job(), None, PREPAID, None)
        self.resume_commands()
        self.topups.resume()
        self.repricer.start()

    def meters(self, customer=None):
        return [m for m in self.agent.archive.meters.values() if m.prepaid == "remote"
                and (customer is None or m.customer == customer)]

    def level(self, meter):
        return int(meter.extra.get("control_level", self.settings.level))

    def password(self, meter):
        return bytes.fromhex(str(meter.extra.get("password", self.settings.password)))[::-1]

    # --- inputs -------------------------------------------------------------------------------
    def on_reading(self, meter, reading):
        """A prepaid read: charge the balance, note the relay and the guards, decide."""
        v = reading.value
        self.observe(meter, v["status3"], v["at"])
        b = self.belief(meter.addr)
        b.voltage_low = v["voltage"] < self.settings.voltage_guard * NOMINAL_V
        if v["current"] > self.settings.large_current_a:
            b.high_since = b.high_since if b.high_since is not None else v["at"]
        else:
            b.high_since = None
        acct = self.ledger.accounts[meter.customer]
        if self._charge(meter, acct, v) is not None:
            self.ledger.save(acct)
        self.evaluate(meter)

    def _charge(self, meter, acct, v):
        """Charge a reading under the meter's tariff and the campaigns covering it: a reading
        across a switch is split at the meter's own registers of the instant, or held."""
        tariff = self.settings.tariffs.get(meter.tariff) or next(iter(self.settings.tariffs.values()))
        changes = [(c.effective, c) for c in self.campaigns.all() if c.covers(meter)]
        if not changes:
            return acct.charge(v["kwh"], v["at"], tariff)
        schedule = pricing.Schedule(tariff, [(at, c.tariff) for at, c in changes])
        crossed = [] if acct.regs_at is None else schedule.switches(acct.regs_at, v["at"])
        tou = any(t.kind == "tou" for t in schedule.tariffs)
        step = next((t.interval_min * 60 for t in self.agent.tasks if t.name == "load_curve"),
                    None)
        splits = {}
        for s in crossed:
            regs = pricing.split_registers(self.agent.store, meter.addr, s, acct.regs, tou, step)
            if regs is not None:
                splits[s] = regs
        cost = pricing.charge(acct, v["kwh"], v["at"], schedule, splits)
        if cost == pricing.PENDING:
            self.agent.count("price_split_pending")
            self._ask_switch_freeze(meter, [s for s in crossed if s not in splits])
            return None
        if cost is not None:
            for at, c in changes:
                if at <= v["at"] and self.campaigns.state(c.id, meter.addr) == CAMPAIGN_PENDING:
                    note = ("ledger split at %s kWh" % splits[at][0] if at in crossed else
                            "first reading charged after the switch")
                    self.campaigns.move(c.id, meter.addr, "switched", self.agent.wall, note)
        return cost

    def _ask_switch_freeze(self, meter, switches):
        """Read the meter's switch-over freeze once per switch a held reading waits on."""
        if not self.switch_task.applies(meter, self.agent.wall):
            return
        for s in switches:
            if s % DAY == 0 and not self.agent.store.readings(meter.addr, "daily_freeze",
                                                               iso(s - DAY)[:10]):
                continue                    # that midnight's daily freeze is still to come
            asked = self.freeze_asked.get((meter.addr, s))
            if asked is None or self.agent.wall - asked >= FREEZE_ASK_AGAIN_S:
                self.freeze_asked[(meter.addr, s)] = self.agent.wall
                self.agent.read_from_now(meter, self.switch_task, iso(s), self.tasks[0].every_s)

    def local_meters(self, customer):
        return [m for m in self.agent.archive.meters.values() if m.prepaid == "local"
                and m.customer == customer]

    def pay(self, payment_id, customer, amount_yuan):
        """Apply a payment once; then re-decide for the customer's meters. A customer of a
        local-wallet meter gets a remote top-up of that meter instead (``edge.prepaid.topup``)."""
        local = self.local_meters(customer)
        if local and customer not in self.ledger.accounts:
            if self.topups.get(payment_id) is not None:
                return False
            self.topups.submit(payment_id, local[0], customer, to_uyuan(amount_yuan))
            return True
        if customer not in self.ledger.accounts:
            raise KeyError("no prepaid customer %r" % customer)
        applied = self.ledger.pay(payment_id, customer, to_uyuan(amount_yuan), self.agent.wall)
        if applied:
            for m in self.meters(customer):
                self.read_now(m, "pay " + payment_id)
        return applied

    def read_now(self, meter, label):
        """A prepaid read now (energy, relay): a decision after a payment stands on fresh
        registers, not on the last periodic read up to an interval old."""
        task = self.tasks[0]
        self.agent.read_from_now(meter, task, "%s %s" % (iso(self.agent.wall), label), task.every_s)

    def _inbox_job(self):
        while True:
            self.apply_inbox()
            self.repricer.start()               # campaigns posted since
            yield SleepUntil(self.agent.now + self.settings.inbox_s)

    def apply_inbox(self):
        """Apply the payments left in the inbox; one for an unknown customer stays there and
        is counted."""
        for pid, customer, amount, at in self.ledger.inbox():
            if customer not in self.ledger.accounts and not self.local_meters(customer):
                self.agent.count("payment_unknown_customer")
                continue
            self.pay(pid, customer, amount / float(UYUAN))
            self.ledger.take(pid)

    # --- deciding -----------------------------------------------------------------------------
    def situation(self, meter):
        c = self.settings.customer(meter.customer)
        b = self.belief(meter.addr)
        th = Thresholds(to_uyuan(c["alarm"]), to_uyuan(c["trip"]), to_uyuan(c["close_allowed"]),
                        bool(c["direct_close"]))
        until = None if b.high_since is None else b.high_since + self.settings.large_current_max_s
        return Situation(self.ledger.accounts[meter.customer].balance, th,
                         self.keep_power.get(meter.customer, False) or b.keep,
                         self._friendly(self.agent.wall), b.voltage_low, until,
                         self.agent.wall, b.open or b.cmd_open, b.for_credit, b.alarm)

    def _friendly(self, t):
        w = self.settings.friendly
        return w.active(t) or w.active(t + FRIENDLY_MARGIN_S)

    def friendly_soon(self):
        return self._friendly(self.agent.wall)

    def withdraw(self, meter, cmd):
        """A trip the meter still holds as a friendly window comes: cancel it with 1B (which
        supersedes the trip in the journal); the policy trips again after the window."""
        self.agent.count("prepaid_trip_withdrawn")
        self._issue(meter, ALLOW_CLOSE, "withdraw held trip before a friendly window", "guard")

    def evaluate(self, meter):
        if not self.belief(meter.addr).seen:
            return None                      # never act on a relay we have not read
        action, reason = decide(self.situation(meter))
        if action is None:
            return None
        cmd = self._issue(meter, action, reason, "policy")
        if action == ALARM and cmd.created == self.agent.wall:
            self._event(meter, "balance_alarm", cmd.id, {"balance": to_yuan(
                self.ledger.accounts[meter.customer].balance)})
        return cmd

    def still_wanted(self, meter, cmd):
        """A policy command is sent (again) only while the policy still asks for it: a payment
        that arrived meanwhile cancels a trip. Master commands stand until they expire."""
        if cmd.source != "policy":
            return True
        s = self.situation(meter)
        if cmd.action == TRIP:
            s.relay_open = False                # re-sending into a relay that did not open
        elif cmd.action in CLOSES:
            s.relay_open = True
        return decide(s)[0] == cmd.action

    def forward(self, meter, control, content, expires, on_answer):
        """A 0x1C control the master forwarded: our meters pass ``command``'s checks, the
        others are only carried (their cost control is the master's)."""
        if meter.prepaid != "remote" or (control.command is None
                                         and not self.security.makes_ciphertext):
            return Carrier.forward(self, meter, control, content, expires, on_answer)
        action = forwarded_action(control)
        cid = forward_id(meter.addr, content)
        known = self.journal.get(cid)
        cmd = known or self.command(meter.addr, action, cid, expires, "forwarded by the master",
                                    content.hex())
        new = known is None and cmd.id == cid        # not absorbed by an open command
        self.answer_when_sent(cmd, new, on_answer)
        return cmd, new

    def command(self, addr, action, command_id, expires=None, reason="master", frame=None):
        """A master-station command through the same journal and checks. Returns the Command,
        or raises ValueError naming why it is refused."""
        meter = self.agent.archive.meters[addr]
        s = self.situation(meter)
        if action == TRIP and (s.keep_power or s.friendly):
            why = "keep_power" if s.keep_power else "friendly_window"
            raise ValueError("trip refused: %s" % why)
        if action in CLOSES and s.balance < s.thresholds.close_allowed:
            raise ValueError("close refused: balance below the close-allowed amount")
        if action in (KEEP_POWER, KEEP_POWER_RELEASE):
            self.keep_power[meter.customer] = action == KEEP_POWER
            self.ledger.set_keep_power(meter.customer, action == KEEP_POWER)
        return self._issue(meter, action, reason, "master", command_id, expires, frame)

    def _issue(self, meter, action, reason, source, command_id=None, expires=None, frame=None):
        now = self.agent.wall
        cid = command_id or "%s-%s-%d-%d" % (source, meter.addr, int(now), next(self._ids))
        if expires is None:
            expires = now + self.settings.expiry_h * 3600.0
        if action == TRIP and expires > now:     # the meter refuses it once a friendly window opens
            expires = self.settings.friendly.next_start(now, expires - now) or expires
        return self.submit(meter, action, reason, source, cid, expires, frame)[0]

    # --- outcomes -----------------------------------------------------------------------------
    def done(self, meter, cmd):
        b = self.belief(meter.addr)
        if cmd.action == TRIP:
            b.for_credit = cmd.source == "policy"
        elif cmd.action in CLOSES:
            b.for_credit = False
        Carrier.done(self, meter, cmd)
