#!/usr/bin/env python3
"""`socktrace stats` over a trace of millions of events stays in bounded
memory: the peak resident size of the tool must stay under 100 MiB
whatever the number of events (it grows with connections only). The
trace is generated here (gen_big_trace.py), in a temporary directory.

Environment: SOCKTRACE_TOOL; SOCKTRACE_BIG_EVENTS (default 2000000)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
EVENTS = int(os.environ.get("SOCKTRACE_BIG_EVENTS", "2000000"))
CONNS = 1000
LIMIT_KIB = 100 * 1024


def main():
    if not TOOL:
        sys.exit("set SOCKTRACE_TOOL")
    tmp = tempfile.mkdtemp(prefix="socktrace-big-")
    try:
        t0 = time.monotonic()
        gen = subprocess.run([sys.executable, os.path.join(HERE, "gen_big_trace.py"), tmp,
                              str(EVENTS), str(CONNS)], check=True, capture_output=True, text=True)
        written, conns = (int(x) for x in gen.stdout.split())
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        t1 = time.monotonic()
        out = tempfile.TemporaryFile()
        p = subprocess.Popen([TOOL, "stats", tmp], stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        t2 = time.monotonic()
        err = p.stderr.read().decode(errors="replace")
        out.seek(0)
        text = out.read().decode()
        rc = os.waitstatus_to_exitcode(status)
        print("%d events (%d MiB) generated in %.1f s; stats took %.1f s, peak RSS %d KiB"
              % (written, size >> 20, t1 - t0, t2 - t1, usage.ru_maxrss))
        assert rc == 0, "stats exited %d: %s" % (rc, err)
        assert err == "", "stats complained: " + err
        assert text.startswith("%d calls in 2 processes" % written), text[:200]
        assert "%d connections: %d client closed first" % (conns, conns) in text, text[-300:]
        assert usage.ru_maxrss < LIMIT_KIB, "peak RSS %d KiB over %d KiB" % (usage.ru_maxrss,
                                                                             LIMIT_KIB)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
