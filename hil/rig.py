"""A lab rig for a real concentrator under test: the scenario's simulated area served on a real
port (its carrier module in Q/GDW 1376.2, or its RS-485 meters), and a 1376.1 master station the
concentrator logs in to. The master sets the concentrator's archive (AFN04 F10), collects what
it uploads, and the KPIs are computed from the simulator's ground truth: each meter's own
daily freeze against the value the concentrator delivered for it.
"""
import asyncio
import threading
import time

from edge.jobs import DI_FREEZE_ENERGY
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH, build_population
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, SerialServer, Session
from plc_channel.area import build_area
from plc_channel.realtime import ModulePortServer
from protocols.civil import DAY, iso, midnight
from protocols.dlt645 import apdu
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_SET, PROTOCOL_645_2007
from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC
from hostlink.aio import MasterServer
from hostlink.master import OK

TOLERANCE_KWH = 0.005


class Rig:
    """The area of scenario ``sc`` on port ``url`` (None: a new pty), on the scenario's clock."""

    def __init__(self, sc, url=None):
        self.sc = sc
        self.start = sc.start
        self._started = time.monotonic()
        if sc.medium == "rs485":
            self.meters = build_population(sc.meters, sc.seed, DEFAULT_EPOCH, sc.faults,
                                           **sc.area_kw.get("population", {}))
            clock = BusClock(self.start)
            session = Session(MeterBus(self.meters), clock, threading.Lock())
            if url is None:
                self.server = PtyServer(session).start()
                self.path = self.server.path
            else:
                self.server = SerialServer(session, url).start()
                self.path = url
            self.reachable = lambda i, t: True
        else:
            kw = {k: v for k, v in sc.area_kw.items()}
            self.server = ModulePortServer(
                lambda env_at: build_area(env_at(self.start), sc.meters, sc.medium, sc.seed,
                                          DEFAULT_EPOCH, sc.faults, **kw),
                COMM_HPLC if sc.medium == "hplc" else COMM_NBPLC, url=url).start()
            self.path = self.server.path
            self.meters = self.server.area.meters
            self.reachable = self.server.area.network.reachable

    def now(self):
        """The simulated local time now (the rig's clock runs at wall speed from the start)."""
        return self.start + (time.monotonic() - self._started)

    def addresses(self):
        return [m.addr[::-1].hex() for m in self.meters]

    def close(self):
        self.server.close()

    def archive_units(self, port):
        """AFN04 F10 units naming every meter: point k + 1, on the concentrator's ``port``."""
        entries = [{"index": k + 1, "point": k + 1, "port_baud": port, "addr": a,
                    "protocol": PROTOCOL_645_2007, **{"pw%d" % j: 0 for j in range(6)},
                    "tariffs": 4, "digits": 9, "collector": None, "user_class": 0}
                   for k, a in enumerate(self.addresses())]
        return [Unit(AFN_SET, 10, 0, {"items": entries[i:i + 30]}, False)
                for i in range(0, len(entries), 30)]

    def true_freeze(self, i, t):
        """Meter ``i``'s own last daily freeze (forward active total) at ``t``, from its firmware."""
        fw = firmware(self.meters[i])
        raw = fw.handle(encode_frame(apdu.Read(DI_FREEZE_ENERGY).to_frame(fw.addr)), t)
        reply = apdu.parse_reply(decode_frame(raw)) if raw else None
        if not isinstance(reply, apdu.ReadReply):
            return None
        return reply.value()[1]["total"]

    def report(self, store, terminal):
        """The rig's KPIs for the daily freeze of the day before the last midnight."""
        t = self.now()
        day = midnight(t) - DAY
        d, m, y = int(iso(day)[8:10]), int(iso(day)[5:7]), int(iso(day)[2:4])
        label = "%02d-%02d-%02d" % (d, m, y)
        got = {r["pn"]: r for r in store.data(terminal, 0x0D, 161) if r["label"] == label}
        correct, wrong, missing, unreachable = 0, [], 0, 0
        for i in range(len(self.meters)):
            truth = self.true_freeze(i, t)
            row = got.get(i + 1)
            if row is None:
                missing += 1
                unreachable += 0 if self.reachable(i, t) else 1
                continue
            value = (row["value"].get("forward_active") or [None])[0]
            if truth is not None and value is not None and abs(value - truth) <= TOLERANCE_KWH:
                correct += 1
            else:
                wrong.append({"point": i + 1, "delivered": value, "truth": truth})
        n = len(self.meters)
        reachable = n - unreachable
        return {"scenario": self.sc.name, "seed": self.sc.seed, "scenario_sha256": self.sc.sha256,
                "meters": n, "period": iso(day)[:10], "terminal": terminal,
                "read_rate": round(correct / float(n), 6),
                "reachable_read_rate": round(correct / float(reachable), 6) if reachable else None,
                "wrong_values": len(wrong), "missing": missing, "wrong": wrong[:20]}


async def drive(rig, listen, duration, archive_port=1, db=":memory:", on_ready=None,
                login_timeout=60.0):
    """Serve the master on ``listen`` (host, port) for ``duration`` seconds: wait for the
    concentrator, set its archive, let it collect; returns the report (gates checked)."""
    start_wall = time.monotonic()
    server = MasterServer(db, wall=rig.now)
    where = await server.listen(*listen)
    if on_ready is not None:
        on_ready(where)
    try:
        end = time.monotonic() + login_timeout
        while not server.online() and time.monotonic() < end:
            await asyncio.sleep(0.1)
        if not server.online():
            raise TimeoutError("no concentrator logged in to %s:%d within %.0f s"
                               % (where[0], where[1], login_timeout))
        terminal = server.online()[0]
        pw = bytes.fromhex(rig.sc.doc.get("rig", {}).get("password", "00" * 16))
        archive_port = rig.sc.doc.get("rig", {}).get("archive_port", archive_port)
        outcomes = []
        for unit in rig.archive_units(archive_port):
            r = await server.request(terminal, AFN_SET, [unit], pw=pw)
            outcomes.append(r.outcome)
        remaining = duration - (time.monotonic() - start_wall)
        if remaining > 0:
            await asyncio.sleep(remaining)
        report = rig.report(server.store, terminal)
        report["archive_set"] = all(o == OK for o in outcomes)
        report["gates"] = [g.check(report) for g in rig.sc.gates]
        report["passed"] = report["archive_set"] and all(g["passed"] for g in report["gates"])
        return report
    finally:
        await server.close()
