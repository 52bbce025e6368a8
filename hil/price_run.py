"""A price change (调价) in virtual time: a seeded area of local-wallet and remote-cost-control
meters, a ladder campaign effective at midnight, a share of meters unreachable for a day from
the start, payments on both sides of the switch.

KPIs from ground truth (the simulated meters' own wallets and registers, never the agent's
belief): meters billing at the wrong price after the switch (reachable and not), kWh a
late-written meter billed at the old price, money mis-charged per remote customer (the agent's
balance against the meter's registers at its switch-over freeze, exact micro-yuan), campaign
states and completion time.
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
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.firmware import reads
from meter_sim.firmware.meter import LOCAL
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY + 8 * 3600.0
SWITCH = DEFAULT_EPOCH + 2 * DAY                 # the next midnight
PORT = "rs485-1"
OLD = {"kind": "flat", "price": 0.5}
NEW = {"kind": "ladder", "blocks": [[5, 0.6], ["none", 0.9]]}
OPENING = 500.0                 # yuan: no credit trip gets in the way of the price check


def regs(m, t):
    """The meter's forward registers (total, tariffs 1-4) at true time ``t`` as it reports them."""
    return [reads._energy(m, 0x01, k, t) for k in range(5)]


class PriceRun:
    """One run: the area, the agent on it, the campaign, the seeded outages and payments."""

    def __init__(self, count=40, seed=7, medium="rs485", local_share=0.5,
                 unreachable_share=0.05, outage_h=24.0, pay_share=0.1, faulty=0):
        self.env = simpy.Environment(initial_time=START)
        self.area = build_area(self.env, count, medium, seed, DEFAULT_EPOCH,
                               population={"local_share": local_share, "secured_share": 0.0})
        self.fw = [firmware(m) for m in self.area.meters]
        self.addr = [m.addr[::-1].hex() for m in self.area.meters]
        doc = {"port": [{"name": PORT, "url": "sim:%s" % medium, "medium": medium}],
               "meter": [{"addr": a, "port": PORT, "tariff": "flat",
                          "prepaid": "local" if m.mode == LOCAL else "remote",
                          "customer": "%012d" % (i + 1)}
                         for i, (a, m) in enumerate(zip(self.addr, self.fw))]}
        settings = PrepaidSettings.from_dict({
            "every_min": 15, "tariff": {"flat": {"price": OLD["price"]}}, "audit_every_h": 0,
            "inbox_s": 60, "defaults": {"alarm": 1.0, "trip": -1000.0, "balance": OPENING}})
        settings.friendly = FriendlyWindows(0, 0, weekends=False)
        self.agent = Agent(Archive.from_dict(doc), Store(":memory:", durable=False),
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
        self.outage_end = START + outage_h * 3600.0
        self.faulty = [i for i in self.local if i not in self.dead][:faulty]
        self.paid = {i: [] for i in self.remote}
        self.events = [(self.outage_end, "power_up", i) for i in self.dead]
        self.events += [(SWITCH - 1800.0, "lose_standby", i) for i in self.faulty]
        for i in self.remote:
            if rng.random() < pay_share:
                for t in (SWITCH - rng.uniform(600, 6 * 3600), SWITCH + rng.uniform(600, 6 * 3600)):
                    self.events.append((t, "pay", i))
        self.events.sort()
        self.campaign = Campaign("ladder-at-midnight", SWITCH, NEW)
        self.campaigns = Campaigns(self.agent.store.db)

    def run(self, hours_after=24.0):
        for i in self.dead:
            self.fw[i].power_down(self.env.now)
        self.campaigns.post([self.campaign], self.agent.archive, self.env.now)
        end = SWITCH + hours_after * 3600.0
        for n, (t, what, i) in enumerate(self.events):
            if t > end:
                break
            if t > self.env.now:
                self.env.run(until=t)
            if what == "power_up":
                self.fw[i].power_up(self.env.now)
            elif what == "lose_standby":         # a firmware fault: the stored set is lost
                self.fw[i].wallet.standby_prices = (OLD["price"],) * 4
            else:
                pid = "pay-%d-%d" % (i, n)
                if self.runtime.call(self.agent.prepaid.pay, pid, "%012d" % (i + 1), 20.0):
                    self.paid[i].append(20 * UYUAN)
        if end > self.env.now:
            self.env.run(until=end)
        return self.report()

    # --- ground truth ---------------------------------------------------------------------
    def wrong_price(self, i):
        """Whether local meter ``i`` bills at anything but the campaign's tables now."""
        prices, ladder = meter_tables(self.campaign.tariff)
        want_rates = tuple(prices["price_%d" % k] for k in range(1, 5))
        uppers = [ladder["value_%d" % k] for k in range(1, 7) if ladder["value_%d" % k]]
        want_ladder = (uppers, [ladder["price_%d" % k] for k in range(1, len(uppers) + 2)])
        w = self.fw[i].wallet
        return w.prices != want_rates or w.ladder != want_ladder

    def old_price_kwh(self, i):
        """kWh local meter ``i`` billed at the old price after the campaign's instant."""
        m = self.fw[i]
        due = m.clock.true_time(SWITCH)
        done = [ts for which, _, ts in m.switches if which == "prices"]
        upto = done[0] if done else self.env.now
        return round(sum(regs(m, upto)[1:]) - sum(regs(m, due)[1:]), 2) if upto > due else 0.0

    def mischarged_uyuan(self, i):
        """The agent's balance of remote customer ``i`` less the ground truth (None: not
        charged past the switch yet)."""
        m, addr = self.fw[i], self.addr[i]
        acct = self.agent.prepaid.ledger.accounts["%012d" % (i + 1)]
        if acct.regs_at is None or acct.regs_at <= SWITCH:
            return None
        old, new = tariff_from_dict(OLD), tariff_from_dict(NEW)
        ref = Account(acct.customer, int(OPENING * UYUAN) + sum(self.paid[i]))
        first = next(r for r in self.agent.store.readings(addr, "prepaid") if r.quality == "ok")
        ref.charge(first.value["kwh"], first.value["at"], old)
        ref.charge(regs(m, m.clock.true_time(SWITCH)), SWITCH, old)     # its midnight freeze
        ref.charge([c / 100.0 for c in acct.regs], acct.regs_at, new)
        return acct.balance - ref.balance

    def report(self):
        rows = {r[1]: r for r in self.campaigns.rows(self.campaign.id)}
        reachable = [i for i in self.local if i not in self.dead and i not in self.faulty]
        switched_at = [r[6][-1][0] for r in rows.values() if r[3] == "switched"]
        mis = {self.addr[i]: self.mischarged_uyuan(i) for i in self.remote}
        return {
            "meters": len(self.fw), "local": len(self.local), "remote": len(self.remote),
            "unreachable": len(self.dead), "faulty": len(self.faulty),
            "states": self.campaigns.counts(),
            "wrong_price_reachable": sum(self.wrong_price(i) for i in reachable),
            "wrong_price_unreachable": sum(self.wrong_price(i) for i in self.local
                                           if i in self.dead),
            "old_price_kwh_after_switch": {self.addr[i]: self.old_price_kwh(i)
                                           for i in self.local if self.old_price_kwh(i)},
            "mischarged_customers": sum(1 for v in mis.values() if v),
            "mischarged_uyuan_total": sum(abs(v) for v in mis.values() if v),
            "remote_unsettled": sum(1 for v in mis.values() if v is None),
            "failed": {a: r[4] for a, r in rows.items() if r[3] == "failed"},
            "completion_s": round(max(switched_at) - SWITCH, 1) if switched_at else None,
            "payments": sum(len(p) for p in self.paid.values()),
        }
