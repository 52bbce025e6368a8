"""The sim runtime: the unmodified agent core driven on a SimPy clock against simulated media.

Each agent port is wired to a simulated one: an RS-485 port writes into ``Rs485Bus.transact``
and gets the reply back as it arrives on the line; a carrier port is a UART (``module_baud``, 9600 by
default) to the emulated 1376.2 module in front of the carrier network. The loop is the aioquic shell: flush what
the agent wants to send, sleep until its next deadline or until bytes arrive, call it again.
In simulation the monotonic and the wall clock are both ``env.now`` (local civil seconds).
"""
from plc_channel.module_1376_2 import CarrierModule
from plc_channel.uart import DEFAULT_BAUD, UartLink
from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC


class Rs485Port:
    """An agent port on a simulated RS-485 bus."""

    def __init__(self, env, network, deliver):
        self.env = env
        self.network = network
        self.deliver = deliver

    def write(self, data, baud=None):
        self.env.process(self.network.transact(None, data, on_bytes=self.deliver, baud=baud))


class ModulePort:
    """An agent port on the UART of an emulated carrier module."""

    def __init__(self, env, network, deliver, medium, baud=DEFAULT_BAUD):
        link = UartLink(env, baud)
        comm = COMM_HPLC if medium == "hplc" else COMM_NBPLC
        self.module = CarrierModule(env, network, link.b.send, comm=comm)
        link.b.on_bytes = self.module.on_bytes
        link.a.on_bytes = deliver
        self.send = link.a.send

    def write(self, data, baud=None):
        self.send(data)


class SimRuntime:
    """Runs ``agent`` on ``env``; ``networks`` maps each agent port name to its simulated medium;
    ``module_baud``: the rate of the UARTs to carrier modules."""

    def __init__(self, env, agent, networks, module_baud=DEFAULT_BAUD):
        self.env = env
        self.agent = agent
        self.ports = {}
        for name, network in networks.items():
            medium = agent.buses[name].port.medium

            def deliver(data, name=name):
                self._on_bytes(name, data)
            if medium == "rs485":
                self.ports[name] = Rs485Port(env, network, deliver)
            else:
                self.ports[name] = ModulePort(env, network, deliver, medium, module_baud)
        self._wake = env.event()
        self.stopped = False
        self.after_step = []              # callables run after each agent step (the uplink)
        self.process = env.process(self._loop())

    def _flush(self):
        now = self.env.now
        for name, port in self.ports.items():
            while True:
                out = self.agent.data_to_send(name, now)
                if not out:
                    break
                port.write(out, self.agent.line_baud(name))

    def call(self, fn, *args, **kw):
        """Call into the agent from outside its loop (a payment, a master command, an archive
        edit) at the current virtual time, then let the loop send what it wants."""
        self.agent.set_clock(self.env.now, self.env.now)
        out = fn(*args, **kw)
        self.kick()
        return out

    def kick(self):
        """Let the loop run now: call after changing the agent from outside (archive edits,
        on-demand reads), so what it wants to send goes out."""
        if not self._wake.triggered:
            self._wake.succeed()

    def stop(self):
        """The concentrator goes down (a crash or reboot in a scenario): nothing more reaches
        or leaves this agent."""
        self.stopped = True
        self.kick()

    def _on_bytes(self, name, data):
        if self.stopped:
            return
        self.agent.receive_data(name, data, self.env.now, self.env.now)
        self._flush()
        self.kick()
        for fn in self.after_step:
            fn()

    def _loop(self):
        env = self.env
        self.agent.on_timer(env.now, env.now)
        while not self.stopped:
            self._flush()
            t = self.agent.next_deadline()
            if self._wake.triggered:
                self._wake = env.event()
            if t is None:
                yield self._wake
            else:
                yield self._wake | env.timeout(max(0.0, t - env.now))
            if not self.stopped:
                self.agent.on_timer(env.now, env.now)
                for fn in self.after_step:
                    fn()
