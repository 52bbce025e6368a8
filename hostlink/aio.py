"""asyncio shells for the 1376.1 uplink: the master station's TCP server (with a JSON-lines
control port for operators and rigs) and the terminal's TCP client.

Both are aioquic-style shells over the sans-I/O cores: feed bytes in, write what the core wants
to send, sleep until its next deadline or the next bytes. TLS is an ``ssl.SSLContext`` away.

The control port carries trips and archive changes, so it takes nothing without the station's
secret: every command line carries ``"token"``, compared with the token file (created 0600 on
the first start, refused when others may read it); a line without it is answered
``unauthorized`` and the connection is closed. Lines over 64 KiB and lines that are not one JSON
object get an error reply. The concentrator port holds at most ``max_connections`` at once;
each connection has the core's limits (``hostlink.master.Limits``). A second login with an
address already connected replaces the old connection (``login_policy = "replace"``, logged and
counted) or is refused (``"refuse"``).
"""
import asyncio
import hmac
import json
import logging
import os
import secrets
import ssl
import stat
import time

from protocols.civil import parse_local, to_civil
from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Frame, Unit
from protocols.gdw1376_1.area_ext import LINE_LOSS_FN, MISSED_FN
from protocols.gdw1376_1.campaign_ext import FN as CAMPAIGN_FN
from protocols.gdw1376_1.formats import time_a15
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONTROL,
                                       AFN_FORWARD, AFN_QUERY, AFN_SET)
from hostlink.master import OK, Limits, MasterConnection, parse_terminal_name
from hostlink.store import MasterStore, jsonable

READ_CHUNK = 65536
CONTROL_LINE_MAX = 65536             # bytes of one control-port command line
LOGIN_POLICIES = ("replace", "refuse")
log = logging.getLogger("gridedge.master")


class TokenError(ValueError):
    """The control port's token file cannot be used (readable by others, not ours, empty)."""


def load_token(path, create=False):
    """The secret in ``path``; with ``create``, a new random one is written there first if the
    file does not exist (mode 0600, created exclusively). A file that group or others may read,
    or that another user owns, is refused: the token is what stands between them and a trip."""
    path = str(path)
    if create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    try:
        st = os.stat(path)
    except OSError as exc:
        raise TokenError("token file %s: %s" % (path, exc.strerror)) from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError("token file %s has mode %04o: others may read it (chmod 600 %s)"
                         % (path, stat.S_IMODE(st.st_mode), path))
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise TokenError("token file %s belongs to another user" % path)
    with open(path) as f:
        token = f.read().strip()
    if len(token) < 16:
        raise TokenError("token file %s holds no token (16 characters or more)" % path)
    return token


def local_wall():
    """Local civil seconds now (the clock 1376.1 time labels and freezes are in)."""
    return time.time() + time.localtime().tm_gmtoff


def client_context(cafile=None, certfile=None, keyfile=None):
    """TLS for the terminal's connection (a CA file for a private master, a client certificate
    where the master asks for one)."""
    ctx = ssl.create_default_context(cafile=cafile)
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


def server_context(certfile, keyfile, cafile=None):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=cafile)
    ctx.load_cert_chain(certfile, keyfile)
    if cafile:
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def _pump(reader, wake, timeout):
    """The next bytes (b"" at EOF), or None when ``timeout`` passed or ``wake`` was set first."""
    read = asyncio.ensure_future(reader.read(READ_CHUNK))
    kicked = asyncio.ensure_future(wake.wait())
    try:
        done, _ = await asyncio.wait({read, kicked}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        kicked.cancel()
    wake.clear()
    if read in done:
        return read.result()
    read.cancel()
    try:
        await read
    except asyncio.CancelledError:
        pass
    return None


# --- the master station -----------------------------------------------------------------------
class MasterServer:
    """Accepts concentrators, records what they send in ``store``, and carries requests."""

    def __init__(self, store, msa=1, wall=local_wall, limits=None, max_connections=1024,
                 login_policy="replace"):
        if login_policy not in LOGIN_POLICIES:
            raise ValueError("login_policy is one of %s" % ", ".join(LOGIN_POLICIES))
        if max_connections < 1:
            raise ValueError("max_connections >= 1")
        self.store = store if isinstance(store, MasterStore) else MasterStore(store)
        self.msa = msa
        self.wall = wall
        self.limits = limits or Limits()
        self.max_connections = max_connections
        self.login_policy = login_policy
        self.connections = {}          # terminal name -> (MasterConnection, writer, wake)
        self.servers = []
        self.token = None
        self.counters = {}             # the server's own, not yet in the store
        self._serving = set()
        self._live = set()             # MasterConnections open now
        self._pfc = 0

    def _next_pfc(self):
        self._pfc = (self._pfc + 1) & 0xFF
        return self._pfc

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def flush_counters(self):
        if self.counters:
            self.store.bump(self.counters)
            self.counters = {}

    async def listen(self, host, port, ssl_context=None):
        server = await asyncio.start_server(self._serve, host, port, ssl=ssl_context,
                                            limit=READ_CHUNK)
        self.servers.append(server)
        where = server.sockets[0].getsockname()[:2]
        log.info("master station listening on %s:%d%s", where[0], where[1],
                 " (TLS)" if ssl_context else "", extra={
                     "event": "master_start", "listen": "%s:%d" % where[:2],
                     "tls": ssl_context is not None, "login_policy": self.login_policy})
        return where

    async def listen_control(self, host, port, token):
        """Serve the JSON-lines control port; every command must carry ``token``."""
        if not token:
            raise ValueError("the control port needs a token (nothing listens without a secret)")
        self.token = token
        server = await asyncio.start_server(self._serve_control, host, port,
                                            limit=CONTROL_LINE_MAX)
        self.servers.append(server)
        where = server.sockets[0].getsockname()[:2]
        log.info("master control port on %s:%d", where[0], where[1],
                 extra={"event": "master_control", "control": "%s:%d" % where[:2]})
        return where

    async def close(self):
        if self.servers:
            log.info("master station closing: %d connections", len(self.connections),
                     extra={"event": "master_stop", "online": len(self.connections)})
        for s in self.servers:
            s.close()
        for task in list(self._serving):
            task.cancel()
        if self._serving:
            await asyncio.wait(list(self._serving), timeout=5.0)
        for s in self.servers:
            await s.wait_closed()
        self.flush_counters()

    def _admit(self, conn):
        """The login policy for an address another connection already holds."""
        old = self.connections.get(conn.name)
        if old is None or old[0] is conn:
            return True
        if self.login_policy == "refuse":
            return False                         # the connection counts and logs it
        self.count("login_replaced")
        self.store.link_event(conn.name, "login_replaced", "a new connection logged in",
                              self.wall())
        log.warning("%s logged in again: the new connection replaces the old", conn.name,
                    extra={"event": "second_login", "terminal": conn.name, "policy": "replace"})
        old[0].close("replaced by a new login")
        old[1].close()
        old[2].set()
        return True

    async def _serve(self, reader, writer):
        if len(self._live) >= self.max_connections:
            self.count("refused_connection_cap")
            writer.close()
            return
        conn = MasterConnection(self.store, self.msa, self.limits, time.monotonic(), self._admit,
                                self._next_pfc)
        wake = asyncio.Event()
        task = asyncio.current_task()
        self._serving.add(task)
        self._live.add(conn)
        try:
            while not conn.wants_close:
                deadline = conn.next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                data = await _pump(reader, wake, timeout)
                if data == b"":
                    break
                now = time.monotonic()
                if data:
                    conn.receive_data(data, now, self.wall())
                    if conn.logged_in and self.connections.get(conn.name, (None,))[0] is not conn:
                        self.connections[conn.name] = (conn, writer, wake)
                conn.on_timer(now)
                out = conn.data_to_send()
                if out:
                    writer.write(out)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError,
                asyncio.CancelledError):
            pass                                 # the peer went, or the server is closing
        finally:
            if conn.name is not None and self.connections.get(conn.name, (None,))[0] is conn:
                del self.connections[conn.name]
            self._live.discard(conn)
            conn.connection_lost()
            writer.close()
            self._serving.discard(task)

    def online(self):
        return sorted(self.connections)

    @property
    def open_connections(self):
        """Concentrator connections open now, logged in or not."""
        return len(self._live)

    async def request(self, terminal, afn, units, timeout_s=30.0, pw=None, tp_delay_min=5):
        """Send ``units`` to ``terminal`` (``RRRR-NNNNN``) and wait for the answer: the
        finished ``hostlink.master.Request`` (outcome ok, denied, timeout or gone)."""
        entry = self.connections.get(terminal)
        if entry is None:
            raise KeyError("terminal %s is not connected" % terminal)
        conn, writer, wake = entry
        done = asyncio.get_running_loop().create_future()
        r = conn.request(afn, units, time.monotonic(), self.wall(), timeout_s, pw, tp_delay_min)
        r.callbacks.append(lambda req: done.done() or done.set_result(req))
        writer.write(conn.data_to_send())
        wake.set()                          # re-arm the connection's timer for this request
        return await done

    # --- the control port: one JSON object per line in, one per line out ----------------------
    async def _serve_control(self, reader, writer):
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:              # asyncio's limit: no newline within 64 KiB
                    await _reply(writer, {"error": "a command line is at most %d bytes"
                                          % CONTROL_LINE_MAX})
                    break
                if not line:
                    break
                try:
                    cmd = json.loads(line)
                except ValueError as exc:
                    cmd, reply = None, {"error": "not JSON: %s" % exc}
                if cmd is not None and not isinstance(cmd, dict):
                    cmd, reply = None, {"error": "a command is one JSON object per line"}
                if cmd is not None and not self._authorised(cmd):
                    self.count("control_unauthorized")
                    self.flush_counters()
                    log.warning("control port: command without the token from %s refused", peer)
                    await _reply(writer, {"error": "unauthorized"})
                    break
                if cmd is not None:
                    reply = await self._command_reply(cmd)
                await _reply(writer, reply)
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _authorised(self, cmd):
        token = cmd.get("token")
        return (isinstance(token, str) and self.token is not None
                and hmac.compare_digest(token.encode(), self.token.encode()))

    async def _command_reply(self, cmd):
        try:
            return await self.command(cmd)
        except (ValueError, KeyError, TypeError, ProtocolError) as exc:
            return {"error": "%s: %s" % (type(exc).__name__, exc)}
        except Exception as exc:                 # a bug: say so, keep serving
            log.exception("control command %r failed", cmd.get("op"))
            return {"error": "internal error: %s" % exc}

    async def command(self, cmd):
        """One operator command (the CLI's ``gridedge master ...`` verbs), as a JSON-able dict."""
        op = cmd.get("op")
        if op == "terminals":
            return {"online": self.online(), "terminals": self.store.terminals()}
        if op == "data":
            return {"data": self.store.data(cmd.get("terminal"), cmd.get("afn"), cmd.get("fn")),
                    "counts": self.store.counts()}
        if op == "stats":
            return {"counters": self.stats(), "connections": len(self._live)}
        terminal = cmd["terminal"]
        parse_terminal_name(terminal)
        afn, units = request_units(cmd)
        pw = bytes.fromhex(cmd["password"]) if "password" in cmd else None
        if Frame(afn).has_pw and (pw is None or len(pw) != 16):
            raise ValueError("%s needs the terminal's password: 32 hex digits" % cmd["op"])
        r = await self.request(terminal, afn, units, cmd.get("timeout_s", 30.0), pw,
                               cmd.get("tp_delay_min", 5))
        return {"outcome": r.outcome, "units": [
            {"afn": u.afn, "fn": u.fn, "pn": u.pn, "value": jsonable(u.value)} for u in r.answer]}


    def stats(self):
        """The station's counters: those kept in the store plus those of the open connections
        and the server's own not yet written."""
        out = self.store.counters()
        for part in [self.counters] + [c.counters for c in self._live]:
            for k, v in part.items():
                out[k] = out.get(k, 0) + v
        return dict(sorted(out.items()))


async def _reply(writer, reply):
    writer.write(json.dumps(reply).encode() + b"\n")
    await writer.drain()


def _date(text, month=False):
    y, m = int(text[0:4]), int(text[5:7])
    return (m, y % 100) if month else (int(text[8:10]), m, y % 100)


def request_units(cmd):
    """(AFN, units) of an operator command: read-current, read-day, read-month, read-curve,
    events, control, archive-query, archive-set, forward, forward-read, price-campaign, line-loss,
    missed."""
    op, pns = cmd["op"], cmd.get("points") or [cmd.get("point", 1)]
    if op == "read-current":
        return AFN_CLASS1, [Unit(AFN_CLASS1, cmd.get("fn", 129), p, None, False) for p in pns]
    if op in ("read-day", "read-month"):
        fn = cmd.get("fn", 161 if op == "read-day" else 177)
        td = _date(cmd["date"], op == "read-month")
        return AFN_CLASS2, [Unit(AFN_CLASS2, fn, p, {"td": td}, False) for p in pns]
    if op == "read-curve":
        value = {"start": time_a15(to_civil(parse_local(cmd["start"]))),
                 "density": cmd.get("density", 1),
                 "points": cmd.get("count", 4)}
        return AFN_CLASS2, [Unit(AFN_CLASS2, 101, p, value, False) for p in pns]
    if op == "events":
        return AFN_CLASS3, [Unit(AFN_CLASS3, cmd.get("fn", 1), 0,
                                 {"pm": cmd.get("from", 0), "pn": cmd.get("to", 255)}, False)]
    if op == "control":
        fn = {"trip": 1, "allow-close": 2, "keep-power": 25, "keep-power-off": 33}[cmd["action"]]
        value = {"limit_alarm": 0} if fn == 1 else {"half_hours": 0} if fn == 25 else None
        return AFN_CONTROL, [Unit(AFN_CONTROL, fn, p, value, False) for p in pns]
    if op == "archive-query":
        return AFN_QUERY, [Unit(AFN_QUERY, 10, 0, {"items": [{"index": p} for p in pns]}, False)]
    if op == "archive-set":
        return AFN_SET, [Unit(AFN_SET, 10, 0, {"items": cmd["entries"]}, False)]
    if op in ("line-loss", "missed"):   # gridedge's extension AFN0D F221/F222 p0 (area_ext)
        fn = LINE_LOSS_FN if op == "line-loss" else MISSED_FN
        return AFN_CLASS2, [Unit(AFN_CLASS2, fn, 0, {"td": _date(cmd["date"])}, False)]
    if op == "price-campaign":          # gridedge's extension AFN04 F201 (campaign_ext)
        return AFN_SET, [Unit(AFN_SET, CAMPAIGN_FN, 0, dict(
            c, effective=tuple(c["effective"])), False) for c in cmd["campaigns"]]
    if op == "forward":                 # AFN10 F1: a ready 645 frame (a sealed top-up, a control)
        content = bytes.fromhex(cmd["frame"])
        return AFN_FORWARD, [Unit(AFN_FORWARD, 1, 0, {
            "port": cmd.get("port", 1), "control": 0x6B, "frame_timeout": 30, "byte_timeout": 1,
            "content": content}, False)]
    if op == "forward-read":
        di = int(cmd["di"], 16)
        value = {"port": cmd.get("port", 1), "relays": 0, "meter": cmd["meter"], "di_kind": 4,
                 **{"di%d" % k: (di >> 8 * k) & 0xFF for k in range(4)}}
        return AFN_FORWARD, [Unit(AFN_FORWARD, 9, 0, value, False)]
    raise ValueError("unknown op %r" % op)


async def control_call(host, port, cmd, timeout_s=60.0, token=None):
    """Send one command (with the station's ``token``) to a master's control port and return
    its JSON reply."""
    if token is not None:
        cmd = dict(cmd, token=token)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    try:
        writer.write(json.dumps(cmd).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout_s)
        return json.loads(line)
    finally:
        writer.close()


# --- the terminal -----------------------------------------------------------------------------
class TerminalClient:
    """Keeps ``session`` connected to ``host:port``: dial when it says, feed it, write for it.
    ``before()`` runs before every call into the session (the agent sets its clocks there),
    ``after()`` after the session took bytes (the agent's loop looks for new work)."""

    def __init__(self, session, host, port, ssl_context=None, before=None, after=None,
                 dial_timeout_s=10.0, addresses=None):
        self.session = session
        self.host = host
        self.port = port
        # ``addresses()`` -> [(host, port)] asked at every dial (the master's AFN04 F3); a
        # failed dial moves on to the next one, a connection starts again from the first
        self.addresses = addresses
        self._turn = 0
        self.ssl_context = ssl_context
        self.before = before or (lambda: None)
        self.after = after or (lambda: None)
        self.dial_timeout_s = dial_timeout_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._writer = None

    def kick(self):
        """Look at the session now (new readings to upload, a deferred answer to send)."""
        self._wake.set()

    def drop(self):
        """Cut the connection (tests: a broken cable) without telling the session first."""
        if self._writer is not None:
            self._writer.transport.abort()

    def stop(self):
        self._stopping = True
        self._wake.set()

    async def _sleep_until(self, t):
        delay = max(0.0, t - time.monotonic())
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    async def run(self):
        s = self.session
        while not self._stopping:
            at = s.connect_at()
            if at is not None and at > time.monotonic():
                await self._sleep_until(at)
                continue
            if self.addresses is not None:
                targets = self.addresses() or [(self.host, self.port)]
                self.host, self.port = targets[self._turn % len(targets)]
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(
                    self.host, self.port, ssl=self.ssl_context), self.dial_timeout_s)
            except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
                self._turn += 1
                self.before()
                s.connection_failed(time.monotonic(), "%s:%d: %s" % (
                    self.host, self.port, _why(exc, "no answer in %g s" % self.dial_timeout_s)))
                continue
            self._turn = 0
            self._writer = writer
            self.before()
            s.connection_made(time.monotonic())
            reason = None
            try:
                reason = await self._connected(reader, writer)
                writer.close()                   # flush what is queued (a logout), then FIN
                await asyncio.wait_for(writer.wait_closed(), 2.0)
            except (ConnectionError, ssl.SSLError, OSError, asyncio.TimeoutError) as exc:
                reason = reason or _why(exc, "timed out")
            except Exception as exc:             # a handler's bug: drop this connection, not the uplink
                log.exception("uplink: the terminal's handler failed; the connection is dropped"
                              " and dialled again", extra={"event": "uplink_handler_error"})
                reason = "internal error: %s" % _why(exc, "")
            finally:
                self._writer = None
                writer.transport.abort()
                self.before()
                s.connection_lost(time.monotonic(), reason)

    async def _connected(self, reader, writer):
        s = self.session
        while not self._stopping and not s.wants_close:
            out = s.data_to_send()
            if out:
                writer.write(out)
                await writer.drain()
            deadline = s.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            data = await _pump(reader, self._wake, timeout)
            if data == b"":
                return "closed by the master"
            self.before()
            now = time.monotonic()
            if data:
                s.receive_data(data, now)
            s.on_timer(now)
            if data:
                # only bytes from the master make work for the agent; calling back after a
                # kick from the agent's own loop would wake that loop, which kicks us: a spin
                self.after()
        if self._stopping and s.online:
            self.before()
            s.close(time.monotonic())            # log out before hanging up
        out = s.data_to_send()
        if out:
            writer.write(out)
            await writer.drain()
        return "the agent is stopping" if self._stopping else None


def _why(exc, empty):
    """An exception as a log's reason (its type when it says nothing)."""
    return "%s: %s" % (type(exc).__name__, exc) if str(exc) else (empty or type(exc).__name__)


__all__ = ["MasterServer", "TerminalClient", "control_call", "request_units", "local_wall",
           "client_context", "server_context", "load_token", "TokenError", "OK"]
