"""Small shared test helpers: talk 645 to a firmware meter or a bus without any I/O."""
from protocols.dlt645 import ReadReply, decode_frame, encode_frame, parse_reply
from edge.exchange import Exchange


def ask(meter, request, t, addr=None):
    """Send one typed request; return the typed reply (or None for silence)."""
    raw = encode_frame(request.to_frame(meter.addr if addr is None else addr), preamble=4)
    reply = meter.handle(raw, t)
    return None if reply is None else parse_reply(decode_frame(reply))


def value(meter, request, t):
    reply = ask(meter, request, t)
    assert isinstance(reply, ReadReply), reply
    return reply.value()[1]


def run_in_memory(exchange, respond, t, link=None):
    """Drive an Exchange against ``respond(bytes, t) -> (reply, delay)`` on a virtual clock.

    ``link(bytes) -> list of (delay, chunk)`` may fragment, corrupt or drop bytes in flight.
    """
    now = 0.0
    while not exchange.done:
        out = exchange.data_to_send(now)
        if out is not None and not exchange.done:
            reply, delay = respond(out, t + now)
            if reply is not None:
                chunks = link(reply) if link else [(0.0, reply)]
                at = now + delay
                for gap, chunk in chunks:
                    at += gap
                    exchange.on_timer(at)
                    exchange.receive_data(chunk, at)
                    if exchange.done:
                        break
                now = at
        deadline = exchange.next_deadline()
        if deadline is not None and not exchange.done:
            now = max(now, deadline)
            exchange.on_timer(now)
    return exchange.outcome


def exchange(addr, request, **kw):
    return Exchange(addr, request, 0.0, **kw)


def deframe(deframer, chunks):
    """Every item ``deframer`` gives for ``chunks`` fed one by one, then flushed (the stream's
    end): frames and Garbage in order."""
    out = []
    for c in chunks:
        deframer.feed(c)
        out.extend(deframer)
    deframer.flush()
    out.extend(deframer)
    return out


def ask698(meter, msg, t, addr=None, ca=0x10, frames=None, blocks=None, follow=True):
    """Send one 698 APDU (or its bytes) to ``meter``; return the decoded reply APDU, confirming
    each link fragment of a long reply and asking each next block of a GET in blocks (the
    blocks' items are put back into one GET answer; ``blocks`` collects the GetNextReplies).
    None for silence; ``frames`` collects the reply frames; ``follow=False`` stops at block 1."""
    from protocols.dlt698 import GetNext, GetNextReply
    reply = _ask698_once(meter, msg, t, addr, ca, frames)
    if not follow:
        return reply
    items = []
    while isinstance(reply, GetNextReply) and reply.dar is None:
        if blocks is not None:
            blocks.append(reply)
        items += reply.items
        if reply.last:
            return _joined(msg, items)
        reply = _ask698_once(meter, GetNext(reply.block, piid=reply.piid & 0x3F), t, addr, ca, frames)
    return reply


def _joined(msg, items):
    from protocols.dlt698 import (GetListReply, GetNormalReply, GetRecord, GetRecordListReply,
                                  GetRecordReply, GetList, GetNormal, RecordResult)
    if isinstance(msg, GetNormal):
        return GetNormalReply(items[0])
    if isinstance(msg, GetList):
        return GetListReply(items)
    merged = []
    for rec in items:
        if merged and merged[-1].oad == rec.oad and rec.dar is None and merged[-1].dar is None:
            merged[-1] = RecordResult(rec.oad, rec.columns, merged[-1].rows + rec.rows)
        else:
            merged.append(rec)
    return GetRecordReply(merged[0]) if isinstance(msg, GetRecord) else GetRecordListReply(merged)


def _ask698_once(meter, msg, t, addr, ca, frames):
    from protocols.dlt698 import (confirm_frame, decode_apdu, decode_frame, encode_frame,
                                  request_frame, segment)
    raw = encode_frame(request_frame(msg, meter.addr if addr is None else addr, ca))
    reply = meter.handle(raw, t)
    parts = []
    while reply is not None:
        f = decode_frame(reply)
        if frames is not None:
            frames.append(f)
        if not f.segmented:
            return decode_apdu(f.data)
        frag = segment.Fragment.decode(f.data)
        parts.append(frag.data)
        if frag.kind == segment.LAST:
            return decode_apdu(b"".join(parts))
        reply = meter.handle(encode_frame(confirm_frame(f, frag.seq)), t)
    return None
