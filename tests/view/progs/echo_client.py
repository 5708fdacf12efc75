#!/usr/bin/env python3
"""Clients of echo_server.py, several at once, each in its own process:

    echo_client.py ADDRESS N MESSAGE [retry]

ADDRESS is 127.0.0.1:PORT or a unix socket's path. Each client sends
MESSAGE, shuts down its sending side, reads the answer to the end and
closes. With retry, a client has a timeout (its connect is non-blocking,
as Python does it) and tries again after a refusal, up to 5 times."""

import os
import socket
import sys
import time

where, n, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
retry = len(sys.argv) > 4 and sys.argv[4] == "retry"


def one(i):
    for attempt in range(5 if retry else 1):
        if ":" in where:
            host, port = where.rsplit(":", 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            addr = (host, int(port))
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = where
        if retry:
            s.settimeout(5)
        try:
            s.connect(addr)
        except ConnectionRefusedError:
            s.close()
            time.sleep(0.01)
            continue
        s.sendall(message + b" %d" % i)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        s.close()
        return 0 if got.startswith(b"echo: ") else 1
    return 1


pids = []
for i in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(one(i))
    pids.append(pid)
bad = sum(1 for p in pids if os.waitpid(p, 0)[1] != 0)
sys.exit(1 if bad else 0)
