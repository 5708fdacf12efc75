"""A process that dies without exiting normally keeps every record of the
calls that returned: killed by SIGKILL right after it said "done N",
killed by abort(), or ended by _exit() (which skips destructors). The
file may end in NUL padding (skipped as the spec says) and, when killed,
have no end record."""

import os
import resource
import signal
import subprocess

import sttest
from sttest import check, check_eq, prog

# Enough records (~200 bytes each) to fill several of the writer's
# growing segments (64 KiB, 128 KiB, ...), so records straddle them.
N = 3001


def no_core_dump():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def check_all_calls(sb, pid, n, size=4):
    trace = sb.trace()
    check_eq(len(trace.files), 1, "trace files", trace=trace)
    tf = trace.files[0]
    check_eq(tf.pid, pid, "header pid")
    check_eq(tf.bad_lines, [], "lines that do not parse")
    check(not tf.nul_inside, "NUL bytes between records (a hole in the trace)")
    calls = tf.calls()
    check_eq(len(calls), n, "call records", calls[-3:])
    check_eq(calls[0]["fn"], "socketpair", "first call", calls[:1])
    sends = tf.calls(fn="send", bytes=size)
    recvs = tf.calls(fn="recv", bytes=size)
    check_eq((len(sends), len(recvs)), ((n - 1 + 1) // 2, (n - 1) // 2),
             "(send, recv) records", calls[-3:])
    return tf


def test_sigkill(sb):
    p = sb.spawn([prog("calls_then_wait"), N, "sleep"])
    sb.read_line(p, r"^done %d$" % N)
    p.send_signal(signal.SIGKILL)
    res = sb.finish(p, check_rc=False)
    check_eq(res.returncode, -signal.SIGKILL, "status (killed by SIGKILL)")
    tf = check_all_calls(sb, p.pid, N)
    # Killed: no end record, and the reserved space stays as NUL bytes.
    check(tf.end is None, "an end record from a killed process", [tf.end])
    check_eq(tf.incomplete_tail, None, "incomplete last line (nothing was being written)")


def test_abort(sb):
    p = sb.spawn([prog("calls_then_wait"), N, "abort"], preexec_fn=no_core_dump)
    res = sb.finish(p, check_rc=False)
    check_eq(res.returncode, -signal.SIGABRT, "status (killed by SIGABRT)")
    check("done %d" % N in res.out, "the program got through its calls: %r" % res.out)
    tf = check_all_calls(sb, p.pid, N)
    check(tf.end is None, "an end record after abort()", [tf.end])


def test_underscore_exit(sb):
    p = sb.spawn([prog("calls_then_wait"), N, "_exit"])
    res = sb.finish(p)
    check("done %d" % N in res.out, "the program got through its calls: %r" % res.out)
    tf = check_all_calls(sb, p.pid, N)
    # _exit is hooked: the file is finished like a normal exit.
    tf.check_clean()
    check_eq(tf.end["reason"], "_exit", "end reason", [tf.end])
    check_eq(tf.end["dropped"], 0, "dropped records", [tf.end])


def resident_bytes(path):
    """Bytes of path in the page cache (util-linux fincore)."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split()[0])


def test_sigkill_long_trace(sb):
    """About 60 MB of records, long enough that the writer has sent the
    oldest segments to the disk and dropped them from the page cache:
    every record is still there after SIGKILL, read back from the disk,
    and the page cache held less than the file."""
    # About 150 bytes a record in JSON Lines; binary records carry a
    # payload of 128 bytes to be as big.
    n = 400001
    p = sb.spawn([prog("calls_then_wait"), n, "sleep", 128], env={"SOCKTRACE_PAYLOAD": "128"})
    sb.read_line(p, r"^done %d$" % n, timeout=60)
    p.send_signal(signal.SIGKILL)
    sb.finish(p, check_rc=False)
    # Before anything reads the file back into the page cache.
    names = os.listdir(sb.out)
    check_eq(len(names), 1, "trace files", names)
    path = os.path.join(sb.out, names[0])
    size = os.path.getsize(path)
    check(size > 48 << 20, "a trace past the segments kept in memory (%d bytes)" % size)
    # Without the release, all but what was allocated ahead of the tail
    # (at most a segment, 8 MiB) is resident. How much more leaves
    # depends on how fast the disk took the writes; 16 MiB is a few
    # segments of the file's first half.
    resident = resident_bytes(path)
    check(size - resident >= 16 << 20,
          "page cache held by the trace: %d of %d bytes" % (resident, size))
    tf = check_all_calls(sb, p.pid, n, 128)
    check(tf.end is None, "an end record from a killed process", [tf.end])


def test_sigkill_small(sb):
    """A single call, killed: the header and that one record survive."""
    p = sb.spawn([prog("calls_then_wait"), 1, "sleep"])
    sb.read_line(p, r"^done 1$")
    p.kill()
    sb.finish(p, check_rc=False)
    tf = check_all_calls(sb, p.pid, 1)
    check(tf.header is not None, "header of a killed process")
    check(tf.end is None, "an end record from a killed process", [tf.end])


if __name__ == "__main__":
    sttest.main()
