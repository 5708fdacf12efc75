#!/usr/bin/env python3
"""Writes a large synthetic socktrace trace: a server and a client process
exchanging EVENTS calls over CONNS TCP connections, as two trace files in
DIR, each already in time order. Used by test_stats_big.py.

Usage: gen_big_trace.py DIR EVENTS [CONNS]
"""

import os
import sys

HEADER = ('{"rec":"header","format":"socktrace","version":"1.0","tool":"socktrace 0.1.0",'
          '"pid":%d,"ppid":1,"uid":0,"prog":"%s","exe":"/bin/%s","argv":["%s"],"host":"gen",'
          '"clock":{"mono":1000,"real":1700000000000001000},"start":1000,"payload":0}\n')
CALL = ('{"rec":"call","ts":%d,"dur":%d,"pid":%d,"tid":%d,"fn":"%s","fd":%d,"ret":%d%s,'
        '"local":"%s","peer":"%s"}\n')


def main():
    out, events = sys.argv[1], int(sys.argv[2])
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    os.makedirs(out, exist_ok=True)
    srv = open(os.path.join(out, "server.100.jsonl"), "w", buffering=1 << 20)
    cli = open(os.path.join(out, "client.200.jsonl"), "w", buffering=1 << 20)
    srv.write(HEADER % (100, "server", "server", "server"))
    cli.write(HEADER % (200, "client", "client", "client"))
    srv.write(CALL % (2000, 500, 100, 100, "listen", 3, 0, ',"backlog":128',
                      "127.0.0.1:7000", "unspec"))
    per_conn = max(4, events // conns)
    ts = 10000
    written = 1
    c = 0
    while written < events:
        port = 20000 + c % 40000
        cl, sv = "127.0.0.1:%d" % port, "127.0.0.1:7000"
        ts += 1000
        cli.write(CALL % (ts, 900 + c % 700, 200, 200, "connect", 5, 0, ',"addr":"%s"' % sv, cl, sv))
        srv.write(CALL % (ts + 50, 1000 + c % 500, 100, 100, "accept4", 3, 4, "", sv, cl))
        written += 2
        n = 0
        while n < per_conn - 4 and written < events - 2:
            ts += 200
            size = 100 + (n * 37) % 1400
            cli.write(CALL % (ts, 300 + (n * 13) % 5000, 200, 200, "send", 5, size,
                              ',"len":%d,"bytes":%d' % (size, size), cl, sv))
            ts += 200
            srv.write(CALL % (ts, 200 + (n * 7) % 90000, 100, 100, "recv", 4, size,
                              ',"len":65536,"bytes":%d' % size, sv, cl))
            written += 2
            n += 2
        ts += 500
        cli.write(CALL % (ts, 800, 200, 200, "close", 5, 0, "", cl, sv))
        srv.write(CALL % (ts + 100, 400, 100, 100, "recv", 4, 0, ',"len":65536,"bytes":0', sv, cl))
        srv.write(CALL % (ts + 200, 700, 100, 100, "close", 4, 0, "", sv, cl))
        written += 3
        c += 1
    srv.close()
    cli.close()
    print(written, c)


if __name__ == "__main__":
    main()
