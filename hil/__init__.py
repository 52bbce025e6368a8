"""Harness on top of everything: the ``gridedge`` CLI, later scenarios, reports and rigs."""
