"""Programs that close or overwrite every descriptor, as daemons do, with
the shim's own trace descriptor among them (RLIMIT_NOFILE is 1024, so
the shim keeps it just below 1024): the program sees exactly what it
sees without the shim, and every socket call before and after the sweep
is recorded."""

import re
import resource

import sttest
from sttest import check, check_eq, prog

AFTER = 200  # exchanges after the sweep
CALLS_PER_EXCHANGE = {"socket": 2, "bind": 1, "listen": 1, "getsockname": 1, "connect": 1,
                      "accept": 1, "send": 1, "recv": 1, "close": 3}


def nofile_1024():
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def run_both(sb, mode):
    argv = [prog("fd_sweep"), mode]
    plain = sb.run(argv, traced=False, preexec_fn=nofile_1024)
    traced = sb.run(argv, preexec_fn=nofile_1024)
    if traced.raw_out != plain.raw_out or traced.raw_err != plain.raw_err:
        raise sttest.Fail("%s: the program saw something else under the shim\n"
                          "without:\n%s%s\nwith:\n%s%s"
                          % (mode, plain.out, plain.err, traced.out, traced.err))
    check("after: %d" % (AFTER * len("after the sweep")) in traced.out,
          "exchanges after the sweep: %r" % traced.out)
    check("after fds: 3 4 5" in traced.out, "descriptors after the sweep: %r" % traced.out)
    trace = sb.trace()
    trace.check_clean()
    check_eq(len(trace.files), 1, "trace files", trace=trace)
    tf = trace.files[0]
    check_eq(tf.end["dropped"], 0, "dropped records", [tf.end])
    return traced, tf


def check_exchanges(tf, extra=None):
    """Every exchange's calls are in the trace: one before the sweep,
    AFTER after it."""
    want = {fn: n * (AFTER + 1) for fn, n in CALLS_PER_EXCHANGE.items()}
    for fn, n in (extra or {}).items():
        want[fn] = want.get(fn, 0) + n
    got = {fn: len(tf.calls(fn=fn)) for fn in want}
    check_eq(got, want, "records per function")
    recvs = tf.calls(fn="recv")
    check(all(e.get("bytes") in (len("first exchange"), len("after the sweep")) for e in recvs),
          "recv byte counts", [e for e in recvs if e.get("bytes") not in (14, 15)][:5])
    sends = tf.calls(fn="send")
    check_eq([e["bytes"] for e in sends], [14] + [15] * AFTER, "send byte counts")
    last_connect = tf.calls(fn="connect")[-1]
    check(last_connect.get("local", "").startswith("127.0.0.1:") and
          last_connect.get("peer", "").startswith("127.0.0.1:"),
          "endpoints still known after the sweep", [last_connect])


def test_closeall(sb):
    traced, tf = run_both(sb, "closeall")
    # Nothing of the program's was open: every close fails, our fd too.
    m = re.search(r"closeall: closed (\d+), EBADF (\d+)", traced.out)
    check_eq((int(m.group(1)), int(m.group(2))), (0, 1021), "(closed, EBADF)")
    check_exchanges(tf)


def test_dup2all(sb):
    """Closing from the top down, as the classic daemon loop does."""
    check_dup2all(sb, "dup2all")


def test_dup2all_up(sb):
    """Closing from the bottom up."""
    check_dup2all(sb, "dup2all_up")


def check_dup2all(sb, mode):
    traced, tf = run_both(sb, mode)
    check("dup2all: 1020 copies" in traced.out, "dup2 results: %r" % traced.out)
    check("dup2all: closed 1021" in traced.out, "closes: %r" % traced.out)
    dups = tf.calls(fn="dup2")
    check_eq(len(dups), 1020, "dup2 records", dups[-3:])
    check(all(e["ret"] == e["newfd"] for e in dups), "dup2 returns newfd",
          [e for e in dups if e["ret"] != e["newfd"]][:5])
    # The sweep's socket and its 1020 copies are closed: 1021 more closes,
    # and one more socket.
    check_exchanges(tf, extra={"close": 1021, "socket": 1})


def test_close_range(sb):
    traced, tf = run_both(sb, "close_range")
    check("close_range: 0" in traced.out, "close_range result: %r" % traced.out)
    check_exchanges(tf)


def test_raw_close_range(sb):
    """The raw system call closes the shim's descriptor behind its back:
    records keep going into the mapped file, and the file is reopened when
    it must grow and to trim it at exit."""
    traced, tf = run_both(sb, "raw_close_range")
    check("raw close_range: 0" in traced.out, "close_range result: %r" % traced.out)
    check_exchanges(tf)


if __name__ == "__main__":
    sttest.main()
