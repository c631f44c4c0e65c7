#!/usr/bin/env python3
"""Hold one CLI request on its way to an agent until told to deliver it, then relay the answer.

Usage: admin_hold.py LISTEN.sock AGENT.sock HELD

Listens on LISTEN.sock (a CLI given --data-dir of its directory connects there, as to an agent's
admin socket), accepts one client and reads its request: one frame, a 4-byte big-endian length and
that many bytes. Then it connects to AGENT.sock, writes "held" to HELD and waits for SIGUSR1. On
it, it sends the frame to the agent and relays both ways until either side closes. Exits 0 once
relayed; 1 on any error (reported on stderr).

Why: cluster_lost_outcome must land a command on the leader inside the ~500-1000 ms between
stopping both followers and the leader stepping down. A CLI started after the stop spends that
window starting up (its exec and dynamic loading take over 500 ms on a loaded 2-core machine);
held here, the same CLI has started, encoded and sent its request before the stop, and what is
left inside the window is this process writing bytes it already has.
"""
import os
import selectors
import signal
import socket
import struct
import sys

listen_path, agent_path, held_path = sys.argv[1:4]
# Blocked from the start, so a SIGUSR1 sent before sigwait is kept pending, not fatal.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            sys.exit("admin_hold: the client closed before its request was complete")
        buf += chunk
    return buf


srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(listen_path)
srv.listen(1)
client, _ = srv.accept()
head = read_exact(client, 4)
frame = head + read_exact(client, struct.unpack(">I", head)[0])
agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
agent.connect(agent_path)
with open(held_path + ".tmp", "w") as f:
    f.write("held\n")
os.rename(held_path + ".tmp", held_path)

signal.sigwait({signal.SIGUSR1})
agent.sendall(frame)

sel = selectors.DefaultSelector()
sel.register(client, selectors.EVENT_READ, agent)
sel.register(agent, selectors.EVENT_READ, client)
while True:
    for key, _ in sel.select():
        data = key.fileobj.recv(65536)
        if not data:
            sys.exit(0)
        key.data.sendall(data)
