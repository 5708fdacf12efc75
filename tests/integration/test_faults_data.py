"""Faults on data calls: reset (the peer sees ECONNRESET for real), short
writes that the program's loop absorbs, an early end of stream, corrupted
bytes and a throttled transfer. Each asserts on what the programs saw
(curl's status and bytes, the samples' messages) and on the fault object."""

import os

import sttest
from sttest import check, check_eq, sample
from test_faults import (PY, RECV_FNS, SEND_FNS, check_fault, curl_argv, faults, run_py,
                         start_http_server, stop_http_server, unfaulted)

# A traced HTTP peer: reads a request, starts a reply (so that the client
# has something to receive), then reads on until the connection ends and
# says how.
HALF_REPLY_THEN_READ = r"""
import errno, socket, struct
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
print("listening on %d" % l.getsockname()[1], flush=True)
c, _ = l.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 10, 0))
got = b""
try:
    while b"\r\n\r\n" not in got:
        d = c.recv(4096)
        if not d:
            break
        got += d
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\nthe start")
    while True:
        d = c.recv(4096)
        if not d:
            print("eof after", len(got))
            break
        got += d
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno), "after", len(got))
"""


def server_conn_sends(tf, port):
    """The server's data sends on its connection(s) from its port."""
    return [e for e in tf.calls(fn=SEND_FNS) if e.get("local") == "127.0.0.1:%d" % port]


def test_curl_recv_reset(sb):
    """curl's first receive resets the connection: curl reports the reset
    (status 56) and the peer, reading, gets ECONNRESET from its kernel.
    (The peer starts a reply: curl receives only once poll says there is
    something to receive.)"""
    peer = sb.spawn([PY, "-c", HALF_REPLY_THEN_READ])
    port = sb.wait_listening(peer)
    rule = "recv port=%d reset" % port
    res = sb.run(curl_argv("http://127.0.0.1:%d/" % port, "-o", "/dev/null"), env=faults(rule),
                 check_rc=False)
    pres = sb.finish(peer)
    check_eq(res.returncode, 56, "curl's status (receive failure)\n" + res.explain())
    check("reset" in res.err.lower(), "curl reports a reset: %r" % res.err)
    check(pres.out.splitlines()[-1].startswith("ECONNRESET after "),
          "what the peer saw: %r" % pres.out)

    trace = sb.trace()
    cfile = trace.file(pid=res.pid)
    recvs = cfile.calls(fn=RECV_FNS, peer="127.0.0.1:%d" % port)
    check(recvs, "curl's receives", trace=trace)
    check_eq(recvs[0].get("errno"), "ECONNRESET", "curl's receive fails with ECONNRESET", recvs)
    check_fault(recvs[0], "reset", False, "SOCKTRACE_FAULTS:1", rule, nth=1)
    # The peer's own trace: a real ECONNRESET, no fault of its own.
    pfile = trace.file(pid=peer.pid)
    failed = pfile.calls(fn=RECV_FNS, errno="ECONNRESET")
    check_eq(len(failed), 1, "the peer's receive that failed with ECONNRESET",
             pfile.calls(fn=RECV_FNS))
    check("fault" not in failed[0], "the peer's ECONNRESET is real", failed)
    check(failed[0]["ts"] + failed[0]["dur"] >= recvs[0]["ts"],
          "the peer's error ends after the reset", [recvs[0], failed[0]])


def test_server_send_reset_curl(sb):
    """http.server's send resets the connection: curl, receiving, sees the
    reset (status 56); its trace shows the real ECONNRESET."""
    rule = "send port={port} reset"
    port, server = start_http_server(sb, {"page.txt": b"x" * 3000}, rules=[rule])
    res = sb.run(curl_argv("http://127.0.0.1:%d/page.txt" % port, "-o", "/dev/null"),
                 check_rc=False)
    stop_http_server(sb, server)
    check_eq(res.returncode, 56, "curl's status\n" + res.explain())
    check("reset" in res.err.lower(), "curl reports a reset: %r" % res.err)

    trace = sb.trace()
    sfile = trace.file(pid=server.pid)
    sends = server_conn_sends(sfile, port)
    check(sends, "the server's sends", trace=trace)
    check_eq(sends[0].get("errno"), "ECONNRESET", "the server's send fails", sends)
    check_fault(sends[0], "reset", False, "SOCKTRACE_FAULTS:1", rule.format(port=port), nth=1)
    crecv = trace.file(pid=res.pid).calls(fn=RECV_FNS, errno="ECONNRESET")
    check(crecv and all("fault" not in e for e in crecv),
          "curl's receive fails with a real ECONNRESET", crecv or trace.file(pid=res.pid).calls())


def test_server_send_reset_samples(sb):
    """The same with the samples: tcp_server's reply resets, tcp_client's
    receive gets ECONNRESET; the server's descriptor stays valid (its
    close succeeds)."""
    server = sb.spawn([sample("tcp_server"), "0"], env=faults("send reset"))
    port = sb.wait_listening(server)
    client = sb.run([sample("tcp_client"), "127.0.0.1", port, "hi"], check_rc=False)
    sres = sb.finish(server, check_rc=False)
    check_eq(client.returncode, 1, "tcp_client's status\n" + client.explain())
    check_eq(client.err, "tcp_client: recv: Connection reset by peer\n", "tcp_client's message")
    check_eq(sres.returncode, 1, "tcp_server's status\n" + sres.explain())
    check_eq(sres.err, "tcp_server: send: Connection reset by peer\n", "tcp_server's message")

    trace = sb.trace()
    sfile = trace.file(pid=server.pid)
    (send,) = sfile.calls(fn="send")
    check_fault(send, "reset", False, nth=1)
    check_eq(send.get("errno"), "ECONNRESET", "send's errno", [send])
    close = sfile.fd_life(send, fn="close")
    check(close and close[0]["ret"] == 0, "the reset descriptor closes fine", close)
    crecv = trace.file(pid=client.pid).calls(fn="recv")
    check(crecv and crecv[-1].get("errno") == "ECONNRESET" and "fault" not in crecv[-1],
          "the client's receive fails with a real ECONNRESET", crecv)


# A connected pair in one process; the client's first receive is reset.
# With "dup", the client's socket has a second descriptor.
RESET_PAIR = r"""
import errno, os, socket, struct, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 2, 0))
if sys.argv[1] == "dup":
    other = os.dup(c.fileno())
a.sendall(b"x")
time.sleep(0.05)
for name, s in (("client", c), ("peer", a)):
    try:
        print(name, "got", s.recv(10))
    except OSError as e:
        print(name, errno.errorcode[e.errno])
"""


def test_reset_is_real(sb):
    """reset resets the connection itself: the other end's next receive
    fails with ECONNRESET (both ends in one process here)."""
    rule = "recv when=1 reset"
    res = run_py(sb, RESET_PAIR, "plain", env=faults(rule))
    check_eq(res.out.splitlines(), ["client ECONNRESET", "peer ECONNRESET"], "what each end saw")
    recvs = sb.trace().file(pid=res.pid).calls(fn="recv")
    check_eq(len(recvs), 2, "receives", recvs)
    check_fault(recvs[0], "reset", False, nth=1)
    check("fault" not in recvs[1] and recvs[1].get("errno") == "ECONNRESET",
          "the peer's ECONNRESET is real", recvs)


def test_reset_with_second_descriptor(sb):
    """The same when the program holds a second descriptor of the socket
    (dup, or a forked child's copy): the connection must still be reset
    for real, or the peer never learns of it."""
    rule = "recv when=1 reset"
    res = run_py(sb, RESET_PAIR, "dup", env=faults(rule))
    check_eq(res.out.splitlines(), ["client ECONNRESET", "peer ECONNRESET"],
             "what each end saw (a second descriptor open)")


def test_client_corrupt_receive(sb):
    """corrupt=1 on tcp_client's first receive: the reply it prints
    differs from the server's in exactly one byte."""
    server = sb.spawn([sample("tcp_server"), "0"])
    port = sb.wait_listening(server)
    rule = "recv when=1 corrupt=1"
    client = sb.run([sample("tcp_client"), "127.0.0.1", port, "corrupt me"],
                    env=faults(rule, seed=5))
    sb.finish(server)
    want = b"echo: corrupt me\n"
    got = client.raw_out[:len(want)]
    diffs = [i for i in range(len(want)) if got[i:i + 1] != want[i:i + 1]]
    check_eq(len(diffs), 1, "bytes that differ in %r" % client.raw_out)
    recvs = sb.trace().file(pid=client.pid).calls(fn="recv")
    f = check_fault(recvs[0], "corrupt", True, text=rule, nth=1)
    check_eq(f.get("flipped"), 1, "fault.flipped", recvs[:1])


def test_server_short_writes(sb):
    """short=1 on http.server's sends: Python's sendall loops, the whole
    response arrives intact, each send moved one byte."""
    body = bytes((i * 7 + 3) % 256 for i in range(3000))
    rule = "send port={port} short=1"
    port, server = start_http_server(sb, {"body.bin": body}, rules=[rule])
    got = os.path.join(sb.dir, "got.bin")
    res = sb.run(curl_argv("http://127.0.0.1:%d/body.bin" % port, "-o", got,
                           "-w", "%{size_header}"))
    stop_http_server(sb, server)
    with open(got, "rb") as f:
        check(f.read() == body, "the body curl received is the file")
    size_header = int(res.out)

    sfile = sb.trace().file(pid=server.pid)
    sends = server_conn_sends(sfile, port)
    check_eq(sum(e.get("bytes", 0) for e in sends), size_header + len(body),
             "bytes the server sent", sends[-3:])
    check_eq(len(sends), size_header + len(body), "one send per byte", sends[:3])
    check_eq(unfaulted(sends), [], "sends without a fault")
    for n, e in enumerate(sends, 1):
        check_fault(e, "short", True, text=rule.format(port=port), nth=n)
        check_eq(e["bytes"], 1, "bytes of a short send", [e])
        if e["len"] > 1:
            check_eq((e["fault"].get("asked"), e["fault"].get("allowed")), (e["len"], 1),
                     "asked/allowed of a short send", [e])


def test_client_early_eof(sb):
    """close on the client's first receive: tcp_client sees the end of
    the stream before any reply."""
    server = sb.spawn([sample("tcp_server"), "0"])
    port = sb.wait_listening(server)
    rule = "recv when=1 close"
    client = sb.run([sample("tcp_client"), "127.0.0.1", port, "hello"], env=faults(rule),
                    check_rc=False)
    sb.finish(server, check_rc=False)
    check_eq(client.returncode, 1, "tcp_client's status\n" + client.explain())
    check_eq(client.err, "tcp_client: the server closed without replying\n",
             "tcp_client's message")
    check_eq(client.out, "", "tcp_client's output")

    cfile = sb.trace().file(pid=client.pid)
    recvs = cfile.calls(fn="recv")
    check_eq(len(recvs), 1, "the client's receives", recvs)
    check_eq((recvs[0]["ret"], recvs[0].get("bytes")), (0, 0), "the receive returned 0", recvs)
    check("errno" not in recvs[0], "no errno on an end of stream", recvs)
    check_fault(recvs[0], "close", False, "SOCKTRACE_FAULTS:1", rule, nth=1)


def test_server_corrupt(sb):
    """corrupt=1 on the server's sends (after the headers): the body curl
    receives differs from the file in exactly one byte per faulted send,
    each inside the bytes that send moved."""
    body = bytes((i * 31 + 11) % 251 for i in range(20000))
    rule = "send port={port} when=2+ corrupt=1"
    port, server = start_http_server(sb, {"body.bin": body}, rules=[rule])
    got_path = os.path.join(sb.dir, "got.bin")
    sb.run(curl_argv("http://127.0.0.1:%d/body.bin" % port, "-o", got_path))
    stop_http_server(sb, server)
    with open(got_path, "rb") as f:
        got = f.read()
    check_eq(len(got), len(body), "body length")
    diffs = [i for i in range(len(body)) if got[i] != body[i]]

    sends = server_conn_sends(sb.trace().file(pid=server.pid), port)
    check(sends and "fault" not in sends[0], "the headers' send is spared", sends[:2])
    header_len = sends[0]["bytes"]
    body_sends = sends[1:]
    check_eq(sum(e["bytes"] for e in body_sends), len(body), "body bytes sent", body_sends)
    offset = 0
    ranges = []
    for n, e in enumerate(body_sends, 2):
        f = check_fault(e, "corrupt", True, text=rule.format(port=port), nth=n)
        check_eq(f.get("flipped"), 1, "fault.flipped", [e])
        check(e["bytes"] <= 4096, "a corrupted send moves at most 4096 bytes", [e])
        ranges.append((offset, offset + e["bytes"]))
        offset += e["bytes"]
    check_eq(len(diffs), len(body_sends),
             "bytes that differ (%s) vs faulted sends" % diffs[:20], body_sends)
    for (lo, hi), i in zip(ranges, diffs):
        check(lo <= i < hi, "byte %d changed by the send of bytes %d..%d" % (i, lo, hi))
    check(header_len > 0, "headers sent")


def test_server_bandwidth(sb):
    """bandwidth=200kB/s on the server's sends of 200 KB: the transfer
    takes at least about a second (no upper bound is checked)."""
    body = os.urandom(200 * 1000)
    rule = "send port={port} bandwidth=200kB/s"
    port, server = start_http_server(sb, {"big.bin": body}, rules=[rule])
    got_path = os.path.join(sb.dir, "got.bin")
    res = sb.run(curl_argv("http://127.0.0.1:%d/big.bin" % port, "-o", got_path,
                           "-w", "%{time_total}"))
    stop_http_server(sb, server)
    with open(got_path, "rb") as f:
        check(f.read() == body, "the body arrived intact")
    elapsed = float(res.out)
    check(elapsed >= 0.9, "curl's transfer took %.3f s, expected at least 0.9" % elapsed)

    sends = server_conn_sends(sb.trace().file(pid=server.pid), port)
    check_eq(unfaulted(sends), [], "sends without a fault")
    for e in sends:
        check_fault(e, "bandwidth", True, text=rule.format(port=port))
        check(e["bytes"] <= 10000, "at most 50 ms worth (10000 bytes) per send", [e])
    span = sends[-1]["ts"] - sends[0]["ts"]
    check(span >= 0.9e9, "the sends span %.3f s" % (span / 1e9), [sends[0], sends[-1]])
    waited = [e for e in sends if e["fault"].get("waited_ns", 0) > 0]
    check(len(waited) >= len(sends) // 2, "sends that waited for the rate: %d of %d"
          % (len(waited), len(sends)), sends[:4])


if __name__ == "__main__":
    sttest.main()
