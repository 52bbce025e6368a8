"""The rig as a Q/GDW 1376.1 master station: it sets the concentrator under test up, then pulls
what a pull-only concentrator will not push, while taking every active upload.

Set-up, in order: the archive (AFN04 F10), uplink parameters (F1), the master's address (F3),
read-run parameters for the rig's ports (F33), a daily class 2 report task of F161 for all
points (F66 task 1) and its start (F68), the clock (AFN05 F31, the simulated meters' time), and
the terminal's version (AFN09 F1). Then, every ``[rig] pull_every_s``, every point's daily
freeze of the last midnight (AFN0D F161, Td = that period's day) that has not reached the rig
yet, and every point's real-time energy (AFN0C F129). Each value says which path brought it
first: ``via`` push (an upload) or pull (an answer).
"""
import logging

from hostlink.master import OK
from protocols.civil import DAY, iso, midnight, to_civil
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.catalog import AFN_CLASS1, AFN_CLASS2, AFN_CONTROL, AFN_SET
from protocols.gdw1376_1.dadt import ALL_POINTS
from protocols.gdw1376_1.params import AFN_VERSION, TASK_START, a1_of_civil

BATCH = 16                          # points asked in one frame
REQUEST_TIMEOUT_S = 20.0
FREEZE_TASK = 1                     # the F66/F68 task number the rig defines
log = logging.getLogger("gridedge.rig")


def freeze_label(period):
    """The master store's label of a daily freeze of ``period`` (DD-MM-YY, Td_d's order)."""
    c = to_civil(period)
    return "%02d-%02d-%02d" % (c[2], c[1], c[0] % 100)


class RigMaster:
    """The rig's master behaviour towards one logged-in ``terminal`` on ``server``."""

    def __init__(self, rig, server, terminal, pw, doc, listen=("127.0.0.1", 0)):
        self.rig = rig
        self.server = server
        self.terminal = terminal
        self.pw = pw
        self.listen = listen
        self.pull_every_s = float(doc.get("pull_every_s") or 0.0)
        self.setup = {}             # step -> outcome
        self.archive_set = False
        self.version = None
        self.via = {}               # (afn, fn, pn, label) -> "pull" for what a pull brought first
        self.realtime = {}          # point -> the F129 answer kept (always via pull)
        self.pulls = 0
        self.asked = 0

    async def _ask(self, afn, units):
        r = await self.server.request(self.terminal, afn, units, REQUEST_TIMEOUT_S, pw=self.pw)
        return r

    async def set_up(self, ports):
        """Every set-up step in order; returns whether the archive was set."""
        outcomes = []
        for unit in self.rig.archive_units(ports):
            outcomes.append((await self._ask(AFN_SET, [unit])).outcome)
        self.archive_set = all(o == OK for o in outcomes)
        self.setup["archive"] = OK if self.archive_set else sorted(set(outcomes))[0]
        if not self.archive_set:
            log.warning("rig: the concentrator did not take its archive: %s", outcomes,
                        extra={"event": "rig_archive_refused", "outcomes": outcomes})
        host, port = self.listen
        t = self.rig.now()
        steps = [
            ("uplink_f1", AFN_SET, Unit(AFN_SET, 1, 0, {
                "rts_20ms": 0, "send_delay_min": 1, "timeout_s": 30, "retries": 3,
                "con_flags": 0x03, "heartbeat_min": 1}, False)),
            ("master_f3", AFN_SET, Unit(AFN_SET, 3, 0, {
                "ip": host if host.count(".") == 3 else "127.0.0.1", "port": port,
                "backup_ip": "0.0.0.0", "backup_port": 0, "apn": ""}, False)),
            ("read_run_f33", AFN_SET, Unit(AFN_SET, 33, 0, {"ports": [
                {"port": p, "control": 0, "days": 1, "read_time": (0, 0), "interval_min": 15,
                 "clock_time": (0, 0, 0), "spans": [((0, 0), (59, 23))]}
                for p in sorted(set(ports))]}, False)),
            ("task_f66", AFN_SET, Unit(AFN_SET, 66, FREEZE_TASK, {
                "unit": "day", "period": 1, "base": a1_of_civil(to_civil(midnight(t)))[0],
                "ratio": 1, "items": [([ALL_POINTS], [161])]}, False)),
            ("task_f68", AFN_SET, Unit(AFN_SET, 68, FREEZE_TASK, {"switch": TASK_START}, False)),
        ]
        for name, afn, unit in steps:
            self.setup[name] = (await self._ask(afn, [unit])).outcome
        when, weekday = a1_of_civil(to_civil(self.rig.now()))
        self.setup["clock_f31"] = (await self._ask(AFN_CONTROL, [Unit(
            AFN_CONTROL, 31, 0, {"time": when, "weekday": weekday}, False)])).outcome
        r = await self._ask(AFN_VERSION, [Unit(AFN_VERSION, 1, 0, None, False)])
        self.setup["version_afn09"] = r.outcome
        got = [u.value for u in r.answer if u.afn == AFN_VERSION and u.fn == 1]
        self.version = got[0] if r.outcome == OK and got else None
        log.info("rig master set-up of %s: %s", self.terminal, self.setup,
                 extra={"event": "rig_setup", "setup": self.setup})
        return self.archive_set

    async def pull(self):
        """Ask what has not come: the last midnight's freeze of each point, and F129 of all."""
        self.pulls += 1
        store = self.server.store
        period = midnight(self.rig.now()) - DAY
        label = freeze_label(period)
        c = to_civil(period)
        td = (c[2], c[1], c[0] % 100)
        have = {r["pn"] for r in store.data(self.terminal, AFN_CLASS2, 161) if r["label"] == label}
        points = list(range(1, len(self.rig.meters) + 1))
        wanted = [p for p in points if p not in have]
        for k in range(0, len(wanted), BATCH):
            units = [Unit(AFN_CLASS2, 161, p, {"td": td}, False) for p in wanted[k:k + BATCH]]
            r = await self._ask(AFN_CLASS2, units)
            self.asked += len(units)
            if r.outcome != OK:
                continue
            # no await from here to the store: an upload cannot slip in between
            known = {x["pn"] for x in store.data(self.terminal, AFN_CLASS2, 161)
                     if x["label"] == label}
            for u in r.answer:
                if u.afn != AFN_CLASS2 or u.fn != 161 or not _has_value(u.value):
                    continue
                key = (AFN_CLASS2, 161, u.pn, label)
                if u.pn in known:
                    continue                      # an upload came first
                known.add(u.pn)
                store.store_upload(self.terminal, AFN_CLASS2, [u], self.rig.now())
                self.via[key] = "pull"
        for k in range(0, len(points), BATCH):
            units = [Unit(AFN_CLASS1, 129, p, None, False) for p in points[k:k + BATCH]]
            r = await self._ask(AFN_CLASS1, units)
            self.asked += len(units)
            if r.outcome != OK:
                continue
            for u in r.answer:
                if u.afn == AFN_CLASS1 and u.fn == 129 and _has_value(u.value):
                    self.realtime[u.pn] = {"kwh": u.value["forward_active"][0],
                                           "time": u.value.get("time"),
                                           "received_at": self.rig.now()}

    def report(self, store, period_label=None):
        """``via`` counts and the per-value list of the freeze ``period_label`` (and F129), the
        set-up outcomes and the terminal's version."""
        values, counts = [], {"push": 0, "pull": 0}
        for r in store.data(self.terminal, AFN_CLASS2, 161):
            if period_label is not None and r["label"] != period_label:
                continue
            via = self.via.get((AFN_CLASS2, 161, r["pn"], r["label"]), "push")
            counts[via] += 1
            values.append({"point": r["pn"], "item": "AFN0D F161", "label": r["label"],
                           "via": via, "value": (r["value"].get("forward_active") or [None])[0],
                           "received": iso(r["received_at"]) if r["received_at"] else None})
        for pn in sorted(self.realtime):
            rt = self.realtime[pn]
            values.append({"point": pn, "item": "AFN0C F129", "label": None, "via": "pull",
                           "value": rt["kwh"], "received": iso(rt["received_at"])})
        return {"via": counts, "via_realtime": {"pull": len(self.realtime)}, "values": values,
                "master_setup": dict(self.setup), "terminal_version": self.version,
                "pulls": self.pulls, "pull_units_asked": self.asked}


def _has_value(value):
    return isinstance(value, dict) and (value.get("forward_active") or [None])[0] is not None
