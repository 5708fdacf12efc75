"""Eight threads x 5000 send/recv pairs at once: every record is a whole
line that parses, none is lost, doubled or torn, and each thread's
records carry its own tid. Then forks taken while threads are recording:
each child gets a working shim and a file of its own."""

import collections
import os
import re

import sttest
from sttest import check, check_eq, prog

THREADS = 8
ROUNDS = 5000


def check_threads(sb, threads, rounds, forks, env=None):
    res = sb.run([prog("threads"), threads, rounds, forks], timeout=40, env=env)
    tids = {int(m.group(2)): int(m.group(1))
            for m in re.finditer(r"^thread (\d+) tid (\d+) ok$", res.out, re.M)}
    check_eq(len(tids), threads, "threads that finished: %r" % res.out)

    trace = sb.trace()
    trace.check_clean()  # every line parses, no NUL, no torn last line
    check_eq(len(trace.files), 1 + forks, "trace files", trace=trace)
    tf = trace.file(pid=res.pid)
    check_eq(tf.end["dropped"], 0, "dropped records", [tf.end])

    counts = collections.Counter((e["tid"], e["fn"]) for e in tf.calls())
    expected = collections.Counter()
    for tid in tids:
        expected.update({(tid, "socketpair"): 1, (tid, "send"): rounds,
                         (tid, "recv"): rounds, (tid, "close"): 2})
    if counts != expected:
        wrong = {k: (counts.get(k, 0), expected.get(k, 0))
                 for k in set(counts) | set(expected) if counts.get(k) != expected.get(k)}
        raise sttest.Fail("records per (tid, fn), (got, expected): %s" % wrong)

    # Per thread, the records are in call order and on that thread's fds.
    by_tid = collections.defaultdict(list)
    for e in tf.calls():
        by_tid[e["tid"]].append(e)
    for tid, recs in by_tid.items():
        pair = recs[0]
        check_eq(pair["fn"], "socketpair", "first call of tid %d" % tid, recs[:2])
        fd0, fd1 = pair["fds"]
        middle = recs[1:-2]
        check(all(e["fn"] == ("send" if i % 2 == 0 else "recv") for i, e in enumerate(middle)),
              "tid %d: send and recv alternate" % tid,
              [e for i, e in enumerate(middle) if e["fn"] != ("send", "recv")[i % 2]][:5])
        check(all(e["fd"] == (fd0 if e["fn"] == "send" else fd1) for e in middle),
              "tid %d: fds of send/recv" % tid,
              [e for e in middle if e["fd"] not in (fd0, fd1)][:5])
        check(all(e["bytes"] == 10 and e.get("flags", "") in ("", "MSG_WAITALL")
                  for e in middle), "tid %d: 10 bytes per call" % tid,
              [e for e in middle if e["bytes"] != 10][:5])
        check(all(e["pid"] == res.pid for e in recs), "pid of tid %d" % tid, recs[:1])
        ts = [e["ts"] for e in recs]
        check(ts == sorted(ts), "tid %d: records in call order" % tid)

    # Each fork child: its own file, its five calls, nothing else.
    children = [int(p) for p in re.findall(r"^child (\d+)$", res.out, re.M)]
    check_eq(len(children), forks, "children forked")
    for pid in children:
        cf = trace.file(pid=pid)
        check_eq(cf.ppid, res.pid, "child's ppid", [cf.header])
        check_eq([e["fn"] for e in cf.calls()],
                 ["socketpair", "send", "recv", "close", "close"], "child's calls", cf.records)
        check(all(e["pid"] == pid and e["tid"] == pid for e in cf.calls()),
              "child's records carry its pid and tid", cf.calls())
        check_eq(cf.end["reason"], "exit", "child's end reason", [cf.end])
    return res


def test_counts_per_thread(sb):
    check_threads(sb, THREADS, ROUNDS, 0)


def test_long_trace(sb):
    """Four threads write some 60 MB: the writer sends old segments to the
    disk and drops them from the page cache while threads are still
    copying records into them, and nothing is lost or torn."""
    # Stacks and payloads make the binary format's records as big as JSON's.
    res = check_threads(sb, 4, 60000, 0,
                        env={"SOCKTRACE_BACKTRACE": "6", "SOCKTRACE_PAYLOAD": "16"}
                        if sttest.FORMAT != "jsonl" else None)
    size = sum(os.path.getsize(f.path) for f in sb.trace().files)
    check(size > 48 << 20, "a trace past the segments kept in memory (%d bytes)" % size)


def test_fork_while_threads_record(sb):
    """The main thread forks 20 times while 4 threads are recording."""
    check_threads(sb, 4, 3000, 20)


if __name__ == "__main__":
    sttest.main()
