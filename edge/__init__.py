"""The concentrator agent. Its core is sans-I/O (no simpy, serial, socket, asyncio, time, random);
``edge.runtime`` holds the real-I/O drivers."""
