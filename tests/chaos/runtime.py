"""The runtime under test: agents as real processes, on loopback or in network namespaces, and
the levers the faults pull (signals, links, nftables loss rules). Doing only: what to do when is
decided by schedule.py and the runner.

Network namespaces (root only): one per host, its address on its loopback, a veth pair per pair
of hosts routed both ways (as tests/integration/netns_lib.sh). Packet loss is an nftables table
`chaos` in the host's namespace dropping `numgen random mod 100 < PCT` of what goes in and out
over the veths: this kernel has no netem.
"""
import json
import os
import signal
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(argv, timeout=30, check=True, input=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


class Agent:
    def __init__(self, name, addr, port, ns):
        self.name, self.addr, self.port, self.ns = name, addr, port, ns
        self.proc = None
        self.paused = False


class Runtime:
    def __init__(self, shir, workdir, names, netns, note):
        self.shir, self.workdir, self.netns, self.note = shir, workdir, netns, note
        self.tag = "ch%d" % (os.getpid() % 100000)
        self.agents = {}
        self.unexpected = []  # "exits" anomalies: agents that ended on their own or badly
        self.links = []
        self.down = set()     # links cut: frozenset({x, y})
        base = 10 + os.getpid() % 200
        for i, n in enumerate(names):
            if netns:
                self.agents[n] = Agent(n, "10.%d.0.%d" % (base, i + 1), 8060, "%s-%s" % (self.tag, n))
            else:
                self.agents[n] = Agent(n, "127.0.0.1", free_port(), None)

    def data(self, n):
        return os.path.join(self.workdir, n)

    def log(self, n):
        return os.path.join(self.workdir, n + ".log")

    # ---- network namespaces ----------------------------------------------------------------
    def setup(self):
        if not self.netns:
            return
        names = sorted(self.agents)
        for n in names:
            a = self.agents[n]
            run(["ip", "netns", "add", a.ns])
            run(["ip", "-n", a.ns, "link", "set", "lo", "up"])
            run(["ip", "-n", a.ns, "addr", "add", a.addr + "/32", "dev", "lo"])
        for i, x in enumerate(names):
            for y in names[i + 1:]:
                ax, ay = self.agents[x], self.agents[y]
                run(["ip", "link", "add", self.tag + x + y, "netns", ax.ns, "type", "veth",
                     "peer", "name", self.tag + y + x, "netns", ay.ns])
                self.links.append((x, y))
                self.mend(x, y)

    def _route(self, x, y):
        ax, ay = self.agents[x], self.agents[y]
        run(["ip", "-n", ax.ns, "route", "replace", ay.addr + "/32", "dev", self.tag + x + y,
             "src", ax.addr])

    def cut(self, x, y):
        run(["ip", "-n", self.agents[x].ns, "link", "set", self.tag + x + y, "down"])
        self.down.add(frozenset((x, y)))

    def mend(self, x, y):
        run(["ip", "-n", self.agents[x].ns, "link", "set", self.tag + x + y, "up"])
        run(["ip", "-n", self.agents[y].ns, "link", "set", self.tag + y + x, "up"])
        self._route(x, y)
        self._route(y, x)
        self.down.discard(frozenset((x, y)))

    def links_of(self, n):
        return [(x, y) if x == n else (y, x) for x, y in self.links if n in (x, y)]

    def loss(self, n, pct):
        ns = self.agents[n].ns
        rules = "table inet chaos {\n"
        for chain, hook, dev in (("in", "input", "iifname"), ("out", "output", "oifname")):
            rules += ("  chain %s { type filter hook %s priority 0; policy accept;\n"
                      "    %s \"lo\" accept\n    numgen random mod 100 < %d drop\n  }\n"
                      % (chain, hook, dev, pct))
        rules += "}\n"
        run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules)

    def unloss(self, n):
        run(["ip", "netns", "exec", self.agents[n].ns, "nft", "delete", "table", "inet", "chaos"],
            check=False)

    def teardown(self):
        for a in self.agents.values():
            if a.proc and a.proc.poll() is None:
                a.proc.kill()
                a.proc.wait()
        if self.netns:
            for a in self.agents.values():
                run(["ip", "netns", "del", a.ns], check=False)

    # ---- agents ------------------------------------------------------------------------------
    def cli(self, n, args, timeout=30, input=None):
        """(exit status, stdout, stderr); 124 when it did not finish within timeout."""
        argv = [self.shir] + args + ["--data-dir", self.data(n)]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
            return r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired:
            return 124, "", "timed out after %d s" % timeout

    def start(self, n, wait_s=60):
        a = self.agents[n]
        argv = [self.shir, "agent", "--data-dir", self.data(n), "--listen",
                "%s:%d" % (a.addr, a.port), "--node-name", n, "--log-level", "debug"]
        if a.ns:
            argv = ["ip", "netns", "exec", a.ns] + argv  # ip execs the agent: same pid
        with open(self.log(n), "a") as log:
            a.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        a.paused = False
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.cli(n, ["status"], timeout=10)[0] == 0:
                return
            if a.proc.poll() is not None:
                break
            time.sleep(0.1)  # poll interval inside a deadline
        raise RuntimeError("%s did not start (exit %s)" % (n, a.proc.poll()))

    def kill9(self, n):
        a = self.agents[n]
        a.proc.kill()
        a.proc.wait()
        a.paused = False

    def pause(self, n):
        self.agents[n].proc.send_signal(signal.SIGSTOP)
        self.agents[n].paused = True

    def resume(self, n):
        self.agents[n].proc.send_signal(signal.SIGCONT)
        self.agents[n].paused = False

    def stop(self, n, timeout=60):
        """SIGTERM; an exit status other than 0 is an anomaly."""
        a = self.agents[n]
        if a.paused:
            self.resume(n)
        a.proc.send_signal(signal.SIGTERM)
        try:
            rc = a.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            a.proc.kill()
            rc = a.proc.wait()
            self.unexpected.append("exits: %s did not stop within %d s of SIGTERM" % (n, timeout))
            return
        if rc != 0:
            self.unexpected.append("exits: %s exited %d on SIGTERM" % (n, rc))

    def reap_unexpected(self):
        """Agents that ended although the schedule did not stop them: each an anomaly, and
        started again so the run goes on. Names of those restarted."""
        out = []
        for n, a in self.agents.items():
            if a.proc and a.proc.poll() is not None:
                self.unexpected.append("exits: %s exited %d on its own" % (n, a.proc.returncode))
                self.note("agent %s exited %d on its own: restarting it" % (n, a.proc.returncode))
                self.start(n)
                out.append(n)
        return out

    # ---- forming and reading ---------------------------------------------------------------
    def form(self, name):
        names = sorted(self.agents)
        rc, out, err = self.cli(names[0], ["init", "--name", name, "--json"], timeout=60)
        if rc != 0:
            raise RuntimeError("init: " + err)
        key = json.loads(out)["key1"]
        for n in names[1:]:
            rc, out, err = self.cli(n, ["join", "--key-file", "-"], timeout=120, input=key + "\n")
            if rc != 0:
                raise RuntimeError("join %s: %s" % (n, err))

    def status(self, n, timeout=15):
        rc, out, _ = self.cli(n, ["status", "--json"], timeout=timeout)
        return json.loads(out) if rc == 0 else None

    def leader(self):
        for n in sorted(self.agents):
            a = self.agents[n]
            if a.paused or a.proc.poll() is not None:
                continue
            s = self.status(n, timeout=5)
            if s and s.get("leader") in self.agents:
                return s["leader"]
        return None
