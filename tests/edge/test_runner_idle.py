"""The agent's real loop with its uplink online and nothing to do sleeps: it wakes for
deadlines and bytes, not in a ping-pong between the loop and the uplink client (a
concentrator board has one slow core to share)."""
import asyncio
import time

import pytest

from edge.runtime.aio import AgentRunner
from hostlink.aio import MasterServer, local_wall

from tests.hostlink.helpers import concentrator


@pytest.mark.timeout(60)
def test_an_idle_online_agent_sleeps_between_deadlines():
    async def scenario():
        server = MasterServer(":memory:")
        _, port = await server.listen("127.0.0.1", 0)
        agent = concentrator(3, meters=0)
        agent.uplink.session.settings.reconnect_min_s = 0.5
        agent.uplink.settings.master = "127.0.0.1:%d" % port
        turns = []
        on_timer = agent.on_timer
        agent.on_timer = lambda now, wall: (turns.append(now), on_timer(now, wall))[1]
        runner = AgentRunner.open(agent, local_wall)
        task = asyncio.ensure_future(runner.run())
        try:
            end = time.monotonic() + 20
            while not server.online():
                assert time.monotonic() < end, "the agent did not log in"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)                # the login's own traffic settles
            before = len(turns)
            await asyncio.sleep(2.0)
            idle_turns = len(turns) - before
        finally:
            runner.stop()
            await asyncio.wait_for(task, 10)
            await server.close()
        # a spinning loop turns tens of thousands of times in 2 s; a sleeping one a few
        assert idle_turns < 50, idle_turns
    asyncio.run(scenario())
