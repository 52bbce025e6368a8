"""Field-by-field explanation of captured DL/T 645 bytes (``gridedge decode``)."""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.civil import iso
from protocols.errors import hexstr
from protocols.dlt645 import apdu, const as K, di as DI, v1997
from protocols.dlt645.deframer import Deframer, Garbage
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
        info["valid_until"] = iso(msg.valid_until)
        info["level"] = "%02X" % msg.level
    if isinstance(msg, apdu.BroadcastTime):
        info["time"] = iso(msg.t)
    return info


def explain_capture(data, protocol=2007):
    """Every frame and every run of garbage in a capture, in order."""
    d = Deframer(max_buffer=len(data) + 1)
    d.feed(data)
    d.flush()
    items = []
    for item in d:
        if isinstance(item, Garbage):
            items.append({"garbage": hexstr(item.raw), "reason": item.reason})
        else:
            items.append(explain_frame(item, protocol))
    return items
