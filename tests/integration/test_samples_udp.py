"""The UDP samples under the shim: the server's recvfrom/sendto carry the
client's address and the right byte counts; the client's connected UDP
socket has local and peer on connect, send and recv."""

import sttest
from sttest import check, check_eq, sample, sequence


def test_datagram_exchange(sb):
    message = "datagram one"
    server = sb.spawn([sample("udp_server"), "0"])
    port = sb.wait_listening(server)
    client = sb.run([sample("udp_client"), "127.0.0.1", port, message])
    server_res = sb.finish(server)
    request = message + "\n"
    reply = "echo: " + request
    check_eq(client.out, reply, "client's output")
    check("request: " + message in server_res.out, "server's output: %r" % server_res.out)

    trace = sb.trace()
    trace.check_clean()
    sfile = trace.file(pid=server.pid)
    cfile = trace.file(pid=client.pid)
    server_addr = "127.0.0.1:%d" % port

    s_socket, s_bind, s_recvfrom, s_sendto, s_close = sequence(sfile, [
        dict(fn="socket", family="AF_INET", type="SOCK_DGRAM"),
        dict(fn="bind", ret=0, addr="127.0.0.1:0", local=server_addr),
        dict(fn="recvfrom", ret=len(request)),
        dict(fn="sendto", ret=len(reply)),
        dict(fn="close", ret=0),
    ], "server's calls")
    for e in (s_bind, s_recvfrom, s_sendto, s_close):
        check_eq(e["fd"], s_socket["ret"], "server fd of " + e["fn"], [s_socket, e])
        check_eq(e.get("local"), server_addr, "server's local on " + e["fn"], [e])
        check("peer" not in e, "an unconnected UDP socket has no peer", [e])

    c_gai, c_socket, c_opt, c_connect, c_send, c_recv, c_close = sequence(cfile, [
        dict(fn="getaddrinfo", ret=0, type="SOCK_DGRAM"),
        dict(fn="socket", family="AF_INET", type="SOCK_DGRAM"),
        dict(fn="setsockopt", ret=0, level="SOL_SOCKET", opt="SO_RCVTIMEO",
             value_us=5000000),
        dict(fn="connect", ret=0, addr=server_addr),
        dict(fn="send", ret=len(request)),
        dict(fn="recv", ret=len(reply)),
        dict(fn="close", ret=0),
    ], "client's calls")
    client_addr = c_connect.get("local")
    check(client_addr is not None and client_addr.startswith("127.0.0.1:")
          and client_addr != "127.0.0.1:0", "connected UDP socket's local", [c_connect])
    for e in (c_connect, c_send, c_recv, c_close):
        check_eq(e["fd"], c_socket["ret"], "client fd of " + e["fn"], [c_socket, e])
        check_eq((e.get("local"), e.get("peer")), (client_addr, server_addr),
                 "client endpoints on " + e["fn"], [e])

    # The datagram addresses: the server heard from the client's port and
    # answered to it.
    check_eq(s_recvfrom.get("addr"), client_addr, "recvfrom's source", [s_recvfrom, c_connect])
    check_eq(s_sendto.get("addr"), client_addr, "sendto's destination", [s_sendto, c_connect])
    for e, n in ((s_recvfrom, len(request)), (s_sendto, len(reply)),
                 (c_send, len(request)), (c_recv, len(reply))):
        check_eq(e.get("bytes"), n, "bytes of " + e["fn"], [e])
    check_eq(s_recvfrom["len"], 1023, "recvfrom's len (buffer offered)", [s_recvfrom])


def test_several_clients(sb):
    """Three datagrams from three clients: each reply goes back to its
    own sender."""
    server = sb.spawn([sample("udp_server"), "0", "3"])
    port = sb.wait_listening(server)
    clients = [sb.run([sample("udp_client"), "127.0.0.1", port, m]) for m in ("a", "bb", "ccc")]
    sb.finish(server)
    trace = sb.trace()
    trace.check_clean()
    sfile = trace.file(pid=server.pid)
    froms = [e["addr"] for e in sfile.calls(fn="recvfrom")]
    tos = [e["addr"] for e in sfile.calls(fn="sendto")]
    locals_ = [trace.one(pid=c.pid, fn="connect")["local"] for c in clients]
    check_eq(froms, locals_, "recvfrom sources", sfile.calls(fn="recvfrom"))
    check_eq(tos, locals_, "sendto destinations", sfile.calls(fn="sendto"))
    check_eq([e["bytes"] for e in sfile.calls(fn="recvfrom")], [2, 3, 4], "datagram sizes",
             sfile.calls(fn="recvfrom"))


if __name__ == "__main__":
    sttest.main()
