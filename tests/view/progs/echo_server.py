#!/usr/bin/env python3
"""An echo server of Python's socketserver, as real programs write one:
forking, threaded, or forking on a unix socket; serves N connections and
exits. Prints "listening on PORT" (or the socket's path) when ready.

    echo_server.py fork|thread|unixfork ADDRESS N [peek]

ADDRESS: a port (0: any) or, for unixfork, a path. With peek, the handler
looks at the request with MSG_PEEK before reading it."""

import os
import socket
import socketserver
import sys

kind, where, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
peek = len(sys.argv) > 4 and sys.argv[4] == "peek"


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        if peek:
            head = s.recv(4, socket.MSG_PEEK)
            if not head:
                return
        while True:
            data = s.recv(65536)
            if not data:
                break
            s.sendall(b"echo: " + data)


if kind == "fork":
    srv = socketserver.ForkingTCPServer(("127.0.0.1", int(where)), Echo)
elif kind == "thread":
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", int(where)), Echo)
    srv.daemon_threads = False
    srv.block_on_close = True
else:
    if os.path.exists(where):
        os.unlink(where)
    srv = type("ForkingUnix", (socketserver.ForkingMixIn, socketserver.UnixStreamServer), {})(
        where, Echo)
name = srv.server_address
print("listening on %s" % (name[1] if isinstance(name, tuple) else name), flush=True)
for _ in range(count):
    srv.handle_request()
srv.server_close()
if kind == "unixfork":
    os.unlink(where)
