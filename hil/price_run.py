"""A price change (调价) in virtual time: a seeded area of local-wallet and remote-cost-control
meters, a ladder campaign effective at midnight, a share of meters unreachable for a day from
the start, payments on both sides of the switch (each sent twice); a scenario's ``[price]``
section builds one (``PriceRun.from_scenario``).

KPIs from ground truth (the simulated meters' own wallets and registers, never the agent's
belief): meters billing at the wrong price after the switch (reachable and not), kWh a
late-written meter billed at the old price, money mis-charged per remote customer (the agent's
balance against the meter's registers at its switch-over freeze, exact micro-yuan), campaign
states and completion time, wrongful/missed relay operations, top-ups applied twice (the
meters' purchase counts against the distinct payments).
"""
import random

import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.campaign import Campaign, Campaigns
from edge.prepaid.engine import PrepaidSettings
from edge.prepaid.ledger import Account
from edge.prepaid.policy import FriendlyWindows
from edge.prepaid.reprice import meter_tables
from edge.prepaid.tariff import UYUAN, tariff_from_dict
from edge.store import SIM_BATCH, Store
from meter_sim.faults import firmware
from meter_sim.firmware import reads
from meter_sim.firmware.meter import LOCAL
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.prepaid_run import watch_relays
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY + 8 * 3600.0
SWITCH = DEFAULT_EPOCH + 2 * DAY                 # the next midnight
PORT = "rs485-1"
OLD = {"kind": "flat", "price": 0.5}
NEW = {"kind": "ladder", "blocks": [[5, 0.6], ["none", 0.9]]}
OPENING = 500.0                 # yuan: no credit trip gets in the way of the price check
TRIP = -1000.0                  # yuan: the agent's trip level for remote customers
PAYMENT = 20.0                  # yuan
RESENT_AFTER_S = 3600.0         # the billing system sends every payment again (idempotence)


def regs(m, t):
    """The meter's forward registers (total, tariffs 1-4) at true time ``t`` as it reports them."""
    return [reads._energy(m, 0x01, k, t) for k in range(5)]


class PriceRun:
    """One run: the area, the agent on it, the campaign, the seeded outages and payments."""

    def __init__(self, count=40, seed=7, medium="rs485", local_share=0.5,
                 unreachable_share=0.05, outage_h=24.0, pay_share=0.1, faulty=0, start=START,
                 switch=SWITCH, old_price=0.5, new=None, target=None,
                 campaign_id="ladder-at-midnight", secured=0.0, area_kw=None):
        self.start, self.switch = start, switch
        self.old, self.new = {"kind": "flat", "price": old_price}, dict(new or NEW)
        self.env = simpy.Environment(initial_time=start)
        kw = dict(area_kw or {})            # a scenario's [channel], [topology], [noise], ...
        population = dict(kw.pop("population", None) or {}, local_share=local_share,
                          secured_share=secured)
        self.area = build_area(self.env, count, medium, seed, DEFAULT_EPOCH,
                               population=population, **kw)
        self.moves = watch_relays(self.area.meters)
        self.fw = [firmware(m) for m in self.area.meters]
        self.addr = [m.addr[::-1].hex() for m in self.area.meters]
        doc = {"port": [{"name": PORT, "url": "sim:%s" % medium, "medium": medium}],
               "meter": [{"addr": a, "port": PORT, "tariff": "flat",
                          "prepaid": "local" if m.mode == LOCAL else "remote",
                          "customer": "%012d" % (i + 1),
                          **({"control_level": 0x98} if m.esam is not None else {})}
                         for i, (a, m) in enumerate(zip(self.addr, self.fw))]}
        settings = PrepaidSettings.from_dict({
            "every_min": 15, "tariff": {"flat": {"price": old_price}}, "audit_every_h": 0,
            "inbox_s": 60, "defaults": {"alarm": 1.0, "trip": TRIP, "balance": OPENING},
            **({"security": "test-key"} if secured else {})})
        settings.friendly = FriendlyWindows(0, 0, weekends=False)
        self.agent = Agent(Archive.from_dict(doc), Store(":memory:", durable=False, batch=SIM_BATCH),
                           Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                           now=self.env.now, wall=self.env.now, prepaid=settings)
        self.runtime = SimRuntime(self.env, self.agent, {PORT: self.area.network})
        for m in self.fw:
            if m.wallet is not None:
                m.wallet._balance = OPENING
        rng = random.Random("%s/price" % seed)
        self.local = [i for i, m in enumerate(self.fw) if m.mode == LOCAL]
        self.remote = [i for i, m in enumerate(self.fw) if m.mode != LOCAL]
        self.dead = sorted(rng.sample(range(count), int(round(count * unreachable_share))))
        self.outage_end = start + outage_h * 3600.0
        self.faulty = [i for i in self.local if i not in self.dead][:faulty]
        self.paid = {i: [] for i in range(count)}
        self.events = [(self.outage_end, "power_up", i) for i in self.dead]
        self.events += [(switch - 1800.0, "lose_standby", i) for i in self.faulty]
        for i in range(count):          # a local meter's top-up is always sealed (ESAM)
            if rng.random() < pay_share and (i in self.remote or self.fw[i].esam is not None):
                for n, t in enumerate((switch - rng.uniform(600, 6 * 3600),
                                       switch + rng.uniform(600, 6 * 3600))):
                    pid = "pay-%d-%d" % (i, n)
                    self.events += [(t, "pay", (i, pid)), (t + RESENT_AFTER_S, "resend", (i, pid))]
        self.events.sort(key=lambda e: (e[0], e[1], str(e[2])))
        self.covered = set(range(count)) if target is None else set(target)
        addrs = None if target is None else {"meters": [self.addr[i] for i in sorted(target)]}
        self.campaign = Campaign(campaign_id, switch, self.new, addrs)
        self.first_count = [m.wallet.purchase_count if m.wallet is not None else 0
                            for m in self.fw]
        self.initial_tables = [(w.prices, w.ladder) if w is not None else None
                               for w in (m.wallet for m in self.fw)]
        self.campaigns = Campaigns(self.agent.store.db)

    @classmethod
    def from_scenario(cls, sc):
        """The run of a scenario's ``[price]`` section (``hil.scenario``)."""
        from hil.scenario import price_effective
        p = sc.price
        return cls(count=sc.meters, seed=sc.seed, medium=sc.medium,
                   local_share=p["local_share"], unreachable_share=p["unreachable"],
                   outage_h=p["unreachable_h"], pay_share=p["pay"], faulty=p["faulty"],
                   start=sc.start, switch=price_effective(sc.start, p.get("effective")),
                   old_price=p["old_price"],
                   new={k: v for k, v in p["tariff"].items() if v is not None},
                   target=p.get("meters"), campaign_id=p["id"], secured=p["secured"],
                   area_kw=sc.area_kw)

    def run_scenario(self, end, progress=None):
        """Run to local time ``end`` with ``progress(done_s, total_s)`` every virtual hour."""
        if progress is not None:
            def tick():
                while True:
                    yield self.env.timeout(3600.0)
                    progress(min(self.env.now, end) - self.start, end - self.start)
            self.env.process(tick())
        for i in self.dead:
            self.fw[i].power_down(self.env.now)
        self.campaigns.post([self.campaign], self.agent.archive, self.env.now)
        return self.run_until(end)

    def run(self, hours_after=24.0):
        return self.run_scenario(self.switch + hours_after * 3600.0)

    def run_until(self, end):
        """Run to local time ``end``; the KPIs (``report``)."""
        for t, what, i in self.events:
            if t > end:
                break
            if t > self.env.now:
                self.env.run(until=t)
            if what == "power_up":
                self.fw[i].power_up(self.env.now)
            elif what == "lose_standby":         # a firmware fault: the stored set is lost
                self.fw[i].wallet.standby_prices = (self.old["price"],) * 4
            else:
                (i, pid) = i
                if what == "pay":           # ground truth: what the customer paid, once
                    self.paid[i].append(int(PAYMENT * UYUAN))
                self.runtime.call(self.agent.prepaid.pay, pid, "%012d" % (i + 1), PAYMENT)
        if end > self.env.now:
            self.env.run(until=end)
        return self.report()

    # --- ground truth ---------------------------------------------------------------------
    def wrong_price(self, i):
        """Whether local meter ``i`` bills at anything but what it should now: the campaign's
        tables when the campaign covers it, its own first tables when not."""
        if i not in self.covered:
            w = self.fw[i].wallet
            return (w.prices, w.ladder) != self.initial_tables[i]
        prices, ladder = meter_tables(self.campaign.tariff)
        want_rates = tuple(prices["price_%d" % k] for k in range(1, 5))
        uppers = [ladder["value_%d" % k] for k in range(1, 7) if ladder["value_%d" % k]]
        want_ladder = (uppers, [ladder["price_%d" % k] for k in range(1, len(uppers) + 2)])
        w = self.fw[i].wallet
        return w.prices != want_rates or w.ladder != want_ladder

    def old_price_kwh(self, i):
        """kWh local meter ``i`` billed at the old price after the campaign's instant."""
        m = self.fw[i]
        if i not in self.covered:
            return 0.0
        due = m.clock.true_time(self.switch)
        done = [ts for which, _, ts in m.switches if which == "prices"]
        upto = done[0] if done else self.env.now
        return round(sum(regs(m, upto)[1:]) - sum(regs(m, due)[1:]), 2) if upto > due else 0.0

    def true_balance(self, i, t):
        """Remote customer ``i``'s balance at ``t`` from the meter's own registers (micro-yuan;
        None before its first prepaid read)."""
        m, addr = self.fw[i], self.addr[i]
        first = next((r for r in self.agent.store.readings(addr, "prepaid")
                      if r.quality == "ok"), None)
        if first is None or first.value["at"] > t:
            return None
        old = tariff_from_dict(self.old)
        new = tariff_from_dict(self.new) if i in self.covered else old
        ref = Account("%012d" % (i + 1), int(OPENING * UYUAN))
        ref.charge(first.value["kwh"], first.value["at"], old)
        if t > self.switch:
            ref.charge(regs(m, m.clock.true_time(self.switch)), self.switch, old)
        ref.charge(regs(m, m.clock.true_time(t)), t, new if t > self.switch else old)
        return ref.balance + sum(self.paid[i][:self._paid_by(i, t)])

    def _paid_by(self, i, t):
        return sum(1 for et, what, x in self.events if what == "pay" and x[0] == i and et <= t)

    def mischarged_uyuan(self, i):
        """The agent's balance of remote customer ``i`` less the ground truth at the agent's
        last charge (None: not charged past the switch yet)."""
        acct = self.agent.prepaid.ledger.accounts["%012d" % (i + 1)]
        if acct.regs_at is None or acct.regs_at <= self.switch:
            return None
        m = self.fw[i]
        old = tariff_from_dict(self.old)
        new = tariff_from_dict(self.new) if i in self.covered else old
        first = next(r for r in self.agent.store.readings(self.addr[i], "prepaid")
                     if r.quality == "ok")
        ref = Account(acct.customer, int(OPENING * UYUAN) + sum(self.paid[i]))
        ref.charge(first.value["kwh"], first.value["at"], old)
        ref.charge(regs(m, m.clock.true_time(self.switch)), self.switch, old)   # its freeze
        ref.charge([c / 100.0 for c in acct.regs], acct.regs_at, new)
        return acct.balance - ref.balance

    def relay_ops(self):
        """(wrongful, missed) relay operations against ground truth: an open while the
        customer's true balance (the meter's own wallet, or the reference ledger) was above
        its trip level; a closed relay at the end under it."""
        wrongful = missed = 0
        for i, moves in enumerate(self.moves):
            w = self.fw[i].wallet
            for t, closed in moves:
                if closed:
                    continue
                if w is not None:           # its own wallet: still in credit at the end
                    wrongful += self.fw[i].balance(self.env.now) > 0
                else:
                    bal = self.true_balance(i, t)
                    wrongful += bal is not None and bal > TRIP * UYUAN
            if w is None:
                bal = self.true_balance(i, self.env.now)
                missed += (bal is not None and bal <= TRIP * UYUAN
                           and self.fw[i].relay.closed)
        return wrongful, missed

    def topups(self):
        """(top-ups applied twice, payments not applied yet) of the local meters, by the
        meters' own purchase counts against the distinct payments made."""
        twice = pending = 0
        for i in self.local:
            applied = self.fw[i].wallet.purchase_count - self.first_count[i]
            twice += max(0, applied - len(self.paid[i]))
            pending += max(0, len(self.paid[i]) - applied)
        return twice, pending

    def report(self):
        rows = {r[1]: r for r in self.campaigns.rows(self.campaign.id)}
        reachable = [i for i in self.local if i not in self.dead and i not in self.faulty]
        switched_at = [r[6][-1][0] for r in rows.values() if r[3] == "switched"]
        mis = {self.addr[i]: self.mischarged_uyuan(i) for i in self.remote}
        wrongful, missed = self.relay_ops()
        twice, pending = self.topups()
        return {
            "meters": len(self.fw), "local": len(self.local), "remote": len(self.remote),
            "unreachable": len(self.dead), "faulty": len(self.faulty),
            "covered": len(self.covered), "states": self.campaigns.counts(),
            "wrong_price_reachable": sum(self.wrong_price(i) for i in reachable),
            "wrong_price_unreachable": sum(self.wrong_price(i) for i in self.local
                                           if i in self.dead),
            "old_price_kwh_after_switch": {self.addr[i]: self.old_price_kwh(i)
                                           for i in self.local if self.old_price_kwh(i)},
            "mischarged_customers": sum(1 for v in mis.values() if v),
            "mischarged_uyuan_total": sum(abs(v) for v in mis.values() if v),
            "remote_unsettled": sum(1 for v in mis.values() if v is None),
            "failed": {a: r[4] for a, r in rows.items() if r[3] == "failed"},
            "completion_s": round(max(switched_at) - self.switch, 1) if switched_at else None,
            "payments": sum(len(p) for p in self.paid.values()),
            "wrongful_relay_ops": wrongful, "missed_relay_ops": missed,
            "topups_applied_twice": twice, "topups_not_applied": pending,
        }
