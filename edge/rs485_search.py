"""RS-485 address search (搜表) for meter swaps, only where ``[tasks.swaps] rs485_search`` is on
and an archived meter on the port has vanished. The search walks the address space one byte
at a time with AA wildcards, as public concentrators do (e.g. the RS-485 auto search of the
gdgly/NUC97X_JS concentrator firmware, docs/field-faults.md): a wildcard read that stays
silent moves to the byte's next value; garbage (two meters answering at once) fixes the byte
and opens the next; one clean answer is checked by reading that meter at its own address. The
item read is the communication address (04000401). Finds the archive lacks become archive
candidates, and swap candidates of the vanished meters (``edge.swaps``)."""
import logging

from protocols.dlt645 import apdu
from protocols.dlt645.di import DI_ADDRESS

from edge import module_facts
from edge.archive import MeterRecord
from edge.effects import Transact
from edge.exchange import GARBLED, OK

log = logging.getLogger(__name__)
WILD = 0xAA
PROTOCOL_2007 = 2                   # 1376.2 protocol type of a 645-2007 meter (candidates)


def _bcd(v):
    return (v // 10) << 4 | v % 10


def _printed(wire):
    return bytes(wire)[::-1].hex()


def _ask(port, wire):
    """Generator: read 04000401 at ``wire`` (wildcards allowed); the Result."""
    result = yield Transact([apdu.Read(DI_ADDRESS)], meter=MeterRecord(_printed(wire), port))
    return result


def _address(result):
    reply = result.replies[0] if result.replies else None
    if result.kind != OK or not isinstance(reply, apdu.ReadReply):
        return None
    value = reply.value()
    return value[1] if isinstance(value, tuple) and value and value[0] == "address" else None


def search(agent, port):
    """Generator: every 645-2007 meter address answering on ``port`` (printed), depth first
    from the lowest byte (wire order)."""
    found = []
    stack = [[]]
    while stack:
        fixed = stack.pop()
        for v in range(100):
            wire = bytes(fixed + [_bcd(v)] + [WILD] * (5 - len(fixed)))
            result = yield from _ask(port, wire)
            agent.count("rs485_search_probes")
            addr = _address(result)
            if addr is not None:
                check = yield from _ask(port, bytes.fromhex(addr)[::-1])
                if _address(check) == addr:
                    found.append(addr)
                    continue
            if (result.kind == GARBLED or addr is not None) and len(fixed) < 5:
                stack.append(fixed + [_bcd(v)])       # several answered: one byte more
    return sorted(set(found))


def search_job(agent, port, on_found):
    """Generator job: search ``port``, keep the unarchived finds as archive candidates, then
    ``on_found(finds)`` (printed addresses the archive lacks, each with its time)."""
    found = yield from search(agent, port)
    fresh = [a for a in found if a not in agent.archive.meters]
    module_facts.add_candidates(agent.store, port, [(bytes.fromhex(a)[::-1], PROTOCOL_2007, 1)
                                                    for a in fresh], agent.wall, "rs485_search")
    agent.count("rs485_search_runs")
    log.info("port %s: address search found %d meters, %d not archived: %s", port, len(found),
             len(fresh), " ".join(fresh[:20]))
    on_found(fresh)
