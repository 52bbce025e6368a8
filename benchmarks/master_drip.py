"""The drip attack on a master station: ``--connections`` TCP connections each send a 1376.1
header promising a 16 KiB frame, then drip 68H bytes one at a time (every byte a new candidate
to hunt), reconnecting whenever the station cuts them. Measured: the station's CPU seconds
(its process, from /proc) per minute of attack, and the latency of a real login before and
during the attack. The last line is JSON.

    python benchmarks/master_drip.py [--duration 60] [--connections 8] [--repo PATH]

``--repo`` runs the station from another checkout (e.g. an export of main) for a before/after.
Not part of the tests: a benchmark, on whatever else the machine is doing.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

HEADER = bytes.fromhex("68FEFFFEFF68")        # L = 16383 user bytes, protocol id 2
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def login_frame(terminal):
    """AFN02 F1 login of terminal 0171-``terminal`` (layout of the PROTOCOLS.md sample ✔)."""
    user = bytes([0xC9, 0x71, 0x01, terminal & 0xFF, terminal >> 8, 0x00, 0x02, 0x70,
                  0x00, 0x00, 0x01, 0x00])
    n = (len(user) << 2) | 2
    return bytes([0x68, n & 0xFF, n >> 8, n & 0xFF, n >> 8, 0x68]) + user + bytes(
        [sum(user) & 0xFF, 0x16])


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def login_latency(port, terminal):
    start = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(login_frame(terminal))
        await writer.drain()
        await asyncio.wait_for(reader.read(64), 30)
        return time.monotonic() - start
    finally:
        writer.close()


async def drip(port, interval_s, stop, stats):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        stats["connections"] += 1
        try:
            for b in HEADER:
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(interval_s)
            while not stop.is_set() and not reader.at_eof():
                writer.write(b"\x68")
                await writer.drain()
                stats["bytes"] += 1
                await asyncio.sleep(interval_s)
        except (ConnectionError, OSError):
            stats["cut"] += 1
        finally:
            writer.close()


async def attack(port, pid, args):
    idle = [await login_latency(port, 1000 + k) for k in range(3)]
    stats = {"connections": 0, "bytes": 0, "cut": 0}
    stop = asyncio.Event()
    cpu0, t0 = cpu_s(pid), time.monotonic()
    drips = [asyncio.ensure_future(drip(port, args.interval, stop, stats))
             for _ in range(args.connections)]
    under = []
    k = 0
    while time.monotonic() - t0 < args.duration:
        await asyncio.sleep(2.0)
        under.append(await login_latency(port, 2000 + k))
        k += 1
    cpu1, t1 = cpu_s(pid), time.monotonic()
    stop.set()
    await asyncio.wait(drips, timeout=10)
    minutes = (t1 - t0) / 60.0
    return {"connections": args.connections, "interval_s": args.interval,
            "duration_s": round(t1 - t0, 1), "master_cpu_s": round(cpu1 - cpu0, 2),
            "master_cpu_s_per_min": round((cpu1 - cpu0) / minutes, 2),
            "login_latency_idle_s": round(max(idle), 3),
            "login_latency_attack_s": {"mean": round(sum(under) / len(under), 3),
                                       "max": round(max(under), 3)},
            "attack_connections": stats["connections"], "dripped_bytes": stats["bytes"],
            "repo": args.repo}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--interval", type=float, default=0.01, help="seconds between dripped bytes")
    p.add_argument("--repo", default=HERE, help="the checkout whose station runs")
    args = p.parse_args()
    env = dict(os.environ, PYTHONPATH=args.repo)
    with tempfile.TemporaryDirectory() as tmp:
        master = subprocess.Popen([sys.executable, "-m", "hil.cli", "master", "--listen",
                                   "127.0.0.1:0", "--control", "127.0.0.1:0", "--db",
                                   os.path.join(tmp, "m.sqlite")], cwd=args.repo, env=env,
                                  stdout=subprocess.PIPE, text=True)
        try:
            info = json.loads(master.stdout.readline())
            port = int(info["master"].rsplit(":", 1)[1])
            result = asyncio.run(attack(port, master.pid, args))
        finally:
            master.terminate()
            master.wait(timeout=10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
