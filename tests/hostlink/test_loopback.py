"""Real sockets on 127.0.0.1: one master station, 200 concentrators logged in at once, each
answering a class-2 request from its own store; uploads confirmed and kept once."""
import asyncio
import shutil
import subprocess
import time

import pytest

from hostlink.aio import (MasterServer, TerminalClient, client_context, local_wall,
                         server_context)
from hostlink.master import OK, terminal_name
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_CLASS2

from tests.hostlink.helpers import concentrator, freeze_kwh

COUNT = 200


def _client(agent, port):
    def clocks():
        agent.set_clock(time.monotonic(), local_wall())
    return TerminalClient(agent.uplink.session, "127.0.0.1", port, before=clocks)


async def _until(predicate, timeout):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


@pytest.mark.timeout(120)
def test_200_concentrators_log_in_upload_and_answer_class2(tmp_path):
    async def scenario():
        server = MasterServer(tmp_path / "master.sqlite")
        _, port = await server.listen("127.0.0.1", 0)
        agents = [concentrator(t) for t in range(1, COUNT + 1)]
        for a in agents:                       # dial at once: no back-off before the first try
            a.uplink.session.settings.reconnect_min_s = 0.5
        clients = [_client(a, port) for a in agents]
        tasks = [asyncio.ensure_future(c.run()) for c in clients]
        try:
            await _until(lambda: len(server.online()) == COUNT
                         and server.store.counts()["units"] == 2 * COUNT, 60)
            names = [terminal_name("0171", t) for t in range(1, COUNT + 1)]
            requests = [server.request(n, AFN_CLASS2, [
                Unit(AFN_CLASS2, 161, pn, {"td": (21, 11, 26)}, False) for pn in (1, 2)])
                for n in names]
            answers = await asyncio.gather(*requests)
            for t, r in enumerate(answers, 1):
                assert r.outcome == OK
                assert [u.pn for u in r.answer] == [1, 2]
                for k, u in enumerate(r.answer):
                    assert u.value["td"] == (21, 11, 26)
                    assert u.value["forward_active"] == freeze_kwh(t, k)
            terminals = server.store.terminals()
            assert len(terminals) == COUNT and all(x["logins"] == 1 for x in terminals)
            assert server.store.counts() == {"units": 2 * COUNT, "deliveries": 2 * COUNT}
            assert all(a.store.unsent_count() == 0 for a in agents)
        finally:
            for c in clients:
                c.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 20)
            await _until(lambda: not server.online(), 10)
            await server.close()
        assert len(server.store.log(event="logout")) == COUNT     # each logged out on the way down
        assert not any(t["online"] for t in server.store.terminals())
    asyncio.run(scenario())


def _self_signed(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("no openssl binary to make a test certificate")
    cert, key = tmp_path / "master.pem", tmp_path / "master.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=master", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.timeout(60)
def test_tls_uplink_logs_in_and_a_plain_client_does_not(tmp_path):
    cert, key = _self_signed(tmp_path)

    async def scenario():
        server = MasterServer(tmp_path / "master.sqlite")
        _, port = await server.listen("127.0.0.1", 0, server_context(cert, key))
        secure, plain = concentrator(1), concentrator(2)
        for a in (secure, plain):
            a.uplink.session.settings.reconnect_min_s = 0.2
        clients = [_client(secure, port), _client(plain, port)]
        clients[0].ssl_context = client_context(cafile=cert)
        tasks = [asyncio.ensure_future(c.run()) for c in clients]
        try:
            await _until(lambda: server.store.counts()["units"] == 2, 20)
            r = await server.request(terminal_name("0171", 1), AFN_CLASS2, [
                Unit(AFN_CLASS2, 161, 1, {"td": (21, 11, 26)}, False)])
            assert r.outcome == OK and r.answer[0].value["forward_active"] == freeze_kwh(1, 0)
            await asyncio.sleep(1.0)
            assert server.online() == [terminal_name("0171", 1)]
            assert plain.uplink.session.counters.get("login_confirmed", 0) == 0
        finally:
            for c in clients:
                c.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 20)
            await server.close()
    asyncio.run(scenario())
