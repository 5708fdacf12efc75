"""Stress, bounded for every CI run (the 32 x 100,000 run is
test_stress_full.py, suite stress):

- 8 threads x 20,000 calls over TCP: every call recorded once, in order
  per thread, in a file that parses, nothing dropped;
- 200 forked children, each opening 3 connections to a server thread of
  their parent: 201 files, every connection complete on both sides in the
  viewer's pairing, byte counts equal to what the programs moved;
- a program killed with SIGKILL at random points (start-up included):
  afterwards every file parses (NUL padding and at most one cut record per
  thread being the only damage), every call that had returned is in it,
  and no call that had not started;
- python3 -m http.server under ApacheBench (ab, Debian package
  apache2-utils), both traced: every request answered, every connection
  paired, the bytes ab counted are the bytes in the trace.

The random kill delays come from a seed printed with the test, and taken
from SOCKTRACE_STRESS_SEED when set, to replay a failure."""

import os
import random
import re
import signal
import struct
import subprocess
import sys
import time

import rtest
import sttest
from rtest import StreamStats, check, check_eq, file_of_pid, headers, rprog

BODY = b"socktrace robust test page\n" * 40


def test_threads_tcp(sb):
    threads, calls = 8, 20000
    res = sb.run([rprog("hammer"), threads, calls, "--tcp"], timeout=60)
    done = {int(t): int(n) for t, n in re.findall(r"^thread \d+ tid (\d+) calls (\d+)$",
                                                    res.out, re.M)}
    check_eq(sorted(done.values()), [calls] * threads, "calls each thread made")
    st = StreamStats(file_of_pid(sb.out, res.pid))
    st.check_parses()
    check_eq(st.end["dropped"], 0, "dropped records")
    for tid in done:
        check_eq((st.by_tid_fn[(tid, "send")], st.by_tid_fn[(tid, "recv")]),
                 (calls // 2, calls // 2), "send and recv records of tid %d" % tid)
        check_eq((st.by_tid_fn[(tid, "socket")], st.by_tid_fn[(tid, "connect")],
                  st.by_tid_fn[(tid, "accept")], st.by_tid_fn[(tid, "close")]),
                 (1, 1, 1, 2), "set-up and close records of tid %d" % tid)
    check_eq(st.ts_disorder, {}, "threads whose records go back in time")


def test_forked_children_connections(sb):
    children, conns = 200, 3
    res = sb.run([rprog("forkers"), children, conns], timeout=60)
    pids = [int(p) for p in re.findall(r"^child \d+ pid (\d+)$", res.out, re.M)]
    check_eq(len(pids), children, "children forked")
    m = re.search(r"^served (\d+) bytes_in (\d+) bytes_out (\d+)$", res.out, re.M)
    check(m is not None, "the server's counts: %r" % res.out[-300:])
    served, bytes_in, bytes_out = map(int, m.groups())
    check_eq(served, children * conns, "connections served")
    port = int(re.search(r"^listening on (\d+)$", res.out, re.M).group(1))

    trace = sb.trace()
    trace.check_clean()
    check_eq(len(trace.files), children + 1, "trace files (the parent and each child)")
    pf = trace.file(pid=res.pid)
    check_eq(len(pf.calls(fn="accept", ret=lambda r: r >= 0)), served, "accepts in the parent")
    for pid in pids:
        cf = trace.file(pid=pid)
        check_eq(cf.ppid, res.pid, "child %d's ppid" % pid, [cf.header])
        connects = cf.calls(fn="connect", ret=0)
        check_eq(len(connects), conns, "child %d's connects" % pid, cf.calls()[:8])
        check(all(e["peer"] == "127.0.0.1:%d" % port for e in connects),
              "child %d connects to the server" % pid, connects)
        check(all(r.get("pid", pid) == pid for r in cf.records),
              "child %d's file holds only its records" % pid)
        check_eq(cf.end["reason"], "_exit", "child %d's end (it leaves with _exit)" % pid,
                 [cf.end])

    events, _ = rtest.view_jsonl(sb.out)
    mine = rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=served)
    check_eq(sum(c.sent["client"] for c in mine), bytes_in, "bytes the children sent")
    check_eq(sum(c.sent["server"] for c in mine), bytes_out, "bytes the server sent")


def kill_at_random(sb, rng, delay, threads=4):
    counters = os.path.join(sb.dir, "counters-%d" % rng.randrange(1 << 30))
    out = os.path.join(sb.dir, "kill-%.6f" % delay)
    p = sb.spawn([rprog("hammer"), threads, 0, "--counters", counters], out=out)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    res = sb.finish(p, check_rc=False)
    check_eq(res.returncode, -signal.SIGKILL, "killed by SIGKILL")
    slots = []
    if os.path.exists(counters):
        with open(counters, "rb") as f:
            raw = f.read()
        for i in range(len(raw) // 24):
            slots.append(struct.unpack_from("<qqq", raw, 24 * i))
    returned = {tid: calls for tid, setup, calls in slots if tid}
    files = [p for p, h in headers(out).items()] if os.path.isdir(out) else []
    if not files:
        # Killed before any record: nothing may have returned.
        check(all(setup == 0 for tid, setup, calls in slots),
              "no trace file, but calls had returned (delay %.4f s): %s" % (delay, slots))
        return 0
    check_eq(len(files), 1, "trace files (delay %.4f s)" % delay)
    st = StreamStats(files[0])
    if st.first_rec is None:
        # Killed while the file was being made: no record, and then no call
        # may have returned (its record would be there).
        check(all(setup == 0 for tid, setup, calls in slots),
              "an empty trace file, but calls had returned (delay %.4f s): %s"
              % (delay, slots))
        return 0
    st.check_parses(killed=True)
    check_eq(st.ts_disorder, {}, "threads whose records go back in time")
    check(len(st.cut) <= threads, "more cut records than threads: %s" % st.cut)
    check_eq(set(st.pids), {res.pid} if st.pids else set(), "pids in the trace")
    for tid, calls in returned.items():
        got = st.by_tid_fn[(tid, "send")] + st.by_tid_fn[(tid, "recv")]
        check(calls <= got <= calls + 1,
              "tid %d: %d data calls had returned, %d are in the trace (delay %.4f s, "
              "%s)" % (tid, calls, got, delay, os.path.basename(files[0])))
    for tid, setup, calls in slots:
        if tid and setup:
            check_eq(st.by_tid_fn[(tid, "socketpair")], 1,
                     "tid %d's socketpair (it had returned)" % tid)
    # The tool reads what a killed process left.
    r = subprocess.run([rtest.tool(), "stats", out], capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "socktrace stats on a killed trace: %s" % r.stderr[-500:])
    return sum(returned.values())


def test_sigkill_at_random_points(sb):
    seed = int(os.environ.get("SOCKTRACE_STRESS_SEED", "0")) or random.randrange(1 << 31)
    print("      SIGKILL delays from seed %d (SOCKTRACE_STRESS_SEED)" % seed)
    rng = random.Random(seed)
    delays = [rng.uniform(0, 0.003) for _ in range(4)] + \
             [rng.uniform(0.003, 0.05) for _ in range(4)] + \
             [rng.uniform(0.05, 0.4) for _ in range(4)]
    total = 0
    for delay in delays:
        total += kill_at_random(sb, rng, delay)
    check(total > 0, "some calls returned before the kills (seed %d)" % seed)


def test_sigkill_under_socktrace_run(sb):
    """The same through `socktrace run`, which waits for its command, passes
    on its status (128 + 9) and then trims the NUL padding the killed
    process left: every line of the file is then a whole record (or the
    one cut record of a thread killed while copying)."""
    counters = os.path.join(sb.dir, "counters")
    out = os.path.join(sb.dir, "run-trace")
    p = subprocess.Popen([rtest.tool(), "run", "-q", "-o", out, "--", rprog("hammer"), "4", "0",
                          "--counters", counters],
                         env=sb.env(traced=False), cwd=sb.dir, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    sb.procs.append(p)
    p.argv = ["socktrace run hammer"]
    p.early_out = b""
    child = None
    deadline = time.monotonic() + 10
    while child is None and time.monotonic() < deadline:
        try:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                kids = f.read().split()
            child = int(kids[0]) if kids else None
        except OSError:
            pass
        time.sleep(0.01)
    check(child is not None, "socktrace run started hammer")
    while not os.path.exists(counters) or os.path.getsize(counters) < 96:
        check(time.monotonic() < deadline, "hammer made its counters")
        time.sleep(0.01)
    time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    _, err = p.communicate(timeout=30)
    check_eq(p.returncode, 128 + signal.SIGKILL, "socktrace run's status: %r" % err)
    with open(counters, "rb") as f:
        raw = f.read()
    slots = [struct.unpack_from("<qqq", raw, 24 * i) for i in range(len(raw) // 24)]
    st = StreamStats(file_of_pid(out, child))
    st.check_parses(killed=True)
    # The padding at the end is trimmed. A thread killed between reserving
    # room for a record and copying it leaves a hole of NUL bytes inside
    # (its call had not returned: nothing promised is missing), at most one
    # record of at most 8 KiB per thread; readers skip it.
    if st.binary:
        # NUL bytes are values inside binary records: cat counts the
        # ones outside them.
        check_eq(st.nul_padding, 0, "NUL padding left at the end after socktrace run trimmed it")
        check(st.nul_holes <= 4 * 8192,
              "NUL holes inside: at most one record per killed thread: %d bytes" % st.nul_holes)
    else:
        with open(file_of_pid(out, child), "rb") as f:
            raw = f.read()
        check(not raw.endswith(b"\0"), "NUL padding left at the end after socktrace run trimmed it")
        holes = [len(m) for m in re.findall(rb"\0+", raw)]
        check(len(holes) <= 4 and all(h <= 8192 for h in holes),
              "NUL holes inside: at most one record per killed thread: %s" % holes)
    check(len(st.cut) <= 4, "cut records: %s" % st.cut)
    for tid, setup, calls in slots:
        got = st.by_tid_fn[(tid, "send")] + st.by_tid_fn[(tid, "recv")]
        check(calls <= got <= calls + 1, "tid %d: %d data calls had returned, %d in the trace"
              % (tid, calls, got))


def test_http_server_under_ab(sb):
    ab = rtest.need_program("ab", "apache2-utils")
    requests, concurrency = 2000, 8
    # The server traced too: test_curl's helper starts it untraced.
    port = None
    root = os.path.join(sb.dir, "www")
    os.mkdir(root)
    with open(os.path.join(root, "page.txt"), "wb") as f:
        f.write(BODY)
    for _ in range(5):
        port = sttest.free_port()
        # Its log of every request to /dev/null: a pipe nobody reads
        # would fill up and stop it.
        server = sb.spawn(["sh", "-c", 'exec "$0" "$@" 2>/dev/null', sys.executable, "-m",
                           "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                           root])
        try:
            sttest.wait_port(port, proc=server)
            break
        except sttest.Fail:
            if server.poll() is None:
                raise
    res = sb.run([ab, "-q", "-n", requests, "-c", concurrency, "-s", "20",
                  "http://127.0.0.1:%d/page.txt" % port], timeout=90)
    complete = int(re.search(r"^Complete requests:\s+(\d+)", res.out, re.M).group(1))
    failed = int(re.search(r"^Failed requests:\s+(\d+)", res.out, re.M).group(1))
    total_bytes = int(re.search(r"^Total transferred:\s+(\d+)", res.out, re.M).group(1))
    check_eq((complete, failed), (requests, 0), "ab's complete and failed requests")
    server.send_signal(signal.SIGINT)
    sb.finish(server, check_rc=False)

    events, _ = rtest.view_jsonl(sb.out)
    addr = "127.0.0.1:%d" % port
    # One connection is the test's own, made untraced to see the port open.
    conns = rtest.check_pairing(events, addr, untraced_clients=(0, 1))
    # ab may open a spare connection or two that never carry a request.
    ab_conns = [c for c in conns if any(e.get("prog") == "ab" for e in c.connects)
                and c.sent["client"] > 0]
    check_eq(len(ab_conns), requests, "ab's connections that carried a request, each paired "
             "with the server's accept")
    check_eq(sum(c.received["client"] for c in ab_conns), total_bytes,
             "bytes ab received in the trace vs ab's 'Total transferred'")


if __name__ == "__main__":
    rtest.main()
