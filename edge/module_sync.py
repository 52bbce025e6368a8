"""Bring the carrier module's slave table (从节点档案) in line with our archive, and learn depths.

The concentrator drives reading itself, so the module's router is paused (12F2) first. Then the
table is read page by page (10F2), nodes we do not archive are deleted (11F2), missing ones added
(11F1), and the relay level of every node is read back for the per-depth statistics.
"""
from protocols.gdw1376_2 import afn as A

from edge.effects import ModuleCall, SleepUntil

PAGE = 32                  # nodes per 10F2 page
BATCH = 16                 # nodes per 11F1 / 11F2 frame
RETRY_S = 10.0             # a module that does not answer is asked again after this


def _call(agent, port, unit):
    """Ask until the module answers (a module still booting answers nothing)."""
    while True:
        answer = yield ModuleCall(port, unit)
        if answer is not None:
            return answer
        agent.count("module_silent")
        yield SleepUntil(agent.now + RETRY_S)


def _slave_table(agent, port):
    nodes = {}
    start = 1
    while True:
        info = yield from _call(agent, port, A.SlaveInfoQuery(start, PAGE))
        if not isinstance(info, A.SlaveInfo):
            return nodes
        for node in info.nodes:
            nodes[node.addr] = node
        start += len(info.nodes)
        if not info.nodes or start > info.total:
            return nodes


def module_sync(agent, port):
    """Generator job: pause the router, sync the slave table, record each meter's relay level;
    again if the archive changed meanwhile."""
    yield from _call(agent, port, A.RoutePause())
    archive = None
    while archive is not agent.archive:
        archive = agent.archive
        yield from _sync_table(agent, port)
    agent.module_ready(port)


def _sync_table(agent, port):
    nodes = yield from _slave_table(agent, port)
    wanted = {m.wire_addr: _protocol(m) for m in agent.archive.on_port(port)}
    # a node archived with another protocol is deleted and added again
    extra = [a for a, node in nodes.items() if wanted.get(a) != node.protocol]
    for k in range(0, len(extra), BATCH):
        yield from _call(agent, port, A.DeleteSlaves(extra[k:k + BATCH]))
    missing = [(a, proto) for a, proto in wanted.items()
               if a not in nodes or nodes[a].protocol != proto]
    for k in range(0, len(missing), BATCH):
        answer = yield from _call(agent, port, A.AddSlaves(missing[k:k + BATCH]))
        if isinstance(answer, A.Deny):
            agent.count("module_add_denied")
    nodes = yield from _slave_table(agent, port)
    for m in agent.archive.on_port(port):
        node = nodes.get(m.wire_addr)
        agent.health_of(m.addr).depth = node.level if node is not None else 0


def _protocol(meter):
    return A.PROTO_645_1997 if meter.protocol == "645-1997" else A.PROTO_645_2007
