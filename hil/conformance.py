"""Conformance of a real meter on a port: which DL/T 645-2007 items and commands it answers,
how (normal reply, error code, silence, garbage) and how fast. The lab's first look at a new
meter model before it goes into an archive."""
import time

from protocols.dlt645 import apdu, di as DI
from protocols.dlt645.frame import address
from protocols.errors import ProtocolError
from edge.exchange import OK
from edge.jobs import _value, meter_time
from edge.prepaid.jobs import verified
from edge.prepaid.policy import DIRECT_CLOSE, TRIP
from edge.runtime.ports import open_port, transact
from hil.prepaid_run import percentiles

# (name, request): what a concentrator reads and commands in daily work, in that order
READS = (
    ("combined active total", DI.DI_COMBINED_TOTAL),
    ("forward active total", DI.DI_FORWARD_TOTAL),
    ("forward active block", 0x0001FF00),
    ("voltage A", 0x02010100),
    ("current A", 0x02020100),
    ("active power total", 0x02030000),
    ("date", DI.DI_DATE),
    ("time", DI.DI_TIME),
    ("status word 1", DI.DI_STATUS_1),
    ("status word 3", DI.DI_STATUS_3),
    ("meter number", DI.DI_METER_NUMBER),
    ("settlement day", DI.DI_SETTLEMENT_DAY),
    ("last daily freeze time", 0x05060001),
    ("last daily freeze energy", 0x05060101),
    ("last settlement energy", 0x0001FF01),
    ("power-down event count", DI.EV_POWER_DOWN),
    ("remaining money", DI.DI_REMAINING_MONEY),
    ("price", DI.DI_PRICE),
)


def _reads():
    return [("read %s (%08X)" % (name, d), apdu.Read(d)) for name, d in READS]


def _commands(t):
    """Checks stamped with the meter's own time ``t`` (a curve start, a control's expiry)."""
    out = []
    out.append(("read load curve, 4 points (06100601)",
                apdu.Read(0x06100601, blocks=4, start=t - 3600.0)))
    out.append(("read an item no meter has (0400FFFF): expect an error reply", apdu.Read(0x0400FFFF)))
    out.append(("alarm (0x1C 2A, default password)", apdu.Control(0x2A, t + 600.0)))
    out.append(("alarm release (0x1C 2B, default password)", apdu.Control(0x2B, t + 600.0)))
    return out


def _relay_checks(port, wire, t, timeout, retries, level, password, settle_s):
    """Trip (1A), then direct close (1C), each read back from status word 3 after ``settle_s``:
    whether the meter carries them out, not only acknowledges them. Cuts the supply: opt-in."""
    rows = []
    for action, code in ((TRIP, 0x1A), (DIRECT_CLOSE, 0x1C)):
        request = apdu.Control(code, t + 600.0, level=level, password=password)
        outcome = transact(port, wire, request, timeout, retries)
        rows.append(dict(_describe(outcome, request),
                         check="%s (0x1C %02X, level %02X)" % (action.replace("_", " "), code,
                                                               level)))
        time.sleep(settle_s)
        status = apdu.Read(DI.DI_STATUS_3)
        back = transact(port, wire, status, timeout, retries)
        row = dict(_describe(back, status), check="relay after %s (status word 3 read back)"
                   % action.replace("_", " "))
        if back.kind == OK:
            try:
                row["carried_out"] = verified(action, _value(status, back.reply))
            except (ProtocolError, ValueError, TypeError):
                row["outcome"] = "undecodable"
        rows.append(row)
    return rows


def _describe(outcome, request):
    kind = outcome.kind
    reply = outcome.reply
    row = {"outcome": kind, "attempts": outcome.attempts,
           "latency_ms": None if outcome.latency is None else round(outcome.latency * 1000.0, 1)}
    if kind == OK and isinstance(reply, apdu.ReadReply):
        try:
            row["value"] = str(reply.value()[1])
        except ProtocolError as exc:
            row["outcome"] = "undecodable"
            row["error"] = str(exc)
    elif isinstance(reply, apdu.ErrorReply):
        row["error_code"] = "%02X" % (reply.err if reply.serr is None else reply.serr)
    return row


def check_meter(url, addr, baud=2400, timeout=1.0, retries=1, wall=None, relay=False,
                level=0x02, password=b"\x00\x00\x00", settle_s=2.0):
    """Run every check against the meter ``addr`` (printed) on ``url``; the report as a dict.
    With ``relay`` also trip and close the meter's relay with ``level``/``password`` (3 bytes,
    wire order) and read each back."""
    t = wall if wall is not None else time.time() + time.localtime().tm_gmtoff
    port = open_port(url, baud)
    rows, replies = [], {}
    try:
        wire = address(addr)
        for name, request in _reads():
            outcome = transact(port, wire, request, timeout, retries)
            replies[request.di] = outcome.reply
            rows.append(dict(_describe(outcome, request), check=name))
        try:                             # the meter's own clock, where it gave one
            t = meter_time(replies[DI.DI_DATE].data, replies[DI.DI_TIME].data)
        except (AttributeError, ValueError, ProtocolError, IndexError):
            pass
        for name, request in _commands(t):
            outcome = transact(port, wire, request, timeout, retries)
            rows.append(dict(_describe(outcome, request), check=name))
        if relay:
            rows += _relay_checks(port, wire, t, timeout, retries, level, password, settle_s)
    finally:
        port.close()
    reads = [r for r in rows if r["check"].startswith("read ") and "no meter has" not in r["check"]]
    answered = [r for r in reads if r["outcome"] == "ok"]
    latencies = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    relay_rows = [r for r in rows if "carried_out" in r]
    return {"port": url, "address": addr, "baud": baud, "checks": rows,
            "relay_carried_out": [r["carried_out"] for r in relay_rows] if relay else None,
            "reads_answered": len(answered), "reads": len(reads),
            "unknown_item_refused": rows[len(READS) + 1]["outcome"] == "error_reply",
            "latency_ms": percentiles(latencies)}
