"""The agent process in real time against a served bus: start `gridedge meters serve` (or `sim
module`) on a pty, write the agent.toml for it, run the agent for a while, open its store after."""
import contextlib
import json
import subprocess
import sys

from edge.store import Store

CLI = [sys.executable, "-m", "hil.cli"]


@contextlib.contextmanager
def served(env, *args, hello=json.loads):
    """A serving process (`gridedge ARGS`); yields ``hello`` of its first line (by default the
    JSON hello of `meters serve`), stops it after."""
    server = subprocess.Popen(CLI + list(args), stdout=subprocess.PIPE, text=True, env=env)
    try:
        yield hello(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()


def agent_toml(path, url, addrs, tasks, port_extra="", meter_extra=""):
    """agent.toml at ``path``: one port ``p1`` at ``url`` and the meters ``addrs`` on it."""
    meters = "".join('[[meter]]\naddr = "%s"\nport = "p1"\n%s' % (a, meter_extra) for a in addrs)
    path.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\n%s\n[[port]]\nname = "p1"\n'
                    'url = "%s"\n%s%s' % ("\n".join("%s = %s" % kv for kv in tasks.items()), url,
                                          port_extra, meters))
    return path


def run_agent_process(cfg, start, duration_s, env):
    """Run the agent on ``cfg`` from the wall instant ``start`` for ``duration_s``; its stdout."""
    out = subprocess.run(CLI + ["agent", "--config", str(cfg), "--epoch", start,
                                "--duration", str(duration_s)],
                         capture_output=True, text=True, env=env, timeout=duration_s + 30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def stored(path, pick):
    """``pick(store)`` on the store at ``path``, closed after."""
    store = Store(path)
    try:
        return pick(store)
    finally:
        store.close()
