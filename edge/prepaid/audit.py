"""Local cost control audit (本地费控稽核): meters that keep their own wallet are read for the
money left, the overdraft and the threshold parameters, and checked against our records.

Events (task ``prepaid_event``): ``threshold_mismatch`` (a parameter differs from the configured
one), ``overdraft`` (the meter is spending credit it does not have), ``relay_open_with_credit``
(open although the wallet is above the pre-trip level and no trip was commanded) and
``relay_closed_in_overdraft`` (closed at the overdraft limit without keep-power).
"""
from protocols.dlt645 import apdu, const as K, di as DI

from edge.jobs import Task, _value
from edge.scheduler import EVENT
from edge.store import Reading

ITEMS = (("remaining", DI.DI_REMAINING_MONEY), ("overdraft", DI.DI_OVERDRAFT_MONEY),
         ("alarm_1", DI.DI_ALARM_1), ("alarm_2", DI.DI_ALARM_2),
         ("overdraft_limit", DI.DI_OVERDRAFT_LIMIT), ("hoarding_limit", DI.DI_HOARDING_LIMIT),
         ("close_allowed", DI.DI_CLOSE_ALLOWED), ("status3", DI.DI_STATUS_3))
PARAMETERS = ("alarm_1", "alarm_2", "overdraft_limit", "hoarding_limit", "close_allowed")
MONEY_EPS = 0.005


class LocalAudit(Task):
    """The wallet, its thresholds and the relay of a local-prepaid meter."""

    name = "local_audit"
    lane = EVENT
    key_di = DI.DI_REMAINING_MONEY

    def __init__(self, every_s, offset_s, deadline_s, expected=None):
        Task.__init__(self, every_s, offset_s, deadline_s)
        self.expected = dict(expected or {})       # parameter -> yuan (configured)

    def applies(self, meter, boundary):
        return meter.prepaid == "local" and meter.protocol == "645-2007"

    def requests(self, meter, window):
        return [apdu.Read(d) for _, d in ITEMS]

    def readings(self, agent, meter, window, result):
        value = {name: _value(req, reply) for (name, _), req, reply
                 in zip(ITEMS, result.requests, result.replies)}
        return [self.reading(agent, meter, window, value, [e for e, _ in self.findings(value)])]

    def findings(self, v):
        """[(event, detail)] for one audit reading."""
        out = []
        wrong = {k: [v[k], self.expected[k]] for k in PARAMETERS
                 if k in self.expected and abs(v[k] - self.expected[k]) > MONEY_EPS}
        if wrong:
            out.append(("threshold_mismatch", wrong))
        if v["overdraft"] > MONEY_EPS or v["remaining"] < -MONEY_EPS:
            out.append(("overdraft", {"overdraft": v["overdraft"]}))
        word = v["status3"]
        credit = v["remaining"] > v["alarm_2"] + MONEY_EPS
        if word & K.ST3_RELAY_OPEN and not word & K.ST3_CMD_OPEN and credit:
            out.append(("relay_open_with_credit", {"remaining": v["remaining"]}))
        at_limit = v["overdraft"] >= v["overdraft_limit"] - MONEY_EPS and v["overdraft_limit"] > 0
        if not word & K.ST3_RELAY_OPEN and not word & K.ST3_KEEP_POWER and at_limit:
            out.append(("relay_closed_in_overdraft", {"overdraft": v["overdraft"]}))
        return out

    def after(self, agent, meter, readings):
        r = readings[0]
        events = [Reading(meter.addr, "prepaid_event", 0, "%s %s" % (event, r.period),
                          dict(detail, event=event), "ok", (), agent.wall)
                  for event, detail in self.findings(r.value)]
        for e in events:
            agent.count("prepaid_event_%s" % e.value["event"])
        agent.store_readings(events)
        return ()
