"""Field-by-field explanation of captured DL/T 645, Q/GDW 1376.2 and 1376.1 bytes (``gridedge
decode``). Total on any bytes: every item is a dict of JSON values (bytes as hex text), a field
the sender filled with FF ("no value") reads as invalid with its raw bytes, and garbage is shown
with the deframer's own reason."""
import math

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.civil import iso
from protocols.errors import ProtocolError, hexstr
from protocols.dlt645 import apdu, const as K, di as DI, security as S, v1997
from protocols.dlt645.deframer import Deframer
from protocols.stream import Garbage
from protocols.dlt645.errors import DecodeError
from protocols.dlt645.frame import checksum, mask


def explain_frame(frame, protocol=2007):
    """A dict with every field of one frame and its decoded meaning."""
    raw = frame.raw or b""
    names = K.FUNCTION_NAMES_1997 if protocol == 1997 else K.FUNCTION_NAMES
    out = {
        "raw": hexstr(raw),
        "preamble_fe": frame.preamble,
        "address": frame.address,
        "address_kind": ("broadcast" if frame.is_broadcast else
                         "wildcard" if 0xAA in frame.addr else "unicast"),
        "control": "%02X" % frame.ctrl,
        "direction": "meter->master" if frame.is_reply else "master->meter",
        "abnormal": frame.is_abnormal,
        "follow_up": frame.has_follow_up,
        "function": "%02X %s" % (frame.function, names.get(frame.function, "unknown")),
        "length": len(frame.data),
        "data_wire": hexstr(mask(frame.data)),
        "data": hexstr(frame.data),
        "checksum": "%02X ok" % checksum(raw[frame.preamble:-2]) if raw else "",
    }
    try:
        out.update(_explain_apdu(frame, protocol))
    except ProtocolDecodeError as exc:
        out["apdu_error"] = str(exc)
    return out


def _explain_apdu(frame, protocol):
    if protocol == 1997:
        msg = v1997.parse_reply_97(frame) if frame.is_reply else v1997.parse_request_97(frame)
        info = {"apdu": type(msg).__name__}
        if hasattr(msg, "di"):
            info["di"] = "%04X" % msg.di
        if isinstance(msg, v1997.ReadReply97):
            info["name"], info["value"], info["unit"] = msg.value()
        if isinstance(msg, v1997.ErrorReply97):
            info["errors"] = msg.reasons
        return info
    msg = apdu.parse_reply(frame) if frame.is_reply else apdu.parse_request(frame)
    info = {"apdu": type(msg).__name__}
    if isinstance(msg, apdu.ErrorReply):
        info["errors"] = msg.reasons
        info["err_kind"] = "SERR" if msg.serr is not None else "ERR"
    if getattr(msg, "di", None) is not None:
        info["di"] = DI.text(msg.di)
        item = DI.lookup(msg.di)
        if item is not None:
            info["name"] = item.name
    if isinstance(msg, apdu.ReadReply):
        if msg.seq is not None:
            info["seq"] = msg.seq
        if not msg.more:
            info["name"], info["value"], info["unit"] = msg.value()
        else:
            info["note"] = "first part of a multi-frame reply; values need the follow-up frames"
    if isinstance(msg, apdu.Read):
        if msg.blocks is not None:
            info["blocks"] = msg.blocks
        if msg.start is not None:
            info["start"] = iso(msg.start)
    if isinstance(msg, apdu.Control) and msg.command is not None:
        info["command"] = K.CONTROL_NAMES[msg.command]
        info["valid_until"] = _time(msg.valid_until, frame.data[10:16])
        info["level"] = "%02X" % msg.level
    if isinstance(msg, apdu.Control) and msg.command is None:
        info["level"] = "%02X" % msg.level
        info["sealed"] = "N1..N8 under ESAM: %d bytes ciphertext + MAC" % len(msg.cipher or b"")
    if isinstance(msg, apdu.BroadcastTime):
        info["time"] = _time(msg.t, frame.data[:6])
    if frame.function == K.F_SECURITY and not frame.is_abnormal:
        info.update(_security(msg, frame.is_reply))
    return info


def _security(msg, reply):
    """The 0x03 item by name and its fields (docs/dlt645-security.md)."""
    if reply:
        if len(msg.data) < 4:
            return {}
        di, body, parse = DI.from_bytes(msg.data[:4]), msg.data[4:], S.parse_reply
    else:
        di, body, parse = msg.di, msg.body, S.parse_request
    out = {"di": DI.text(di), "security_item": S.NAMES.get(di, "unknown")}
    try:
        item = parse(di, body)
    except ProtocolError as exc:
        out["security_error"] = str(exc)
        return out
    if isinstance(item, S.Layout):
        out["fields"] = {f: getattr(item, f) for f in item.FIELDS}
    return out


def _time(t, raw):
    """A decoded time as text; None (the field was all FF: no value) as invalid, with its bytes."""
    return iso(t) if t is not None else "invalid (%s)" % hexstr(raw)


def plain(value):
    """``value`` as JSON values: bytes as hex text, tuples as lists, keys as text, a number
    that is not finite as text, anything else by its repr."""
    if isinstance(value, (bytes, bytearray)):
        return hexstr(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _explain_stream(data, deframer, explain):
    """Every frame (through ``explain``) and every run of garbage in a capture, in order, as
    JSON values. Garbage keeps the deframer's reason (a bad checksum, noise, a truncated
    frame); what is left at the end of the capture is flushed last."""
    deframer.feed(data)
    items = []
    for flush in (False, True):
        if flush:
            deframer.flush()
        for item in deframer:
            if isinstance(item, Garbage):
                items.append({"garbage": hexstr(item.raw), "reason": item.reason})
            else:
                items.append(plain(explain(item)))
    return items


def explain_capture(data, protocol=2007):
    """Every DL/T 645 frame and every run of garbage in a capture, in order."""
    return _explain_stream(data, Deframer(max_buffer=len(data) + 1),
                           lambda frame: explain_frame(frame, protocol))


COMM_NAMES = {1: "narrowband PLC (central routing)", 2: "narrowband PLC (distributed routing)",
              3: "HPLC (broadband)", 10: "micro-power wireless", 20: "Ethernet"}


def _addr_text(a):
    return "".join("%02X" % b for b in reversed(a))


def _info_fields(frame):
    r = frame.info
    if frame.down:
        return {"routing": "bypass" if r[0] & 1 else "routed", "attached_nodes": bool(r[0] & 2),
                "collision_detect": bool(r[0] & 8), "relay_level": r[0] >> 4,
                "channel": r[1] & 0x0F, "fec": r[1] >> 4, "expected_bytes": r[2],
                "rate": r[3] | (r[4] << 8), "seq": r[5]}
    return {"channel": r[1] & 0x0F, "phase": r[2] & 0x0F, "meter_channel": r[2] >> 4,
            "cmd_quality": r[3] & 0x0F, "reply_quality": r[3] >> 4, "event": bool(r[4] & 1),
            "seq": r[5]}


def explain_3762_frame(frame):
    """A dict with every field of one Q/GDW 1376.2 frame; a carried 645 frame is explained too."""
    from protocols.gdw1376_2 import afn as A
    raw = frame.raw or b""
    out = {
        "raw": hexstr(raw), "length": len(raw),
        "direction": "concentrator->module" if frame.down else "module->concentrator",
        "prm": "initiator" if frame.prm else "answer",
        "comm": "%d %s" % (frame.comm, COMM_NAMES.get(frame.comm, "")),
        "info": hexstr(frame.info),
    }
    out.update(_info_fields(frame))
    if frame.src is not None:
        out["src"] = _addr_text(frame.src)
        if frame.relays:
            out["relays"] = [_addr_text(a) for a in frame.relays]
        out["dst"] = _addr_text(frame.dst)
    out["afn_fn"] = "AFN%02X F%d" % (frame.afn, frame.fn)
    out["data"] = hexstr(frame.data)
    out["checksum"] = "%02X ok" % raw[-2] if raw else ""
    try:
        unit = A.unit_of(frame)
    except ProtocolDecodeError as exc:
        out["unit_error"] = str(exc)
        return out
    out["unit"] = type(unit).__name__
    for key, value in sorted(vars(unit).items()):
        if key == "body":
            from hil.decode698 import explain_meter_bytes
            out["meter_frame"] = explain_meter_bytes(value, explain_capture) if value else []
        elif isinstance(value, bytes):
            out[key] = _addr_text(value) if len(value) == 6 else hexstr(value)
        elif isinstance(value, list):
            out[key] = [repr(v) if not isinstance(v, (bytes, tuple)) else
                        (_addr_text(v) if isinstance(v, bytes) else [_addr_text(v[0]), v[1]])
                        for v in value]
        else:
            out[key] = value
    if isinstance(unit, A.Deny):
        out["reason"] = unit.reason
    if isinstance(unit, A.ReportEvent) and A.is_area_result(unit.body):
        out["area_result"] = _area_result(unit.body)
    return out


def _area_result(body):
    """A 06F5 area identification result (docs/areaid.md) as its fields, or the reason not."""
    from protocols.gdw1376_2 import afn as A
    try:
        r = A.parse_area_result(body)
    except ProtocolDecodeError as exc:
        return {"error": str(exc)}
    return {"meter": _addr_text(r.addr), "flag": r.flag, "foreign": r.foreign,
            "belongs_to_cco": _addr_text(r.cco)}


def explain_capture_3762(data):
    """Every 1376.2 frame and every run of garbage in a capture, in order."""
    from protocols.gdw1376_2.deframer import Deframer as Deframer3762
    return _explain_stream(data, Deframer3762(max_buffer=len(data) + 1), explain_3762_frame)


AFN_NAMES_3761 = {0x00: "confirm/deny", 0x01: "reset", 0x02: "link test", 0x03: "relay command",
                  0x04: "set parameters", 0x05: "control", 0x06: "authentication",
                  0x08: "cascade", 0x09: "configuration", 0x0A: "query parameters",
                  0x0B: "task data", 0x0C: "class 1 (real-time)", 0x0D: "class 2 (frozen)",
                  0x0E: "class 3 (events)", 0x0F: "file transfer", 0x10: "forwarding"}


def explain_3761_frame(frame):
    """A dict with every field of one Q/GDW 1376.1 frame and its data units; a 645 frame carried
    by a forwarding unit is explained too."""
    from protocols.gdw1376_1.units import parse_units
    raw = frame.raw or b""
    out = {
        "raw": hexstr(raw), "length": len(raw),
        "direction": "concentrator->master" if frame.up else "master->concentrator",
        "prm": "initiator" if frame.prm else "answer", "function": frame.func,
        "control": "%02X" % frame.ctrl, "address": "%s-%d" % (frame.region, frame.terminal),
        "msa": frame.msa, "group": frame.group,
        "afn": "%02X %s" % (frame.afn, AFN_NAMES_3761.get(frame.afn, "unknown")),
        "seq": frame.seq, "fir_fin_con": [frame.fir, frame.fin, frame.con],
    }
    if frame.up:
        out["acd"] = frame.acd
    else:
        out["fcb_fcv"] = [frame.fcb, frame.fcv]
    if frame.pw is not None:
        out["pw"] = hexstr(frame.pw)
    if frame.ec is not None:
        out["event_counters"] = list(frame.ec)
    if frame.tp is not None:
        out["tp"] = {"pfc": frame.tp.pfc, "sent": "day %02d %02d:%02d:%02d" % (
            frame.tp.time[3], frame.tp.time[2], frame.tp.time[1], frame.tp.time[0]),
            "delay_min": frame.tp.delay_min}
    out["checksum"] = "%02X ok" % raw[-2] if raw else ""
    try:
        units = parse_units(frame.afn, frame.data, frame.up)
    except ProtocolDecodeError as exc:
        out["units_error"] = str(exc)
        out["data"] = hexstr(frame.data)
        return out
    out["units"] = [_unit_text(u) for u in units]
    return out


def _unit_text(u):
    """One (Pn, Fn) unit as text fields: its data, where a parse stopped, its event records."""
    from protocols.gdw1376_1.erc import records as erc_records
    if u.fn == 0:
        return {"trailing": hexstr(u.value["trailing"]), "reason": u.value["reason"],
                "offset": u.value.get("offset")}
    out = {"item": "F%d" % u.fn, "point": "p%s" % u.pn}
    for key, value in sorted((u.value or {}).items()):
        if key in ("content", "raw", "rest"):
            out[key] = hexstr(value)
            if key == "content" and value[:1] in (b"\x68", b"\xfe"):
                out["meter_frame"] = explain_capture(value)
        elif key == "stop":
            out["stopped_at"] = value["offset"]
            out["stop_reason"] = value["reason"]
            out["unread_pairs"] = ["p%s F%d" % pair for pair in value["pending"]]
        elif key == "events":
            out["events"] = [_event_text(e, rec) for e, rec in erc_records(u.value)]
        else:
            out[key] = _plain(value)
    return out


def _event_text(e, rec):
    """One AFN0E event: its code, its bytes, and its typed record's fields (or why none)."""
    from protocols.gdw1376_1.erc import UnknownEvent
    out = {"erc": e["erc"], "data": hexstr(e["data"])}
    if isinstance(rec, ProtocolDecodeError):
        out["record_error"] = str(rec)
    elif not isinstance(rec, UnknownEvent):
        out["name"] = rec.title + (" (vendor code)" if rec.vendor else "")
        out["record"] = dict((k, _plain(v)) for k, v in rec.values().items() if v is not None)
    return out


def _plain(value):
    """Unit and record values as JSON-friendly data (bytes as hex)."""
    if isinstance(value, (bytes, bytearray)):
        return hexstr(value)
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def explain_capture_3761(data):
    """Every 1376.1 frame and every run of garbage in a capture, in order."""
    from protocols.gdw1376_1.deframer import Deframer as Deframer3761
    return _explain_stream(data, Deframer3761(max_buffer=len(data) + 1), explain_3761_frame)
