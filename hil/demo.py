"""The README's main job for now: serve a few hundred meters on a real port and read them back."""
import threading
import time

from protocols.civil import iso
from protocols.dlt645 import Read, address_text, di as DI
from edge.runtime.ports import open_port, transact
from meter_sim.population import DEFAULT_EPOCH, build_meters
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, Session, TcpServer

ITEMS = (("forward_kwh", 0x00010000), ("voltage_v", 0x02010100), ("status_word_3", DI.DI_STATUS_3),
         ("frozen_kwh_d1", 0x05060101))


def run_demo(count=300, seed=1, medium="pty", echo=print):
    """Read energy, voltage, status word 3 and yesterday's freeze from each meter; print a table."""
    t0 = DEFAULT_EPOCH + 86400 * 31 + 9 * 3600
    meters = build_meters(count, seed, DEFAULT_EPOCH)
    bus = MeterBus(meters)
    lock = threading.Lock()
    clock = BusClock(t0)
    if medium == "pty":
        server = PtyServer(Session(bus, clock, lock)).start()
        url = server.path
    else:
        server = TcpServer(("127.0.0.1", 0), lambda: Session(bus, clock, lock)).start()
        url = "socket://127.0.0.1:%d" % server.port
    echo("gridedge demo: %d meters (seed %d) served on %s, meter time %s" % (count, seed, url, iso(t0)))
    rows, failures, latencies = [], 0, []
    started = time.monotonic()
    port = open_port(url, 2400)
    try:
        for m in meters:
            row = {"address": address_text(m.addr)}
            for name, di in ITEMS:
                outcome = transact(port, m.addr, Read(di), timeout=1.0, retries=2)
                if outcome.ok:
                    value = outcome.reply.value()[1]
                    row[name] = value["total"] if isinstance(value, dict) else value
                    latencies.append(outcome.latency or 0.0)
                else:
                    row[name] = outcome.kind
                    failures += 1
            rows.append(row)
    finally:
        port.close()
        server.close()
    wall = time.monotonic() - started
    reads = count * len(ITEMS)
    report = {"meters": count, "reads": reads, "failed": failures,
              "read_rate": (reads - failures) / float(reads), "wall_s": round(wall, 2),
              "reads_per_s": round(reads / wall, 1),
              "latency_ms_p50": round(sorted(latencies)[len(latencies) // 2] * 1000, 2) if latencies else None}
    _print_table(rows, echo)
    echo("")
    for key, value in report.items():
        echo("%-16s %s" % (key, value))
    return report


def _print_table(rows, echo, shown=10):
    cols = ["address"] + [name for name, _ in ITEMS]
    echo(" ".join("%-14s" % c for c in cols))
    for row in rows[:shown]:
        cells = []
        for c in cols:
            v = row[c]
            cells.append("%-14s" % ("0x%04X" % v if c == "status_word_3" and isinstance(v, int) else v))
        echo(" ".join(cells))
    if len(rows) > shown:
        echo("... %d more meters" % (len(rows) - shown))
