"""Socket calls from a signal handler while the interrupted code is inside
a hooked call: the program completes, and both the handler's calls and
the interrupted call are recorded whole and counted right."""

import re

import sttest
from sttest import check, check_eq, prog

ROUNDS = 20000


def test_handler_sends_during_recv(sb):
    res = sb.run([prog("signal_send"), ROUNDS], timeout=30)
    check("part1 got ping-pong" in res.out, "part 1: the recv got what the handler sent: %r"
          % res.out)
    m = re.search(r"part2 handler_sends (\d+) drained (\d+) errors (\d+)", res.out)
    check(m is not None, "part 2 summary: %r" % res.out)
    handler_sends, drained, errors = map(int, m.groups())
    check_eq(errors, 0, "handler errors")
    check_eq(drained, handler_sends, "bytes drained vs handler sends")

    trace = sb.trace()
    trace.check_clean()
    tf = trace.file(pid=res.pid)
    check_eq(tf.end["dropped"], 0, "dropped records", [tf.end])
    pairs = tf.calls(fn="socketpair")
    check_eq(len(pairs), 3, "socketpairs", pairs)
    p1, s2, d2 = (p["fds"] for p in pairs)

    # Part 1: the handler's send and write come inside the recv's span
    # (recorded before it, since the recv ends after them).
    recv1 = tf.calls(fn="recv", fd=p1[0])
    send1 = tf.calls(fn="send", fd=p1[1])
    write1 = tf.calls(fn="write", fd=p1[1])
    check(len(send1) == 1 and send1[0]["bytes"] == 5, "handler's send", send1, trace)
    check(len(write1) == 1 and write1[0]["bytes"] == 4, "handler's write", write1, trace)
    check(recv1 and sttest.total(recv1) == 9, "the main thread's recv got 9 bytes", recv1)
    first = recv1[0]
    check(first["ts"] < send1[0]["ts"] < first["ts"] + first["dur"],
          "the handler's send happened during the blocked recv", [first, send1[0]])
    check(first["dur"] >= 50 * 1000 * 1000, "the recv blocked until the signal", [first])
    check_eq(len({e["tid"] for e in recv1 + send1 + write1}), 1, "one thread", recv1 + send1)

    # Part 2: every handler send is recorded once, and so is every call of
    # the main loop.
    hsends = tf.calls(fn="send", fd=d2[0])
    check_eq(len(hsends), handler_sends, "handler send records", hsends[-3:])
    check(all(e["bytes"] == 1 for e in hsends), "handler sends are 1 byte",
          [e for e in hsends if e.get("bytes") != 1][:5])
    main_sends = tf.calls(fn="send", fd=s2[0], ret=8)
    main_recvs = tf.calls(fn="recv", fd=s2[1], ret=8)
    check_eq(len(main_sends), ROUNDS, "main loop send records (that returned 8)")
    check_eq(len(main_recvs), ROUNDS, "main loop recv records (that returned 8)")
    drains = tf.calls(fn="recv", fd=d2[1], ret=lambda r: r > 0)
    check_eq(sttest.total(drains), handler_sends, "drained bytes in the trace", drains[-3:])
    print("      (%d signals landed during %d send/recv pairs)" % (handler_sends, ROUNDS))


if __name__ == "__main__":
    sttest.main()
