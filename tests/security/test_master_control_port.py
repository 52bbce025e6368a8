"""The master's control port carries trips, so it takes nothing without the station's secret: a
second OS process without the token is refused and nothing reaches the concentrator; the token
file is created 0600 and one others may read is refused; bad input gets an error reply and the
port goes on serving. Real processes and real TCP on 127.0.0.1."""
import asyncio
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from hostlink.aio import MasterServer, control_call
from protocols.civil import from_civil
from edge.prepaid.journal import Journal

from tests.hostlink.test_uplink import PASSWORD, WEDNESDAY, agent_at
from tests.security.master_parts import client, until

EPOCH = "2026-11-25 12:00"          # WEDNESDAY: no friendly window, trips may go out
ATTACKER = """
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(json.dumps(json.loads(sys.argv[2])).encode() + b"\\n")
print(s.makefile().readline().strip())
"""


def _master(tmp_path, env, *extra):
    cli = [sys.executable, "-m", "hil.cli"]
    return subprocess.Popen(cli + ["master", "--listen", "127.0.0.1:0", "--control",
                                   "127.0.0.1:0", "--db", str(tmp_path / "m.sqlite"),
                                   "--epoch", EPOCH] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.timeout(60)
def test_another_process_without_the_token_cannot_trip_through_the_master(tmp_path,
                                                                          env_with_path):
    master = _master(tmp_path, env_with_path)
    try:
        info = json.loads(master.stdout.readline())
        port = int(info["master"].rsplit(":", 1)[1])
        cport = int(info["control"].rsplit(":", 1)[1])
        agent = agent_at(WEDNESDAY, prepaid=True)
        agent.uplink.session.settings.reconnect_min_s = 0.2
        start = time.monotonic()
        trip = {"op": "control", "terminal": "0171-02082", "action": "trip", "point": 1,
                "password": PASSWORD.hex(), "timeout_s": 10}

        async def scenario():
            c = client(agent, port, wall=lambda: WEDNESDAY + time.monotonic() - start)
            task = asyncio.ensure_future(c.run())
            try:
                await until(lambda: agent.uplink.session.online, 20)
                asked = agent.uplink.session.counters.get("answers", 0)
                out = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", ATTACKER, str(cport), json.dumps(trip),
                    stdout=subprocess.PIPE)
                line, _ = await asyncio.wait_for(out.communicate(), 30)
                assert json.loads(line) == {"error": "unauthorized"}
                await asyncio.sleep(0.5)
                assert agent.uplink.session.counters.get("answers", 0) == asked
                assert Journal(agent.store).all() == []               # nothing reached it
                # the station's own operator, with the token, is carried out
                from hostlink.aio import load_token
                token = load_token(info["token_file"])
                reply = await control_call("127.0.0.1", cport, trip, 20, token)
                assert reply["outcome"] == "ok", reply
                assert [c.action for c in Journal(agent.store).all()] == ["trip"]
            finally:
                c.stop()
                await asyncio.wait_for(task, 10)
        asyncio.run(scenario())
    finally:
        master.terminate()
        master.wait(timeout=10)
    assert stat.S_IMODE(os.stat(info["token_file"]).st_mode) == 0o600


def test_a_token_file_others_may_read_is_refused(tmp_path, env_with_path):
    token = tmp_path / "m.sqlite.token"
    token.write_text("f" * 64 + "\n")
    token.chmod(0o644)
    master = _master(tmp_path, env_with_path, "--duration", "5")
    _, err = master.communicate(timeout=30)
    assert master.returncode != 0 and "others may read it" in err


BAD_LINES = [
    (b"not json\n", "not JSON"),
    (b"[1, 2]\n", "one JSON object"),
    (b'{"op": "terminals"}\n', "unauthorized"),
    (b"{" + b" " * 70000 + b"}\n", "at most 65536 bytes"),
]


@pytest.mark.parametrize("line,reason", BAD_LINES, ids=["text", "array", "no token", "long"])
def test_bad_control_input_gets_an_error_reply(tmp_path, line, reason):
    async def scenario():
        server = MasterServer(tmp_path / "m.sqlite")
        _, cport = await server.listen_control("127.0.0.1", 0, "t" * 32)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", cport)
            writer.write(line)
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), 10))
            assert reason in reply["error"]
            writer.close()
            reply = await control_call("127.0.0.1", cport, {"op": "terminals"}, 10, "t" * 32)
            assert reply["online"] == []                   # the port still serves
        finally:
            await server.close()
    asyncio.run(scenario())


@pytest.mark.parametrize("cmd", [
    {"op": "read-current", "terminal": "0171-02082", "points": [1] * 5000},   # > one frame
    {"op": "control", "terminal": "0171-02082", "action": "trip"},     # no password
    {"op": "read-day", "terminal": "0171-02082", "date": "2026-11"},
], ids=["too many", "no password", "bad date"])
def test_requests_that_cannot_be_framed_get_an_error_reply(tmp_path, cmd):
    async def scenario():
        server = MasterServer(tmp_path / "m.sqlite")
        _, port = await server.listen("127.0.0.1", 0)
        _, cport = await server.listen_control("127.0.0.1", 0, "t" * 32)
        agent = agent_at(from_civil(2026, 11, 25, 12, 0))
        c = client(agent, port)
        agent.uplink.session.settings.reconnect_min_s = 0.2
        task = asyncio.ensure_future(c.run())
        try:
            await until(lambda: server.online() == ["0171-02082"], 20)
            reply = await control_call("127.0.0.1", cport, cmd, 20, "t" * 32)
            assert "error" in reply and "Traceback" not in reply["error"]
        finally:
            c.stop()
            await asyncio.wait_for(task, 10)
            await server.close()
    asyncio.run(scenario())


def test_a_request_naming_all_points_is_answered_for_every_point_of_the_archive(tmp_path):
    """DA FF 00 ("all measurement points") once had no frame; now it is framed, and the
    terminal answers one unit per archived point rather than a denial or a traceback."""
    async def scenario():
        server = MasterServer(tmp_path / "m.sqlite")
        _, port = await server.listen("127.0.0.1", 0)
        _, cport = await server.listen_control("127.0.0.1", 0, "t" * 32)
        agent = agent_at(from_civil(2026, 11, 25, 12, 0))
        c = client(agent, port)
        agent.uplink.session.settings.reconnect_min_s = 0.2
        task = asyncio.ensure_future(c.run())
        try:
            await until(lambda: server.online() == ["0171-02082"], 20)
            cmd = {"op": "read-current", "terminal": "0171-02082", "points": ["all"]}
            reply = await control_call("127.0.0.1", cport, cmd, 20, "t" * 32)
            assert "error" not in reply, reply
            got = sorted(u["pn"] for u in reply["units"] if u["fn"] == 129)
            assert got == sorted(agent.uplink.points()) and len(got) >= 2
        finally:
            c.stop()
            await asyncio.wait_for(task, 10)
            await server.close()
    asyncio.run(scenario())
