"""Field-by-field explanation of captured DL/T 698.45 bytes (``gridedge decode --protocol 698``).

Each frame becomes one flat dict (dotted keys for nested fields) so the table view and ``--json``
show every field: the link header (C bits, SA, CA, HCS/FCS), then the APDU and its data with
OADs named and numbers scaled by the registry. Segmented frames show their fragment; a capture
holding every fragment also gets the reassembled APDU explained.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.errors import hexstr
from protocols.dlt645.deframer import Deframer as Deframer645
from protocols.dlt698 import Deframer, Frame, Garbage, decode_apdu, segment
from protocols.dlt698.crc import crc16
from protocols.dlt698.describe import apdu as describe_apdu
from protocols.dlt698.frame import ADDR_KIND_NAMES

FUNCTION_NAMES = {1: "link management", 3: "user data"}


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for key, v in value.items():
            _flatten("%s.%s" % (prefix, key) if prefix else key, v, out)
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        for n, v in enumerate(value):
            _flatten("%s[%d]" % (prefix, n), v, out)
    else:
        out[prefix] = value


def explain_apdu(raw):
    """Flat dict of one APDU's fields (``apdu_error`` when it does not decode)."""
    try:
        msg = decode_apdu(raw)
    except ProtocolDecodeError as exc:
        return {"apdu_error": str(exc), "apdu_bytes": hexstr(raw)}
    out = {}
    _flatten("", describe_apdu(msg), out)
    return out


def explain_frame(frame):
    """A flat dict with every field of one 698.45 frame and its APDU."""
    raw = frame.raw or b""
    body = raw[frame.preamble:]
    head = 5 + len(frame.addr) + 1
    out = {
        "raw": hexstr(raw), "preamble_fe": frame.preamble, "length": len(body) - 2,
        "control": "%02X" % frame.ctrl,
        "direction": "server->client" if frame.from_server else "client->server",
        "prm": "started by the client" if frame.prm else "started by the server",
        "segmented": frame.segmented, "scrambled": frame.scrambled,
        "function": "%d %s" % (frame.function, FUNCTION_NAMES.get(frame.function, "reserved")),
        "sa": "%02X" % frame.sa, "address_kind": ADDR_KIND_NAMES[frame.kind],
        "logical_address": frame.logical, "address": frame.address, "ca": "%02X" % frame.ca,
        "hcs": "%04X ok" % crc16(body[1:head]) if body else "",
        "fcs": "%04X ok" % crc16(body[1:-3]) if body else "",
        "user_data": hexstr(frame.data),
    }
    if frame.segmented:
        try:
            frag = segment.Fragment.decode(frame.data)
            out["fragment"] = "%s, sequence %d, %d bytes" % (segment.KIND_NAMES[frag.kind],
                                                            frag.seq, len(frag.data))
        except ProtocolDecodeError as exc:
            out["fragment_error"] = str(exc)
        return out
    out.update(explain_apdu(frame.data))
    return out


def explain_capture(data):
    """Every 698.45 frame and every run of garbage in a capture, in order; when the capture
    holds a whole segmented transfer, its reassembled APDU follows the last fragment."""
    d = Deframer(max_buffer=len(data) + 1)
    d.feed(data)
    d.flush()
    items = []
    joiner = segment.Reassembler()
    for item in d:
        if isinstance(item, Garbage):
            items.append({"garbage": hexstr(item.raw), "reason": item.reason})
            continue
        items.append(explain_frame(item))
        if item.segmented:
            try:
                _, apdu = joiner.accept(segment.Fragment.decode(item.data))
            except ProtocolDecodeError:
                continue
            if apdu is not None:
                whole = {"reassembled": hexstr(apdu)}
                whole.update(explain_apdu(apdu))
                items.append(whole)
    return items


def looks_like_698(data):
    """True when the bytes hold 698.45 frames and no DL/T 645 frame (decode's autodetect)."""
    def count(deframer):
        deframer.feed(data)
        deframer.flush()
        return sum(1 for i in deframer if not isinstance(i, Garbage))
    return count(Deframer(max_buffer=len(data) + 1)) > 0 and \
        count(Deframer645(max_buffer=len(data) + 1)) == 0


def explain_meter_bytes(data, explain_645):
    """A meter frame carried by 1376.x (protocol type 03 or 02): 698 when it is 698."""
    return explain_capture(data) if looks_like_698(data) else explain_645(data)


__all__ = ["explain_frame", "explain_capture", "explain_apdu", "looks_like_698",
           "explain_meter_bytes", "Frame"]
