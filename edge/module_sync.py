"""Bring the carrier module's slave table (从节点档案) in line with our archive, and learn depths.

First the module's run mode (03F10) and whether it offers concurrent reading (03F11 for AFN F1)
decide how the link reads and how long it waits (10376.2-2019 A.2 d). The concentrator drives
reading itself, so the module's router is paused (12F2). Then the table is read page by page
(10F2), nodes we do not archive are deleted (11F2), missing ones added (11F1), and the relay
level of every node is read back for the per-depth statistics (A.3). Where the module has them
(2019), each meter's phase (10F31) and place in the network (10F21) go to the store.
"""
from protocols.gdw1376_2 import afn as A

from edge import area_ident, module_facts
from edge.effects import ModuleCall, SleepUntil

PAGE = 32                  # nodes per 10F2 / 10F21 page
BATCH = 16                 # nodes per 11F1 / 11F2 frame
RETRY_S = 10.0             # a module that does not answer is asked again after this
SEARCH_MIN = 10            # a meter search (11F5) runs this long unless the module ends it


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
    """Generator job: learn the module's run mode, pause the router, sync the slave table,
    record each meter's relay level (again if the archive changed meanwhile), then its phase
    and topology; last, allow area identification (``edge.area_ident``)."""
    yield from _run_mode(agent, port)
    yield from _call(agent, port, A.RoutePause())
    archive = None
    while archive is not agent.archive:
        archive = agent.archive
        yield from _sync_table(agent, port)
    agent.module_ready(port)
    yield from area_facts(agent, port)
    yield from area_ident.start(agent, port)


def _run_mode(agent, port):
    mode = yield from _call(agent, port, A.RunModeQuery())
    if not isinstance(mode, A.RunMode):
        agent.count("module_run_mode_refused")      # an older module: keep the configured way
        return
    concurrent = False
    if mode.comm == A.RUN_BROADBAND and mode.concentrator_may_read:
        index = yield from _call(agent, port, A.AfnIndexQuery(A.ConcurrentRequest.AFN))
        concurrent = isinstance(index, A.AfnIndex) and index.supports(A.ConcurrentRequest.FN)
    agent.buses[port].link.configure(mode, concurrent)


def _pages(agent, port, query, reply):
    """Every node of a paged 2019 query that starts at 1 (10F21, 10F31); [] when refused."""
    nodes, start = [], 1
    while True:
        answer = yield from _call(agent, port, query(start, PAGE))
        if not isinstance(answer, reply):
            return nodes
        nodes += answer.nodes
        start += len(answer.nodes)
        if not answer.nodes or start > answer.total:
            return nodes


def area_facts(agent, port):
    """Generator: each node's phase (10F31) and network place (10F21) into the store."""
    # node 1 of both series is the master node itself (tables 64, 65)
    phases = yield from _pages(agent, port, A.PhaseQuery, A.PhaseInfo)
    if phases:
        module_facts.save_phases(agent.store, port, phases[1:], agent.wall)
    topology = yield from _pages(agent, port, A.TopologyQuery, A.Topology)
    if topology:
        module_facts.save_topology(agent.store, port, topology, agent.wall)


def meter_search(agent, port, minutes=SEARCH_MIN):
    """Generator job: a meter search (从节点主动注册, 10376.2-2019 A.5): pause the router,
    start registration, let it run ``minutes`` (what the module reports meanwhile becomes
    archive candidates, ``module_facts``), then stop it (the router stays paused: we read)."""
    yield from _call(agent, port, A.RoutePause())
    yield from _call(agent, port, A.StartRegistration(b"\x00" * 6, minutes, 3, 10))
    yield SleepUntil(agent.now + minutes * 60.0)
    yield from _call(agent, port, A.StopRegistration())


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
    module_facts.save_slaves(agent.store, port, nodes.values(), agent.wall)
    for m in agent.archive.on_port(port):
        node = nodes.get(m.wire_addr)
        agent.health_of(m.addr).depth = node.level if node is not None else 0


def _protocol(meter):
    """The node's 1376.2 protocol type: 01 645-1997, 02 645-2007, 03 DL/T 698.45."""
    return {"645-1997": A.PROTO_645_1997, "698.45": A.PROTO_698}.get(meter.protocol,
                                                                    A.PROTO_645_2007)
