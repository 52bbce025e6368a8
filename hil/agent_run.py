"""Run the agent on a simulated area in virtual time and report the daily-freeze KPIs.

The same area (seed, medium, faults) can be read by 2 of 6's round-robin baseline, reading the
same items, so the two are compared on the same ground: read rate by the deadline, completion
time and the channel lower bound (KPIS.md).
"""
import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.jobs import DI_FREEZE_ENERGY, DI_FREEZE_TIME
from edge.plan import Settings
from edge.store import SIM_BATCH, Store
from meter_sim.faults import faults_of, firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from plc_channel.baseline import report, run_baseline
from plc_channel.uart import DEFAULT_BAUD
from protocols.civil import DAY, iso, midnight
from protocols.dlt645 import apdu
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.dlt698 import data as D698, services as V
from protocols.dlt698.axdr import OAD
from protocols.dlt698.data import RSD
from protocols.dlt698.frame import decode_frame as decode_698, encode_frame as encode_698
from protocols.dlt698.link import request_frame
from hil.simruntime import SimRuntime

FREEZE_DIS = (DI_FREEZE_TIME, DI_FREEZE_ENERGY)
PORT = {"rs485": "rs485-1", "nbplc": "plc", "hplc": "plc"}
ARCHIVE_PROTOCOL = {1997: "645-1997", 2007: "645-2007", 698: "698.45"}
TOLERANCE_KWH = 0.005           # a delivered freeze within this of the meter's own is right


def area_archive(area):
    """The archive a concentrator in front of ``area`` would hold: one port, every meter but
    those the scenario leaves unarchived and the neighbouring area's."""
    name = PORT[area.medium]
    return Archive.from_dict({
        "port": [{"name": name, "url": "sim:%s" % area.medium, "medium": area.medium}],
        "meter": [dict({"addr": m.addr[::-1].hex(), "port": name,
                        "protocol": ARCHIVE_PROTOCOL[firmware(m).protocol]},
                       **({"phases": 3} if getattr(firmware(m), "three_phase", None) else {}))
                  for m in area.meters
                  if not faults_of(m, "unarchived") and not faults_of(m, "neighbour")]})


class _Done:
    """What ``report`` needs of a reader: meters read and when, requests made."""

    def __init__(self, done, requests, dis):
        self.done = done
        self.requests = requests
        self.dis = dis


def true_freeze(meter, t, n=1):
    """The meter's own ``n``-th last daily freeze (forward active total, kWh) at ``t``, read
    from its firmware (DI 050601nn); None when it has none."""
    fw = firmware(meter)
    if fw.protocol == 698:
        return _true_freeze_698(fw, t, n)
    raw = fw.handle(encode_frame(apdu.Read(DI_FREEZE_ENERGY - 1 + n).to_frame(fw.addr)), t)
    reply = apdu.parse_reply(decode_frame(raw)) if raw else None
    if not isinstance(reply, apdu.ReadReply):
        return None
    return reply.value()[1]["total"]


def _true_freeze_698(fw, t, n):
    """The same from a 698 meter: GET-Record of 5004 by selector 9 (the n-th last record)."""
    get = V.GetRecord(OAD(0x5004, 2), RSD(9, [n]), [OAD(0x0010, 2)], piid=1)
    raw = fw.handle(encode_698(request_frame(get, fw.addr)), t)
    if not raw:
        return None
    record = V.decode_apdu(decode_698(raw).data).record
    if not record.rows or record.rows[0][0].tag != D698.ARRAY:
        return None
    return record.rows[0][0].value[0].value / 100.0


def freeze_done(store, period):
    """Address bytes (wire order) -> time of the first good daily freeze of ``period``."""
    out = {}
    for r in store.readings(task="daily_freeze", period=period):
        if r.quality == "ok":
            out[bytes.fromhex(r.addr)[::-1]] = r.read_at
    return out


def run_agent(count, medium, seed, hours, start_hour=0.0, faults=(), settle_s=300.0,
              settings=None, store_path=":memory:", day_hours=None, module_baud=DEFAULT_BAUD,
              environment=simpy.Environment, **area_kw):
    """Build the area of ``run_baseline`` and let the agent collect the daily freeze in the same
    window (``hours`` from ``start_hour`` + settle); the simulation runs ``day_hours`` (default:
    the window) so the agent's other tasks run around it; ``environment``: the SimPy clock's
    class (a benchmark counts events with its own). Returns the report and the agent."""
    t0 = area_kw.pop("t0", DEFAULT_EPOCH)
    start = t0 + DAY + 3600.0 * start_hour
    env = environment(initial_time=start)
    area = build_area(env, count, medium, seed, t0, faults, **area_kw)
    settings = settings or Settings()
    settings.freeze_offset_s = 3600.0 * start_hour + settle_s
    settings.freeze_deadline_h = start_hour + settle_s / 3600.0 + hours
    store = Store(store_path, durable=False, batch=SIM_BATCH)
    agent = Agent(area_archive(area), store, settings, now=start, wall=start)
    SimRuntime(env, agent, {PORT[medium]: area.network}, module_baud)
    begin = start + settle_s
    until = begin + 3600.0 * hours
    env.run(until=start + 3600.0 * (day_hours if day_hours else (until - start) / 3600.0))
    period = iso(midnight(start) - DAY)[:10]
    done = {a: t for a, t in freeze_done(store, period).items() if t <= until}
    exchanges = sum(v for k, v in agent.counters.items() if k.startswith("exchange_"))
    out = report(area, _Done(done, exchanges, FREEZE_DIS), begin, until, "agent",
                 baud=module_baud)
    out["period"] = period
    out["counters"] = dict(sorted(agent.counters.items()))
    out["readings"] = store.count()
    return out, agent


def compare(count, medium, seed, hours, start_hour=0.0, faults=(), day_hours=None, **kw):
    """The agent and the round-robin baseline on the same area and items: both reports, and
    whether the agent beat the baseline on read rate (not lower) and completion (shorter)."""
    agent_report, _ = run_agent(count, medium, seed, hours, start_hour, faults,
                                day_hours=day_hours, **kw)
    kw.pop("settings", None)
    kw.pop("store_path", None)
    base = run_baseline(count, medium, seed, hours, start_hour, faults, dis=FREEZE_DIS, **kw)
    beats = (agent_report["read_rate"] >= base["read_rate"]
             and agent_report["completion_s"] is not None
             and (base["completion_s"] is None or agent_report["completion_s"] < base["completion_s"]))
    return {"medium": medium, "meters": count, "seed": seed, "agent": agent_report,
            "baseline": base, "agent_beats_baseline": beats}
