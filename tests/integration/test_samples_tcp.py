"""The TCP samples under the shim: every step of the classic socket
diagram, in order, in the right process; both ends of the connection
agree on its 4-tuple; byte counts match what was sent; the same fd runs
through each connection's calls."""

import sttest
from sttest import check, check_eq, sample, sequence, total

DATA_FNS = ("recv", "__recv_chk", "read", "__read_chk", "recvfrom", "recvmsg")


def run_pair(sb, messages):
    server = sb.spawn([sample("tcp_server"), "0", str(len(messages))])
    port = sb.wait_listening(server)
    clients = [sb.run([sample("tcp_client"), "127.0.0.1", port, m]) for m in messages]
    res = sb.finish(server)
    return port, res, clients


def test_classic_diagram(sb):
    message = "hello, socktrace"
    port, server, (client,) = run_pair(sb, [message])
    request = message + "\n"
    reply = "echo: " + request

    # What the programs saw.
    check_eq(client.out, reply, "client's output")
    check("request: " + message in server.out, "server's output: %r" % server.out)

    trace = sb.trace()
    trace.check_clean()
    check_eq(len(trace.files), 2, "trace files (%s)" % [f.name for f in trace.files],
             trace=trace)
    sfile = trace.file(pid=server.pid)
    cfile = trace.file(pid=client.pid)
    check_eq(sfile.prog, "tcp_server", "server's header prog")
    check_eq(cfile.prog, "tcp_client", "client's header prog")
    check(sfile.name == "tcp_server.%d%s" % (server.pid, sttest.SUFFIX), "server file name " + sfile.name)
    check(all(r["pid"] == server.pid for r in sfile.calls()), "foreign pid in " + sfile.name,
          [r for r in sfile.calls() if r["pid"] != server.pid])

    # The server: socket, setsockopt, bind, listen, accept, recv, send, close.
    s_socket, s_opt, s_bind, s_listen, s_accept, s_recv, s_send, s_close = sequence(sfile, [
        dict(fn="socket", family="AF_INET", type="SOCK_STREAM"),
        dict(fn="setsockopt", level="SOL_SOCKET", opt="SO_REUSEADDR", value=1, ret=0),
        dict(fn="bind", ret=0, addr="127.0.0.1:0"),
        dict(fn="listen", ret=0, backlog=16),
        dict(fn="accept", ret=lambda r: r >= 0),
        dict(fn="recv", ret=lambda r: r > 0),
        dict(fn="send", ret=lambda r: r > 0),
        dict(fn="close", ret=0),
    ], "server's diagram")
    lfd = s_socket["ret"]
    for e in (s_opt, s_bind, s_listen, s_accept):
        check_eq(e["fd"], lfd, "listening fd of " + e["fn"], [s_socket, e])
    check_eq(s_bind["local"], "127.0.0.1:%d" % port, "bind's local (port 0 resolved)", [s_bind])
    check_eq(s_listen["local"], "127.0.0.1:%d" % port, "listen's local", [s_listen])
    cfd_srv = s_accept["ret"]
    check(cfd_srv != lfd, "accept returned the listening fd", [s_accept])
    for e in (s_recv, s_send, s_close):
        check_eq(e["fd"], cfd_srv, "connection fd of " + e["fn"], [s_accept, e])
    # The listener is closed last, after the connection.
    last = sfile.calls()[-1]
    check(last["fn"] == "close" and last["fd"] == lfd, "the server ends by closing the "
          "listener", [last])

    # The client: getaddrinfo, socket, connect, send, recv, shutdown,
    # recv returning 0, close.
    c_gai, c_socket, c_connect, c_send, c_recv, c_shut, c_eof, c_close = sequence(cfile, [
        dict(fn="getaddrinfo", ret=0, host="127.0.0.1", service=str(port)),
        dict(fn="socket", family="AF_INET", type="SOCK_STREAM"),
        dict(fn="connect", ret=0),
        dict(fn="send", ret=lambda r: r > 0),
        dict(fn="recv", ret=lambda r: r > 0),
        dict(fn="shutdown", ret=0, how="SHUT_WR"),
        dict(fn="recv", ret=0, bytes=0),
        dict(fn="close", ret=0),
    ], "client's diagram")
    check("127.0.0.1:%d" % port in c_gai.get("addrs", []), "getaddrinfo's addrs", [c_gai])
    check_eq(c_gai.get("type"), "SOCK_STREAM", "getaddrinfo's hinted type", [c_gai])
    check("fd" not in c_gai, "getaddrinfo has no fd", [c_gai])
    fd = c_socket["ret"]
    for e in (c_connect, c_send, c_recv, c_shut, c_eof, c_close):
        check_eq(e["fd"], fd, "client fd of " + e["fn"], [c_socket, e])
    check_eq(c_connect["addr"], "127.0.0.1:%d" % port, "connect's addr", [c_connect])
    check_eq(c_connect.get("peer"), "127.0.0.1:%d" % port, "connect's peer", [c_connect])

    # The 4-tuple: each end's local is the other's peer.
    check_eq(c_connect.get("local"), s_accept.get("peer"),
             "client's local vs server's accepted peer", [c_connect, s_accept])
    check_eq(c_connect.get("peer"), s_accept.get("local"),
             "client's peer vs server's accepted local", [c_connect, s_accept])
    for e in (c_send, c_recv, c_shut, c_eof, c_close):
        check_eq((e.get("local"), e.get("peer")), (c_connect["local"], c_connect["peer"]),
                 "endpoints of client " + e["fn"], [c_connect, e])
    for e in (s_recv, s_send, s_close):
        check_eq((e.get("local"), e.get("peer")), (s_accept["local"], s_accept["peer"]),
                 "endpoints of server " + e["fn"], [s_accept, e])

    # Bytes: what one end sent, the other received, in whatever pieces.
    c_sent = total(cfile.calls(fn="send", fd=fd))
    s_recvd = total(sfile.calls(fn=DATA_FNS, fd=cfd_srv))
    s_sent = total(sfile.calls(fn="send", fd=cfd_srv))
    c_recvd = total(cfile.calls(fn=DATA_FNS, fd=fd))
    check_eq(c_sent, len(request), "client's bytes sent", cfile.calls(fn="send"))
    check_eq(c_send["len"], len(request), "client send's len", [c_send])
    check_eq(s_recvd, len(request), "server's bytes received", sfile.calls(fn=DATA_FNS))
    check_eq(s_sent, len(reply), "server's bytes sent", sfile.calls(fn="send"))
    check_eq(c_recvd, len(reply), "client's bytes received", cfile.calls(fn=DATA_FNS))

    # Ordering across processes: the server accepted before it received,
    # the client's send came before the server's recv returned.
    check(c_send["ts"] <= s_recv["ts"] + s_recv["dur"], "send after the recv that got it",
          [c_send, s_recv])
    check_eq(sfile.end["reason"], "exit", "server's end reason", [sfile.end])
    check_eq(cfile.end["reason"], "exit", "client's end reason", [cfile.end])
    check_eq(cfile.end["dropped"], 0, "client's dropped records", [cfile.end])


def test_three_clients(sb):
    """One server, three clients in turn: each connection its own
    4-tuple, the accepted fd number reused after each close."""
    port, server, clients = run_pair(sb, ["one", "two", "three"])
    trace = sb.trace()
    trace.check_clean()
    sfile = trace.file(pid=server.pid)
    accepts = sfile.calls(fn="accept")
    check_eq(len(accepts), 3, "accepts", accepts)
    for client, acc in zip(clients, accepts):
        connect = trace.one(pid=client.pid, fn="connect")
        check_eq(connect["local"], acc["peer"], "4-tuple", [connect, acc])
        check_eq(client.out, "echo: %s\n" % client.argv[-1], "client output")
    check_eq(len({a["peer"] for a in accepts}), 3, "distinct client ports", accepts)
    check_eq(len({a["ret"] for a in accepts}), 1, "accepted fd reused", accepts)
    check_eq(len(sfile.calls(fn="close")), 4, "server closes", sfile.calls(fn="close"))


def test_untraced_with_out_off(sb):
    """SOCKTRACE_OUT=off: the programs work and nothing is written."""
    server = sb.spawn([sample("tcp_server"), "0"], env={"SOCKTRACE_OUT": "off"})
    port = sb.wait_listening(server)
    client = sb.run([sample("tcp_client"), "127.0.0.1", port, "quiet"],
                    env={"SOCKTRACE_OUT": "off"})
    sb.finish(server)
    check_eq(client.out, "echo: quiet\n", "client output")
    check_eq(client.err, "", "client stderr")
    check_eq(sb.trace().files, [], "trace files with SOCKTRACE_OUT=off")


if __name__ == "__main__":
    sttest.main()
