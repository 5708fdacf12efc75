"""The full thread stress of the issue (suite stress, run once by CI):
32 threads x 100,000 calls each, all at once, on socketpairs of their own.
Every call must be in the trace exactly once, in order per thread, every
line must parse, nothing may be dropped, and the program must see nothing
but its own data. The trace (about 500 MB) is counted in one pass and
removed with the sandbox."""

import re

import rtest
from rtest import StreamStats, check, check_eq, file_of_pid, rprog

THREADS = 32
CALLS = 100000


def test_32_threads_100000_calls(sb):
    res = sb.run([rprog("hammer"), THREADS, CALLS], timeout=300)
    done = {int(t): int(n) for t, n in re.findall(r"^thread \d+ tid (\d+) calls (\d+)$",
                                                    res.out, re.M)}
    check_eq(len(done), THREADS, "threads that reported")
    check_eq(set(done.values()), {CALLS}, "calls each thread made")
    st = StreamStats(file_of_pid(sb.out, res.pid))
    st.check_parses()
    check_eq(st.end["dropped"], 0, "dropped records")
    check_eq(st.after_end, 0, "records after the end record")
    wrong = {}
    for tid in done:
        got = (st.by_tid_fn[(tid, "socketpair")], st.by_tid_fn[(tid, "send")],
               st.by_tid_fn[(tid, "recv")], st.by_tid_fn[(tid, "close")])
        want = (1, CALLS // 2, CALLS // 2, 2)
        if got != want:
            wrong[tid] = (got, want)
    check(not wrong, "records per thread (socketpair, send, recv, close), got vs expected: %s"
          % dict(list(wrong.items())[:5]))
    check_eq(sum(st.by_fn.values()), THREADS * (CALLS + 3), "call records in all")
    check_eq(st.ts_disorder, {}, "threads whose records go back in time")


if __name__ == "__main__":
    rtest.main()
