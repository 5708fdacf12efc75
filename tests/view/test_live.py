#!/usr/bin/env python3
"""`socktrace view` on a trace recorded just now: the TCP and UDP samples
run under `socktrace run`, and the jsonl output must pair the client's
connect with the server's accept and each send with the recv that read
it. Guards the viewer against changes in what the shim writes, which the
checked-in fixtures cannot see."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
SAMPLES = os.environ.get("SOCKTRACE_SAMPLES", "")


def start(out, prog):
    log = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen([TOOL, "run", "-q", "-o", out, "-p", "32", "--", prog, "0", "1"],
                         stdout=log, stderr=subprocess.DEVNULL)
    for _ in range(200):
        log.seek(0)
        m = re.search(r"^listening on (\d+)$", log.read(), re.M)
        if m:
            return p, m.group(1)
        time.sleep(0.05)
    p.kill()
    raise AssertionError(prog + " did not start")


def pairs(recs, fn_a, fn_b):
    by_seq = {r["seq"]: r for r in recs}
    for r in recs:
        if r.get("fn", "").startswith(fn_b):
            for s in r.get("pair", []):
                if by_seq[s].get("fn", "").startswith(fn_a):
                    return True
        if r.get("fn", "").startswith(fn_a):
            for s in r.get("pair", []):
                if by_seq[s].get("fn", "").startswith(fn_b):
                    return True
    return False


def main():
    if not TOOL or not SAMPLES:
        sys.exit("set SOCKTRACE_TOOL and SOCKTRACE_SAMPLES")
    tmp = tempfile.mkdtemp(prefix="socktrace-live-")
    try:
        for proto in ("tcp", "udp"):
            out = os.path.join(tmp, proto)
            srv, port = start(out, os.path.join(SAMPLES, proto + "_server"))
            subprocess.run([TOOL, "run", "-q", "-o", out, "-p", "32", "--",
                            os.path.join(SAMPLES, proto + "_client"), "127.0.0.1", port, "live"],
                           check=True, capture_output=True, timeout=30)
            assert srv.wait(timeout=30) == 0
            p = subprocess.run([TOOL, "view", "-f", "jsonl", out], capture_output=True, text=True,
                               timeout=30)
            assert p.returncode == 0 and p.stderr == "", p.stderr
            recs = [json.loads(line) for line in p.stdout.splitlines()]
            conns = {r["conn"] for r in recs if "conn" in r}
            assert len(conns) == 1, "%s: connections %s" % (proto, conns)
            if proto == "tcp":
                assert pairs(recs, "connect", "accept"), "connect and accept not paired"
                assert pairs(recs, "close", "recv"), "close and EOF not paired"
            assert pairs(recs, "send", "recv"), proto + ": no send paired with a recv"
            for fmt in ("text", "html", "mermaid", "perfetto"):
                p = subprocess.run([TOOL, "view", "-f", fmt, out], capture_output=True,
                                   timeout=30)
                assert p.returncode == 0 and p.stdout and not p.stderr, fmt
            print(proto, "ok:", len(recs), "events")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
