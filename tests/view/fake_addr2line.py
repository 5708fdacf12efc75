#!/usr/bin/env python3
"""A stand-in for binutils' addr2line, for test_stacks.py: answers like
`addr2line -a -f -C -i -e MODULE` reading addresses on standard input, with
made-up but predictable names and lines, and logs each run.

    fake function of address A in MODULE:  fake_A  (A as given, "0x..." cut)
    fake location:                         /fake/src/BASE.c:N, N = A % 1000 + 1
    when A % 3 == 0, an inlined level:     outer_A at /fake/src/outer.c:7

FAKE_A2L_LOG: a file to append one JSON line per run to: {"argv", "addrs"}.
FAKE_A2L_MODE: "" (answer), "exit" (exit at once, reading nothing),
"garbage" (answer nonsense), "partial" (answer the first address, then
exit), "unknown" (answer "??" and "??:0" for everything).
"""

import json
import os
import sys


def main():
    argv = sys.argv[1:]
    module = argv[argv.index("-e") + 1] if "-e" in argv else "a.out"
    mode = os.environ.get("FAKE_A2L_MODE", "")
    if mode == "exit":
        return 3
    addrs = []
    out = sys.stdout
    base = os.path.basename(module)
    for line in sys.stdin:
        a = line.strip()
        if not a:
            continue
        addrs.append(a)
        v = int(a, 16)
        if mode == "garbage":
            out.write("%%garbage\n\n0xzz\n::\n")
            continue
        if mode == "partial" and len(addrs) > 1:
            out.flush()
            break
        if "-a" in argv:
            out.write("0x%016x\n" % v)
        if mode == "unknown":
            out.write("??\n??:0\n")
            continue
        out.write("fake_%x\n/fake/src/%s.c:%d\n" % (v, base, v % 1000 + 1))
        if v % 3 == 0:
            out.write("outer_%x\n/fake/src/outer.c:7\n" % v)
        out.flush()
    log = os.environ.get("FAKE_A2L_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"argv": argv, "addrs": addrs}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
