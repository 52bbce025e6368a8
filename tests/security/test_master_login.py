"""The master station takes data only after a login, binds the terminal's address to its
connection, handles a second login with that address by its policy, and answers a login it
cannot take with a denial - over real TCP on 127.0.0.1, strangers as raw sockets."""
import asyncio

import pytest

from hostlink.aio import MasterServer
from protocols.gdw1376_1.units import parse_units

from tests.hostlink.helpers import concentrator, freeze_kwh
from tests.security.master_parts import Raw, client, freeze_upload, login, until


def _serve(tmp_path, **kw):
    return MasterServer(tmp_path / "master.sqlite", **kw)


def test_a_strangers_upload_before_any_login_is_not_stored(tmp_path):
    async def scenario():
        server = _serve(tmp_path)
        _, port = await server.listen("127.0.0.1", 0)
        stranger = await Raw.connect(port)
        await stranger.send(freeze_upload(9999.99))         # the real terminal's point and day
        assert await stranger.frames(1.0) == []               # not confirmed: not taken
        agent = concentrator(2082)
        agent.uplink.session.settings.reconnect_min_s = 0.2
        c = client(agent, port)
        task = asyncio.ensure_future(c.run())
        try:
            await until(lambda: server.store.counts()["units"] == 2, 20)
            [first] = server.store.data(fn=161)[:1]
            assert first["value"]["forward_active"] == freeze_kwh(2082, 0)
            assert all(9999.99 not in d["value"]["forward_active"]
                       for d in server.store.data())
        finally:
            stranger.close()
            c.stop()
            await asyncio.wait_for(task, 10)
            await server.close()
        assert server.store.counters().get("before_login", 0) >= 1
    asyncio.run(scenario())


@pytest.mark.parametrize("policy", ["replace", "refuse"])
def test_a_second_login_with_a_connected_address_follows_the_policy(tmp_path, policy):
    async def scenario():
        server = _serve(tmp_path, login_policy=policy)
        _, port = await server.listen("127.0.0.1", 0)
        first = await Raw.connect(port)
        await first.send(login())
        [ok] = await first.frames(1.0)
        assert ok.afn == 0 and parse_units(0, ok.data, False)[0].fn == 3
        second = await Raw.connect(port)
        await second.send(login())
        answer = await second.frames(1.0)
        try:
            if policy == "replace":
                assert parse_units(0, answer[0].data, False)[0].fn == 3
                assert await first.closed_by_peer(2.0)
                assert [e["event"] for e in server.store.log(event="login_replaced")] == [
                    "login_replaced"]
                assert server.stats()["login_replaced"] == 1
            else:
                assert parse_units(0, answer[0].data, False)[0].fn == 2        # denied
                assert await second.closed_by_peer(2.0)
                assert server.online() == ["0171-02082"] and not await first.closed_by_peer(0.5)
                assert server.stats()["login_refused"] == 1
        finally:
            first.close()
            second.close()
            await server.close()
    asyncio.run(scenario())


def test_a_login_naming_all_points_gets_a_denial_and_the_station_goes_on(tmp_path):
    async def scenario():
        server = _serve(tmp_path)
        _, port = await server.listen("127.0.0.1", 0)
        odd = await Raw.connect(port)
        await odd.send(login(data=bytes([0xFF, 0x00, 0x01, 0x00])))     # DA FF 00: all points
        [answer] = await odd.frames(1.0)
        assert parse_units(0, answer.data, False)[0].fn == 2
        await odd.send(login())                                          # a proper one still works
        [ok] = await odd.frames(1.0)
        assert parse_units(0, ok.data, False)[0].fn == 3 and server.online() == ["0171-02082"]
        odd.close()
        await server.close()
        assert server.store.counters()["login_malformed"] == 1
    asyncio.run(scenario())
