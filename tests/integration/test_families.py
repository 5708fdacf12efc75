"""Unix stream sockets (path and abstract names) and IPv6 on [::1]: every
address is written as docs/trace-format.md says ("unix:/path",
"unix:@name", "unix:" for an unnamed socket, "[::1]:port"), and the two
ends of each connection mirror each other."""

import os
import re

import sttest
from sttest import check, check_eq, prog, sequence


def exchange_calls(tf, family):
    return sequence(tf, [
        dict(fn="socket", family=family, type="SOCK_STREAM"),
        dict(fn="bind", ret=0),
        dict(fn="listen", ret=0),
        dict(fn="socket", family=family, type="SOCK_STREAM"),
        dict(fn="connect", ret=0),
        dict(fn="accept", ret=lambda r: r >= 0),
        dict(fn="send", bytes=4),
        dict(fn="recv", bytes=4),
        dict(fn="send", bytes=4),
        dict(fn="recv", bytes=4),
        dict(fn="close", ret=0),
        dict(fn="close", ret=0),
        dict(fn="close", ret=0),
    ], "the exchange")


def check_mirror(server_name, client_name, calls):
    (lsock, bind, listen, csock, connect, accept, c_send, s_recv, s_send, c_recv,
     c_close, s_close, l_close) = calls
    check_eq(listen.get("local"), server_name, "listener's local", [listen])
    check_eq(connect.get("addr"), server_name, "connect's addr", [connect])
    check_eq(connect.get("peer"), server_name, "connect's peer", [connect])
    check_eq(connect.get("local"), client_name, "connect's local", [connect])
    check_eq(accept.get("local"), server_name, "accepted local", [accept])
    check_eq(accept.get("peer"), client_name, "accepted peer", [accept])
    for e in (c_send, c_recv, c_close):
        check_eq(e["fd"], csock["ret"], "client fd of " + e["fn"], [csock, e])
        check_eq((e.get("local"), e.get("peer")), (client_name, server_name),
                 "client endpoints on " + e["fn"], [e])
    for e in (s_recv, s_send, s_close):
        check_eq(e["fd"], accept["ret"], "server fd of " + e["fn"], [accept, e])
        check_eq((e.get("local"), e.get("peer")), (server_name, client_name),
                 "server endpoints on " + e["fn"], [e])
    check_eq(l_close["fd"], lsock["ret"], "listener closed last", [lsock, l_close])


def run_loop(sb, args):
    res = sb.run([prog("stream_loop")] + args)
    check("ping pong" in res.out, "the exchange: %r" % res.out)
    trace = sb.trace()
    trace.check_clean()
    return res, trace.file(pid=res.pid)


def test_unix_path(sb):
    path = os.path.join(sb.dir, "sock")
    res, tf = run_loop(sb, ["unix", path])
    calls = exchange_calls(tf, "AF_UNIX")
    check_eq(calls[1].get("addr"), "unix:" + path, "bind's addr", [calls[1]])
    # The client never bound a name: its end is unnamed.
    check_mirror("unix:" + path, "unix:", calls)


def test_unix_abstract(sb):
    name = "socktrace-test-%d" % os.getpid()
    res, tf = run_loop(sb, ["abstract", name])
    calls = exchange_calls(tf, "AF_UNIX")
    check_eq(calls[1].get("addr"), "unix:@" + name, "bind's addr", [calls[1]])
    check_mirror("unix:@" + name, "unix:", calls)


def test_unix_long_path(sb):
    """A path of 107 bytes, the most sun_path holds: kept whole (the
    format cuts only beyond 127 bytes)."""
    base = os.path.join(sb.dir, "")
    path = base + "p" * (107 - len(base))
    check_eq(len(path), 107, "test path length")
    res, tf = run_loop(sb, ["unix", path])
    calls = exchange_calls(tf, "AF_UNIX")
    check_mirror("unix:" + path, "unix:", calls)


def test_ipv6_loopback(sb):
    if not sttest.ipv6_loopback_usable():
        sttest.skip("[::1] cannot be bound here (IPv6 disabled?): IPv6 part not run")
    res, tf = run_loop(sb, ["ipv6"])
    port = int(re.search(r"port (\d+)", res.out).group(1))
    calls = exchange_calls(tf, "AF_INET6")
    check_eq(calls[1].get("addr"), "[::1]:0", "bind's addr (port 0 asked)", [calls[1]])
    server = "[::1]:%d" % port
    client = calls[4].get("local", "")
    check(re.fullmatch(r"\[::1\]:\d+", client) is not None and client != server,
          "the client's IPv6 address", [calls[4]])
    check_mirror(server, client, calls)


if __name__ == "__main__":
    sttest.main()
