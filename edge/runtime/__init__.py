"""Real-I/O drivers of the sans-I/O agent core (pyserial ports, later asyncio)."""
