"""Re-pricing a local-cost-control meter (本地费控调价): write the standby rate prices
(040502FF), the standby ladder (04060AFF) and both switch-over times (04000108, 04000109) -
plaintext at the meter's password level, or at level 98 with the ESAM session's MAC where the
meter is archived secured (the phase-1 backends) - read every one back, and after the switch
verify that the wallet falls at the new price against the energy registers. Every step is
journaled in the campaign's meter row.

The campaign's tariff maps onto the meter's two price parts (电价 = 费率电价 + 阶梯电价): flat
and time-of-use set the rate prices and a ladder of no blocks; a ladder sets every rate price to
the first block's price and the ladder prices to each block's difference from it.
"""
import logging

from protocols.dlt645 import apdu, const as K, di as DI

from edge.effects import SleepUntil, Transact
from edge.jobs import _value
from edge.prepaid import campaign as C
from edge.prepaid.jobs import RETRY_STEPS_S
from edge.prepaid.security import SecurityError
from edge.prepaid.sessions import serr_text
from edge.prepaid.tariff import Flat, Ladder, TimeOfUse, UYUAN, centi_kwh
from edge.scheduler import PREPAID

log = logging.getLogger(__name__)
VERIFY_AFTER_S = 300.0          # first billing read this long after the switch
VERIFY_STEP_S = 3600.0          # then read again this often ...
VERIFY_KWH = 2.0                # ... until this much energy was used between the two reads
RENEWALS = 1                    # fresh sessions for refused writes within one attempt
VERIFY_MAX_S = 3 * 86400.0      # no such consumption in 3 days: failed, say so
BILLING = (DI.DI_REMAINING_MONEY, DI.DI_OVERDRAFT_MONEY, DI.DI_PURCHASE_TOTAL, 0x0001FF00,
           DI.DI_YEAR_KWH)


def meter_tables(tariff):
    """(standby rate prices dict, standby ladder dict) in yuan/kWh for ``tariff``."""
    ladder = {"value_%d" % k: None for k in range(1, DI.LADDER_STEPS + 1)}
    ladder.update({"year_day_%d" % k: None for k in range(1, DI.LADDER_STEPS + 1)})
    ladder.update({"price_%d" % k: None for k in range(1, DI.LADDER_STEPS + 2)})
    ladder["price_1"] = 0.0
    if isinstance(tariff, Flat):
        rates = [tariff.price] * 4
    elif isinstance(tariff, TimeOfUse):
        rates = list(tariff.prices)
    else:
        first = tariff.blocks[0][1]
        rates = [first] * 4
        for k, (top, price) in enumerate(tariff.blocks):
            if k < len(tariff.blocks) - 1:
                ladder["value_%d" % (k + 1)] = top / 100.0
            ladder["price_%d" % (k + 1)] = (price - first) / 10000.0
    prices = {"price_%d" % (k + 1): rates[k] / 10000.0 for k in range(4)}
    return prices, ladder


def writes(campaign):
    """[(DI, value bytes)] a local meter gets for ``campaign``, in order."""
    prices, ladder = meter_tables(campaign.tariff)
    out = []
    for di, value in ((DI.DI_STANDBY_PRICES, prices), (DI.DI_STANDBY_LADDER, ladder),
                      (DI.DI_PRICE_SWITCH_TIME, campaign.effective),
                      (DI.DI_LADDER_SWITCH_TIME, campaign.effective)):
        out.append((di, DI.lookup(di).encode(value)))
    return out


def expected_uyuan(tariff, before, after):
    """Micro-yuan the new tariff bills between two billing reads (registers, year kWh)."""
    deltas = [centi_kwh(b) - centi_kwh(a) for a, b in zip(before["kwh"], after["kwh"])]
    return tariff.cost(deltas, centi_kwh(before["year"]))


def tolerance_uyuan(tariff):
    """What register (0.01 kWh) and money (0.01 yuan) resolution can account for."""
    if isinstance(tariff, Flat):
        top, n = tariff.price, 1
    elif isinstance(tariff, TimeOfUse):
        top, n = max(tariff.prices), 5
    else:
        top, n = max(p for _, p in tariff.blocks), 2
    return 2 * 10000 + 2 * n * top          # price unit x 0.01 kWh = 1 micro-yuan x price


class Repricer:
    """The jobs that carry campaigns to ``engine``'s local-wallet meters."""

    def __init__(self, engine, campaigns):
        self.engine = engine
        self.agent = engine.agent
        self.campaigns = campaigns
        self.running = set()
        self.refusals = {}              # (campaign, meter) -> identity authentications refused

    def start(self):
        """Spawn a job for every open local row without one (at start, then each time the
        payment inbox is looked at: campaigns posted by ``gridedge prepaid price``)."""
        by_id = None
        for cid, addr, mode, state, _, _, _ in self.campaigns.rows(states=C.OPEN):
            m = self.agent.archive.meters.get(addr)
            if mode != "local" or m is None or (cid, addr) in self.running:
                continue
            by_id = by_id or {k.id: k for k in self.campaigns.all()}
            c = by_id[cid]
            self.running.add((cid, addr))
            self.agent.spawn(self.job(m, c), m, PREPAID, m.port)

    def _move(self, c, meter, event, note=""):
        state = self.campaigns.move(c.id, meter.addr, event, self.agent.wall, note)
        if state == C.FAILED:
            log.warning("campaign %s meter %s failed: %s", c.id, meter.addr, note)
            self.agent.count("price_campaign_failed")
        return state

    def job(self, meter, c):
        """Generator: write, read back, wait for the switch, verify the billing."""
        try:
            yield from self._job(meter, c)
        finally:
            self.running.discard((c.id, meter.addr))

    def _job(self, meter, c):
        failures = 0
        while self.campaigns.state(c.id, meter.addr) in (C.PENDING, C.UNREACHABLE, C.WRITTEN):
            state = self.campaigns.state(c.id, meter.addr)
            why = None
            if state != C.WRITTEN:
                why, final = yield from self._write(meter, c)
                if final:
                    return
            if why is None:
                why, final = yield from self._read_back(meter, c)
                if final:
                    return
            if why is None:
                break
            failures += 1
            self._move(c, meter, "no_answer", why)
            yield SleepUntil(self.agent.now + RETRY_STEPS_S[min(failures, len(RETRY_STEPS_S)) - 1])
        if self.campaigns.state(c.id, meter.addr) == C.VERIFIED:
            yield from self._verify(meter, c)

    def _requests(self, meter, c, stale=None):
        """Generator: the writes, level 98 with the ESAM session's MACs for a secured meter
        (under a session other than ``stale``, when given); (requests or None, why not,
        the session or None)."""
        engine = self.engine
        if not engine.secured(meter):
            level, password = engine.level(meter), engine.password(meter)
            return [apdu.Write(di, raw, level, password) for di, raw in writes(c)], None, None
        try:
            if stale is not None:
                session, why, answered = yield from engine.sessions.renew(
                    self.agent, meter, engine.operator, stale)
            else:
                session, why, answered = yield from engine.sessions.ensure(
                    self.agent, meter, engine.operator)
            if session is None:
                return None, ("refused: " if answered else "") + why, None
            return [apdu.Write(di, raw + engine.security.parameter_mac(
                session, DI.to_bytes(di), raw), K.LEVEL_CIPHER, b"\x00\x00\x00",
                engine.operator) for di, raw in writes(c)], None, session
        except SecurityError as exc:
            return None, "final: %s" % exc, None

    def _write(self, meter, c):
        """Generator: every write in one exchange; (why not done or None, whether final). Writes
        refused for their session (ended by the meter, or superseded) go again at once under a
        fresh one, ``RENEWALS`` times."""
        sessions, stale = self.engine.sessions, None
        for renewal in range(RENEWALS + 1):
            reqs, why, session = yield from self._requests(meter, c, stale)
            if reqs is None:
                if why.startswith("final: "):
                    self._move(c, meter, "fail", why[len("final: "):])
                    return None, True
                if why.startswith("refused: "):
                    key = (c.id, meter.addr)
                    self.refusals[key] = self.refusals.get(key, 0) + 1
                    if self.refusals[key] > len(RETRY_STEPS_S):
                        self._move(c, meter, "fail", why)       # it answers, and keeps refusing
                        return None, True
                return why, False
            result = yield Transact(reqs, sessions.not_before(session, self.agent.now))
            stale = None
            for req, reply in zip(reqs, result.replies):
                if isinstance(reply, apdu.ErrorReply):
                    renew = sessions.renewable(session, reply)
                    text = "write %s refused (%s)" % (DI.text(req.di), sessions.on_reply(
                        meter.addr, reply) or serr_text(reply))
                    if renew and renewal < RENEWALS:
                        log.info("campaign %s meter %s: %s; authenticating again", c.id,
                                 meter.addr, text)
                        stale = session
                        break
                    if reply.serr is not None and reply.serr & K.SERR_IDENTITY:
                        return text, False              # the session ended: authenticate again
                    self._move(c, meter, "fail", text)
                    return None, True
                if not isinstance(reply, apdu.Ack):
                    return "write %s: %s" % (DI.text(req.di), result.kind), False
            if stale is None:
                break
        late = self.agent.wall > c.effective
        self._move(c, meter, "write", "4 items written%s" % (" after the switch time" if late
                                                              else ""))
        return None, False

    def _read_back(self, meter, c):
        reqs = [apdu.Read(di) for di, _ in writes(c)]
        result = yield Transact(reqs, self.agent.now)
        for (di, raw), reply in zip(writes(c), result.replies):
            if not isinstance(reply, apdu.ReadReply):
                return "read back %s: %s" % (DI.text(di), result.kind), False
            if di in (DI.DI_PRICE_SWITCH_TIME, DI.DI_LADDER_SWITCH_TIME) and \
                    self.agent.wall >= c.effective and set(reply.data) <= {0, 0xFF}:
                continue                # switched already: the meter has cleared the time
            if reply.data != raw:
                self._move(c, meter, "fail", "read back %s: %s, wrote %s" % (
                    DI.text(di), reply.data.hex(), raw.hex()))
                return None, True
        self._move(c, meter, "read_back", "4 items read back equal")
        return None, False

    def _billing(self):
        reqs = [apdu.Read(di) for di in BILLING]
        result = yield Transact(reqs, self.agent.now)
        try:
            remaining, overdraft, bought, regs, year = [
                _value(q, r) for q, r in zip(reqs, result.replies)]
        except (ValueError, LookupError) as exc:      # unanswered or undecodable: try again
            return None, "billing read: %s" % exc
        if None in (remaining, overdraft, bought, year) or regs is None or None in regs:
            return None, "billing read has gaps"
        money = round((remaining - overdraft) * 100) * 10000 - round(bought * 100) * 10000
        return {"money": money, "kwh": regs, "year": year, "at": self.agent.wall}, None

    def _verify(self, meter, c):
        """Generator: two billing reads after the switch far enough apart; switched when the
        money spent between them is the new tariff's cost of the energy, else failed."""
        start = self.agent.now + max(0.0, c.effective - self.agent.wall) + VERIFY_AFTER_S
        yield SleepUntil(start)
        first = None
        deadline = start + VERIFY_MAX_S
        while self.agent.now < deadline:
            read, why = yield from self._billing()
            if read is None:
                self._move(c, meter, "no_answer", why)
            elif first is None or read["year"] < first["year"]:
                first = read
            elif read["kwh"][0] - first["kwh"][0] >= VERIFY_KWH:
                spent = first["money"] - read["money"]
                want = expected_uyuan(c.tariff, first, read)
                kwh = read["kwh"][0] - first["kwh"][0]
                note = "%.2f kWh cost %.2f yuan, the new prices say %.2f" % (
                    kwh, spent / float(UYUAN), want / float(UYUAN))
                if abs(spent - want) <= tolerance_uyuan(c.tariff):
                    self._move(c, meter, "switched", note)
                    self.agent.count("price_campaign_switched")
                else:
                    self._move(c, meter, "fail", "billing at the wrong price: " + note)
                return
            yield SleepUntil(self.agent.now + VERIFY_STEP_S)
        self._move(c, meter, "fail", "no %.1f kWh used within %d h after the switch to verify "
                   "the price" % (VERIFY_KWH, VERIFY_MAX_S // 3600))
