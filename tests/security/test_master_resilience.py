"""What a connection may cost the master station: it must log in within the login timeout and
the pre-login byte limit, is closed when silent or over its garbage limit, and the station
holds only so many at once; garbage is counted in the station's database (it survives the
station), not only in memory. Real TCP on 127.0.0.1."""
import asyncio

from hostlink.aio import MasterServer
from hostlink.master import Limits
from hostlink.store import MasterStore

from tests.security.master_parts import Raw, login

SHORT = Limits(login_timeout_s=0.5, idle_s=0.8, prelogin_bytes=256, garbage_bytes=512)


def _run(tmp_path, body, **kw):
    async def scenario():
        server = MasterServer(tmp_path / "master.sqlite", limits=SHORT, **kw)
        _, port = await server.listen("127.0.0.1", 0)
        try:
            await body(server, port)
        finally:
            await server.close()
            server.store.close()
    asyncio.run(scenario())
    return MasterStore(tmp_path / "master.sqlite").counters()


def test_a_connection_that_never_logs_in_is_closed(tmp_path):
    async def body(server, port):
        silent = await Raw.connect(port)
        assert await silent.closed_by_peer(3.0)
    assert _run(tmp_path, body)["closed_login_timeout"] == 1


def test_a_logged_in_connection_that_goes_silent_is_closed(tmp_path):
    async def body(server, port):
        quiet = await Raw.connect(port)
        await quiet.send(login())
        assert len(await quiet.frames(0.3)) == 1 and server.online() == ["0171-02082"]
        assert await quiet.closed_by_peer(3.0)
    assert _run(tmp_path, body)["closed_idle"] == 1


def test_bytes_before_a_login_are_limited_and_the_garbage_is_counted_for_good(tmp_path):
    async def body(server, port):
        drip = await Raw.connect(port)
        for k in range(300):                     # a header promising 16 KiB, then noise
            await drip.send(bytes.fromhex("68FEFFFEFF68")[k % 6:k % 6 + 1] if k < 6 else b"\x68")
        assert await drip.closed_by_peer(3.0)
    counters = _run(tmp_path, body)
    assert counters["closed_prelogin_bytes"] == 1 and not counters.get("frame_error")


def test_garbage_after_a_login_beyond_the_limit_closes_the_connection(tmp_path):
    async def body(server, port):
        noisy = await Raw.connect(port)
        await noisy.send(login())
        await noisy.frames(0.3)
        await noisy.send(b"\x00\x11\x22\x33" * 200)
        assert await noisy.closed_by_peer(3.0)
    counters = _run(tmp_path, body)
    assert counters["closed_garbage_bytes"] == 1 and counters["garbage_bytes"] >= 512


def test_connections_over_the_cap_are_closed_at_once(tmp_path):
    async def body(server, port):
        held = [await Raw.connect(port) for _ in range(2)]
        await asyncio.sleep(0.1)
        third = await Raw.connect(port)
        assert await third.closed_by_peer(2.0)
        for h in held:
            h.close()
    assert _run(tmp_path, body, max_connections=2)["refused_connection_cap"] == 1
