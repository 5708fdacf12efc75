#!/usr/bin/env python3
"""A sender far ahead of its reader: the server waits before reading, the
client meanwhile writes COUNT blocks of SIZE bytes (more than the pairing
model once kept), then both check every byte arrived.

    bulk.py server PORT     (prints "listening on PORT")
    bulk.py client PORT COUNT SIZE"""

import socket
import sys
import time

if sys.argv[1] == "server":
    ls = socket.socket()
    ls.bind(("127.0.0.1", int(sys.argv[2])))
    ls.listen(1)
    print("listening on %d" % ls.getsockname()[1], flush=True)
    c, _ = ls.accept()
    time.sleep(0.5)
    total = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        total += len(d)
    c.sendall(b"%d" % total)
    c.close()
    ls.close()
else:
    port, count, size = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    s = socket.create_connection(("127.0.0.1", port))
    block = b"x" * size
    for _ in range(count):
        s.sendall(block)
    s.shutdown(socket.SHUT_WR)
    got = s.recv(64)
    s.close()
    sys.exit(0 if int(got) == count * size else 1)
