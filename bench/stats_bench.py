#!/usr/bin/env python3
"""How fast `socktrace stats` reads a large trace (python3 standard library).

Usage: python3 bench/stats_bench.py [BUILD_DIR] [--events N] [--rounds R]
                                    [--tmpdir DIR] [--markdown]

Generates a synthetic trace of N events (default 10,000,000: two processes,
1000 TCP connections, sends and receives; tests/view/gen_big_trace.py) in a
new temporary directory, runs BUILD_DIR/viewer/socktrace stats over it R
times (default 3), and prints per run and as medians: wall time, CPU time
(user + system, from the kernel's accounting of the child), events per
second of each, and the peak resident set size. The trace is deleted at
the end. Targets (printed, never asserted): at least 1,000,000 events per
second on one core, peak RSS under 100 MiB.

Events per second of CPU time is the figure to compare between machines
or between versions on a busy machine: the tool is single-threaded, so its
CPU time is its cost, while its wall time also counts the time other work
held the CPU. Nothing here fails on timing; the exit status is non-zero
only when the tool fails or prints something it should not.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "tests", "view", "gen_big_trace.py")
CONNS = 1000
TARGET_EPS = 1_000_000
TARGET_RSS_KIB = 100 * 1024


def run_once(tool, trace):
    """One `socktrace stats` run: (wall s, cpu s, peak RSS KiB, stdout).
    The peak RSS comes from GNU time when installed: the kernel's figure
    for a child forked by Python counts the Python image it started as."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss_file:
        argv = [tool, "stats", trace]
        if gnu_time:
            argv = [gnu_time, "-o", rss_file.name, "-f", "%M"] + argv
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        complaint = err.read().decode(errors="replace")
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0 or complaint:
            sys.exit("socktrace stats failed (status %d): %s" % (rc, complaint[-2000:]))
        rss = int(rss_file.read().split()[-1]) if gnu_time else usage.ru_maxrss
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, rss, out.read().decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default="build-bench",
                    help="build directory (default build-bench)")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tmpdir", default=None, help="where the trace is made (default $TMPDIR "
                    "or /tmp; it needs about 165 bytes per event)")
    ap.add_argument("--markdown", action="store_true", help="print the summary as a Markdown "
                    "table row")
    args = ap.parse_args()
    tool = os.path.join(args.build, "viewer", "socktrace")
    if not os.access(tool, os.X_OK):
        sys.exit("%s not found: build it first (ninja -C %s)" % (tool, args.build))
    tmp = tempfile.mkdtemp(prefix="socktrace-stats-bench-", dir=args.tmpdir)
    try:
        trace = os.path.join(tmp, "trace")
        t0 = time.perf_counter()
        gen = subprocess.run([sys.executable, GEN, trace, str(args.events), str(CONNS)],
                             check=True, capture_output=True, text=True)
        events = int(gen.stdout.split()[0])
        size = sum(os.path.getsize(os.path.join(trace, f)) for f in os.listdir(trace))
        print("trace: %d events, %d MiB, generated in %.1f s (%s)"
              % (events, size >> 20, time.perf_counter() - t0, trace), file=sys.stderr)
        runs = []
        for i in range(args.rounds):
            wall, cpu, rss, text = run_once(tool, trace)
            if not text.startswith("%d calls in 2 processes" % events):
                sys.exit("unexpected output: " + text[:300])
            runs.append((wall, cpu, rss))
            print("run %d: wall %.2f s (%.2f M events/s), cpu %.2f s (%.2f M events/s), "
                  "peak RSS %d KiB" % (i + 1, wall, events / wall / 1e6, cpu,
                                       events / cpu / 1e6, rss))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    rss = max(r[2] for r in runs)
    eps_wall, eps_cpu = events / wall, events / cpu
    if args.markdown:
        print("| stats | %d | %d | %.2f | %.2f | %.2f | %.2f | %.1f | >= 1.00 M/s, < 100 MiB (%s) |"
              % (events, len(runs), wall, eps_wall / 1e6, cpu, eps_cpu / 1e6, rss / 1024,
                 "met" if eps_cpu >= TARGET_EPS and rss < TARGET_RSS_KIB else "not met"))
    else:
        print("median: wall %.2f s = %.2f M events/s; cpu %.2f s = %.2f M events/s; "
              "peak RSS %.1f MiB; target >= %.2f M events/s, < %d MiB: %s"
              % (wall, eps_wall / 1e6, cpu, eps_cpu / 1e6, rss / 1024, TARGET_EPS / 1e6,
                 TARGET_RSS_KIB // 1024,
                 "met" if eps_cpu >= TARGET_EPS and rss < TARGET_RSS_KIB else "not met"))
    print("machine: %s, %d cores, kernel %s, load average %s" % (
        platform.processor() or platform.machine(), os.cpu_count() or 0, platform.release(),
        " ".join("%.2f" % x for x in os.getloadavg())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
