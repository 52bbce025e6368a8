"""Faults of the carrier module itself, scheduled on the SimPy clock: a ``module_reset``
(meter_sim.faults area kind) makes the module forget its slave archive and routes at its start
and report its run mode (03F10) after booting, as a field module does after a reset; its
network is formed again at its end (at once when it has none)."""


def schedule_resets(env, module, faults):
    """Reset ``module`` (a ``CarrierModule``) at each ``module_reset`` fault's start."""
    for f in faults:
        if f.kind == "module_reset":
            forming = 0.0 if f.end is None else f.end - f.start
            env.process(_reset_at(env, module, f.start, forming))


def _reset_at(env, module, t, forming_s):
    yield env.timeout(max(0.0, t - env.now))
    module.reset(forming_s)
