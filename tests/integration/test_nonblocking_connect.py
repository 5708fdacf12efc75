"""Non-blocking connect: EINPROGRESS, then getsockopt(SO_ERROR) tells the
outcome. The trace records the EINPROGRESS, the endpoints already known
at that point, and SO_ERROR as 0 for success and as the errno name
"ECONNREFUSED" for a refused connection."""

import re

import sttest
from sttest import check, check_eq, prog


def parse(out):
    got = {}
    for m in re.finditer(r"^(\w+): connect ret=(-?\d+) errno=(\w+) so_error=(\w+)$", out, re.M):
        got[m.group(1)] = (int(m.group(2)), m.group(3), m.group(4))
    return got


def test_nonblocking_connect(sb):
    plain = sb.run([prog("nb_connect")], traced=False)
    traced = sb.run([prog("nb_connect")])
    check_eq(traced.out, plain.out, "what the program saw, with the shim vs without")
    seen = parse(traced.out)
    check_eq(seen.get("open"), (-1, "EINPROGRESS", "0"), "the connect to the listening port")
    check(seen.get("closed") in ((-1, "EINPROGRESS", "ECONNREFUSED"),
                                 (-1, "ECONNREFUSED", "none")),
          "the connect to the refusing port: %r" % (seen.get("closed"),))

    trace = sb.trace()
    trace.check_clean()
    tf = trace.file(pid=traced.pid)
    listener, holder = (e for e in tf.calls(fn="getsockname"))
    open_addr, closed_addr = listener["addr"], holder["addr"]
    check(open_addr != closed_addr, "two targets", [listener, holder])
    nb = tf.calls(fn="socket", type=lambda t: "SOCK_NONBLOCK" in t)
    check_eq(len(nb), 2, "non-blocking sockets", tf.calls(fn="socket"))
    check_eq(nb[0]["type"], "SOCK_STREAM|SOCK_NONBLOCK", "type of the non-blocking socket", nb)

    c_open = tf.calls(fn="connect", addr=open_addr)
    check(len(c_open) == 1 and c_open[0]["ret"] == -1 and c_open[0].get("errno") == "EINPROGRESS",
          "connect to the listening port: -1 EINPROGRESS", c_open, trace)
    c = c_open[0]
    check_eq(c.get("peer"), open_addr, "peer known after EINPROGRESS", [c])
    check(c.get("local", "").startswith("127.0.0.1:") and not c["local"].endswith(":0"),
          "local known after EINPROGRESS", [c])
    so = tf.fd_life(c, fn="getsockopt", level="SOL_SOCKET", opt="SO_ERROR")
    check(len(so) == 1 and so[0]["ret"] == 0 and so[0].get("value") == 0,
          "SO_ERROR 0 after the connection completed", so or tf.fd_life(c))

    c_closed = tf.calls(fn="connect", addr=closed_addr)
    check_eq(len(c_closed), 1, "connects to the refusing port", c_closed, trace)
    c = c_closed[0]
    check_eq(c["ret"], -1, "connect to the refusing port fails", [c])
    so = tf.fd_life(c, fn="getsockopt", opt="SO_ERROR")
    if c.get("errno") == "EINPROGRESS":
        check(len(so) == 1 and so[0].get("value") == "ECONNREFUSED",
              "SO_ERROR recorded as \"ECONNREFUSED\"", [c] + (so or tf.fd_life(c)))
    else:
        check_eq(c.get("errno"), "ECONNREFUSED", "connect's errno", [c])


if __name__ == "__main__":
    sttest.main()
