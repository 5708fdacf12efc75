"""The time of every event is the kernel's CLOCK_MONOTONIC: ts and ts+dur
of each call lie between the readings the program itself takes just
before and just after the call, in every thread, including after the
shim has switched to its TSC clock (preload/shim/clock.h: 50 ms into the
process, anchors renewed every 250 us) and across pauses longer than an
anchor period."""

import collections

import sttest
from sttest import check, check_eq, prog

N = 20000
THREADS = 3
# The TSC clock follows clock_gettime within tens of ns (an anchor pair is
# taken within 600 ticks); a rate off by 0.1% would be 250 ns off by the
# end of an anchor period.
TOLERANCE_NS = 250


def test_bracketed_calls(sb):
    res = sb.run([prog("clock_bracket"), N, THREADS], timeout=60)
    brackets = collections.defaultdict(list)
    for line in res.out.splitlines():
        tid, before, after = map(int, line.split())
        brackets[tid].append((before, after))
    check_eq(len(brackets), THREADS, "threads that printed their readings")

    tf = sb.trace().file(pid=res.pid)
    records = collections.defaultdict(list)
    for e in tf.calls():
        if e["fn"] in ("send", "recv"):
            records[e["tid"]].append(e)
    worst_early = worst_late = 0
    for tid, pairs in brackets.items():
        recs = records[tid]
        check_eq(len(recs), len(pairs), "send/recv records of tid %d" % tid)
        for (before, after), e in zip(pairs, recs):
            worst_early = max(worst_early, before - e["ts"])
            worst_late = max(worst_late, e["ts"] + e["dur"] - after)
    check(worst_early <= TOLERANCE_NS and worst_late <= TOLERANCE_NS,
          "events within %d ns of the program's own clock readings around each call: "
          "a ts up to %d ns before the reading before the call, an end up to %d ns after "
          "the reading after it" % (TOLERANCE_NS, worst_early, worst_late))


if __name__ == "__main__":
    sttest.main()
