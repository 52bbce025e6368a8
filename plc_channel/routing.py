"""Relay routing (中继路由): level-by-level discovery from the coordinator, repair around silence.

Networking assigns level 1 to meters the coordinator hears with an SNR above a threshold, then
level k to meters that hear a level k-1 meter, choosing the strongest link, up to the phy's depth
limit - the way a CCO builds its tree. Routes are built on quiet-hour noise; evening noise then
hurts the transmissions, not the tree. When a relay goes silent, its whole subtree is re-parented
over the meters still alive; a silent meter rejoins when it is heard again.
"""
import bisect

from plc_channel.phy import snr_for_per
from plc_channel.topology import ROOT

QUIET_HOUR = 3          # routes reflect link qualities at 03:00
SMALL_SUBTREE = 64      # repair this many orphans one by one instead of re-networking


class Router:
    """Parent and level of every meter; ``alive(i, t)`` tells whether meter i's module works."""

    def __init__(self, topology, phy, noise, alive, margin_db=3.0, ref_bytes=40):
        self.topology = topology
        self.phy = phy
        self.noise = noise
        self.alive = alive
        self.threshold = snr_for_per(phy.table, ref_bytes + phy.mac_overhead_bytes, 0.1) + margin_db
        n = topology.size
        self.parent = [None] * n
        self.level = [0] * n
        self.down = set()
        self.repairs = 0
        self.joins = 0
        self.route_log = {}             # meter -> [(t, has a route)] at each change (ground truth)
        self.parent_log = {}            # meter -> [(t, parent or None)] at each change (ditto)
        self._noise_t, self._noise_at = None, {}     # noise by box at one instant
        self._near_boxes = {}           # box -> [(box, attenuation)] within reach, once asked

    def _log_routes(self, nodes, before, t):
        for i, had in zip(nodes, before):
            p = self.parent[i]
            has = p is not None
            if has != had:
                self.route_log.setdefault(i, []).append((t, has))
            log = self.parent_log.get(i)
            if (log[-1][1] if log else None) != p:
                self.parent_log.setdefault(i, []).append((t, p))

    def parent_at(self, i, t):
        """Meter ``i``'s parent at ``t`` (from the change log; None: no route then)."""
        got = None
        for at, p in self.parent_log.get(i, ()):
            if at > t:
                break
            got = p
        return got

    def path_at(self, i, t):
        """[ROOT, relay, ..., i] as the network stood at ``t``, or None."""
        out = [i]
        while out[-1] != ROOT and len(out) <= self.phy.max_depth + 1:
            p = self.parent_at(out[-1], t)
            if p is None:
                return None
            out.append(p)
        return out[::-1] if out[-1] == ROOT else None

    def routed_at(self, i, t):
        """Whether meter ``i`` had a route at ``t`` (from the change log; now if never changed)."""
        state = None
        for at, has in self.route_log.get(i, ()):
            if at > t:
                break
            state = has
        return state if state is not None else False

    def snr(self, i, j, t):
        """SNR (dB) of a transmission from ``i`` heard at ``j`` at ``t``."""
        topo = self.topology
        att = topo.attenuation(i, j, self.phy)
        rx_box = ROOT if j == ROOT else topo.box_of[j]
        return self.phy.budget_db - att - self.noise.level(rx_box, t)

    def build(self, t):
        """Network the meters alive at ``t`` on the link qualities of the last quiet hour
        (networking runs over hours; a CCO's tree reflects the quiet night, not one instant)."""
        n = self.topology.size
        before = [p is not None for p in self.parent]
        self.parent = [None] * n
        self.level = [0] * n
        quiet = t - (t - QUIET_HOUR * 3600.0) % 86400.0
        self._assign([i for i in range(n) if self.alive(i, t)], quiet)
        self._log_routes(range(n), before, t)

    def path(self, i):
        """[ROOT, relay, ..., i] or None when ``i`` is not in the network."""
        if self.parent[i] is None:
            return None
        out = [i]
        while out[-1] != ROOT:
            out.append(self.parent[out[-1]])
        out.reverse()
        return out

    def mark_down(self, j, t):
        """Relay ``j`` went silent: re-parent its subtree over the live meters."""
        if j in self.down:
            return
        self.down.add(j)
        self.repairs += 1
        subtree = sorted(self._subtree(j))
        subtree.sort(key=lambda i: self.level[i])
        for i in subtree:
            self.parent[i] = None
            self.level[i] = 0
        orphans = [i for i in subtree if i != j and self.alive(i, t)]
        if len(orphans) <= SMALL_SUBTREE:
            for i in orphans:               # parents before children: sorted by old level
                self._attach_one(i, t)
        else:
            self._assign(orphans, t)
        self._log_routes(subtree, [True] * len(subtree), t)

    def rejoin(self, i, t):
        """Meter ``i`` is heard again (or for the first time): give it a route if possible."""
        if self.parent[i] is not None or not self.alive(i, t):
            return False
        self.down.discard(i)
        self.joins += 1
        self._attach_one(i, t)
        self._log_routes((i,), (False,), t)
        return self.parent[i] is not None

    def _attach_one(self, i, t):
        """Join one meter under the lowest-level live meter it hears well (strongest on ties)."""
        topo, phy = self.topology, self.phy
        if min(self.snr(ROOT, i, t), self.snr(i, ROOT, t)) >= self.threshold:
            self._set(i, ROOT, 1)
            return
        reach_m = max(0.0, (phy.budget_db - self.threshold - 2.0) / phy.alpha_db_per_m)
        bi = topo.box_of[i]
        noise_i = self._noise(bi, t)
        best = None
        for b, att in self._near(bi, reach_m):
            room = (phy.budget_db - att - topo.shadow[i] - max(noise_i, self._noise(b, t)))
            if room < self.threshold:
                continue
            for j in topo.members[b]:
                lvl = self.level[j]
                if j == i or lvl == 0 or lvl >= phy.max_depth or j in self.down:
                    continue
                s = room - topo.shadow[j] - (phy.cross_phase_db if topo.phase[i] != topo.phase[j]
                                             else 0.0)
                if s >= self.threshold and (best is None or (lvl, -s) < best[0]):
                    if self.alive(j, t):
                        best = ((lvl, -s), j)
        if best is not None:
            self._set(i, best[1], best[0][0] + 1)

    def _subtree(self, j):
        """``j`` and every meter routed through it (one pass over the parents, then down)."""
        children = {}
        for i, p in enumerate(self.parent):
            if p is not None:
                children.setdefault(p, []).append(i)
        out, todo = [j], [j]
        while todo:
            kids = children.get(todo.pop(), ())
            out.extend(kids)
            todo.extend(kids)
        return out

    def _noise(self, box, t):
        if t != self._noise_t:
            self._noise_t, self._noise_at = t, {}
        got = self._noise_at.get(box)
        if got is None:
            got = self._noise_at[box] = self.noise.level(box, t)
        return got

    def _near(self, box, reach_m):
        """[(box, attenuation)] of the boxes within ``reach_m`` of ``box`` that a member of
        ``box`` could hear at the quietest noise (the rest never pass ``_attach_one``'s test)."""
        got = self._near_boxes.get(box)
        if got is None:
            topo, phy = self.topology, self.phy
            hourly = getattr(self.noise, "hourly", None)
            best = phy.budget_db - min(topo.shadow[i] for i in topo.members[box])
            best -= min(hourly) if hourly else 0.0
            got = []
            for b in topo.boxes_near(box, reach_m):
                att = topo.box_att(box, b, phy)
                if hourly is None or best - att >= self.threshold - 1e-6:
                    got.append((b, att))
            self._near_boxes[box] = got
        return got

    def _assign(self, nodes, t):
        topo, phy = self.topology, self.phy
        noise = {}

        def noise_at(b):
            got = noise.get(b)
            if got is None:
                got = noise[b] = self.noise.level(b, t)
            return got

        pending = set(nodes)
        for i in list(pending):
            if self.phy.budget_db - topo.attenuation(ROOT, i, phy) - max(
                    noise_at(ROOT), noise_at(topo.box_of[i])) >= self.threshold:
                self._set(i, ROOT, 1)
                pending.discard(i)
        for k in range(2, phy.max_depth + 1):
            if not pending:
                break
            best = self._best_by_box(k - 1, t)
            if not best:
                break
            chosen = self._choose(pending, best, noise_at)
            for i, p in chosen:
                self._set(i, p, k)
                pending.discard(i)

    def _choose(self, pending, best, noise_at):
        """(meter, parent) for pending meters that hear a parent box in ``best`` well enough."""
        topo, phy = self.topology, self.phy
        reach_m = max(0.0, (phy.budget_db - self.threshold - 2.0) / phy.alpha_db_per_m)
        boxes = sorted(best, key=lambda b: topo.boxes[b].r)
        rs = [topo.boxes[b].r for b in boxes]
        by_box = {}
        for i in pending:
            by_box.setdefault(topo.box_of[i], []).append(i)
        chosen = []
        for b, members in by_box.items():
            r = topo.boxes[b].r
            lo = bisect.bisect_left(rs, r - reach_m)
            hi = bisect.bisect_right(rs, r + reach_m)
            tops = {i: (None, self.threshold) for i in members}
            for pb in boxes[lo:hi]:
                # both directions must work: the louder end's noise decides
                room = phy.budget_db - topo.box_att(b, pb, phy) - max(noise_at(b), noise_at(pb))
                if room < self.threshold:
                    continue
                for j in best[pb]:
                    base = room - topo.shadow[j]
                    for i in members:
                        s = base - topo.shadow[i]
                        if topo.phase[i] != topo.phase[j]:
                            s -= phy.cross_phase_db
                        if s >= tops[i][1]:
                            tops[i] = (j, s)
            chosen.extend((i, p) for i, (p, _) in tops.items() if p is not None)
        return chosen

    def _set(self, i, parent, level):
        self.parent[i] = parent
        self.level[i] = level

    def _best_by_box(self, level, t):
        """{box: [(shadow, meter, phase)]}: per box, the best live meter of each phase at ``level``."""
        topo = self.topology
        best = {}
        for j in range(topo.size):
            if self.level[j] != level or j in self.down or not self.alive(j, t):
                continue
            b = topo.box_of[j]
            per_phase = best.setdefault(b, {})
            cur = per_phase.get(topo.phase[j])
            if cur is None or topo.shadow[j] < topo.shadow[cur]:
                per_phase[topo.phase[j]] = j
        return {b: list(v.values()) for b, v in best.items()}
