"""Drivers that put firmware meters behind real ports (pty, serial, TCP)."""
