"""curl, a real program we did not write, under the shim: against
python3 -m http.server it connects to the right address, sends the
request and receives exactly the bytes curl says it got; against a
closed port the refusal shows in the trace and curl's exit code (7) is
the same with and without the shim."""

import os
import sys

import sttest
from sttest import check, check_eq

RECV_FNS = ("recv", "__recv_chk", "read", "__read_chk", "recvfrom", "recvmsg", "readv")
SEND_FNS = ("send", "sendto", "sendmsg", "write", "writev")
BODY = b"socktrace integration test page\n" * 40


def need_curl():
    if not sttest.have_program("curl"):
        sttest.skip("curl is not installed")
    return "curl"


def curl_argv(url):
    return [need_curl(), "-s", "-S", "--max-time", "10", "--noproxy", "*", "-o", "/dev/null",
            "-w", "%{http_code} %{size_request} %{size_header} %{size_download}\n", url]


def start_http_server(sb):
    root = os.path.join(sb.dir, "www")
    os.mkdir(root)
    with open(os.path.join(root, "page.txt"), "wb") as f:
        f.write(BODY)
    # The server is not traced: only curl is under test. Port: free_port,
    # retried, since http.server cannot report a kernel-chosen one.
    for _ in range(5):
        port = sttest.free_port()
        server = sb.spawn([sys.executable, "-m", "http.server", str(port),
                           "--bind", "127.0.0.1", "--directory", root], traced=False)
        try:
            sttest.wait_port(port, proc=server)
            return port
        except sttest.Fail:
            if server.poll() is None:
                raise
    raise sttest.Fail("could not start http.server")


def test_http_get(sb):
    port = start_http_server(sb)
    res = sb.run(curl_argv("http://127.0.0.1:%d/page.txt" % port))
    code, size_request, size_header, size_download = map(int, res.out.split())
    check_eq(code, 200, "HTTP status curl saw")
    check_eq(size_download, len(BODY), "body size curl saw")

    trace = sb.trace()
    trace.check_clean()
    cfile = trace.file(pid=res.pid)
    server_addr = "127.0.0.1:%d" % port
    connects = cfile.calls(fn="connect", addr=server_addr)
    check_eq(len(connects), 1, "connects to the server", connects or cfile.calls(fn="connect"),
             trace)
    connect = connects[0]
    check(connect["ret"] == 0 or connect.get("errno") == "EINPROGRESS",
          "connect returned 0 or EINPROGRESS", [connect])
    check_eq(connect.get("peer"), server_addr, "connect's peer", [connect])
    fd = connect["fd"]
    socket_rec = [e for e in cfile.calls(fn="socket") if e["ret"] == fd]
    check(socket_rec and socket_rec[-1]["family"] == "AF_INET", "the socket connect used",
          socket_rec)
    on_fd = cfile.fd_life(connect)
    if connect["ret"] != 0:
        so_error = [e for e in on_fd if e["fn"] == "getsockopt" and e["opt"] == "SO_ERROR"]
        check(so_error and so_error[0]["value"] == 0, "SO_ERROR 0 after EINPROGRESS",
              so_error or on_fd)

    sends = [e for e in on_fd if e["fn"] in SEND_FNS and e["ret"] >= 0]
    recvs = [e for e in on_fd if e["fn"] in RECV_FNS and e["ret"] >= 0]
    check_eq(sttest.total(sends), size_request, "bytes sent vs curl's size_request", sends)
    check_eq(sttest.total(recvs), size_header + size_download,
             "bytes received vs curl's size_header + size_download", recvs)
    for e in sends + recvs:
        check_eq(e.get("peer"), server_addr, "peer of " + e["fn"], [e])
        check_eq(e.get("local"), connect.get("local"), "local of " + e["fn"], [e])
    closes = [e for e in on_fd if e["fn"] == "close"]
    check(closes and closes[-1]["ret"] == 0, "the connection is closed", on_fd[-5:])
    check(closes[-1]["ts"] > max(e["ts"] for e in recvs), "closed after the last recv",
          [recvs[-1], closes[-1]])
    check_eq(closes[-1].get("peer"), server_addr, "close keeps the endpoints", closes)


def test_closed_port(sb):
    argv = curl_argv("http://127.0.0.1:%d/")
    holder, port = sttest.closed_port()
    with holder:
        argv[-1] = argv[-1] % port
        plain = sb.run(argv, traced=False, check_rc=False)
        traced = sb.run(argv, check_rc=False)
    check_eq(plain.returncode, 7, "curl's status without the shim (couldn't connect)")
    check_eq(traced.returncode, plain.returncode, "curl's status under the shim")
    check_eq(traced.out, plain.out, "curl's stdout under the shim")

    trace = sb.trace()
    trace.check_clean()
    cfile = trace.file(pid=traced.pid)
    connects = cfile.calls(fn="connect", addr="127.0.0.1:%d" % port)
    check(connects, "a connect to the closed port", trace=trace)
    refused = [e for e in connects if e.get("errno") == "ECONNREFUSED"]
    if not refused:
        # A non-blocking connect learns it later: SO_ERROR says how it ended.
        check(all(e.get("errno") == "EINPROGRESS" for e in connects),
              "connect failed with ECONNREFUSED or EINPROGRESS", connects)
        so_errors = [e for c in connects for e in cfile.fd_life(c, fn="getsockopt",
                                                                 opt="SO_ERROR")]
        refused = [e for e in so_errors if e.get("value") == "ECONNREFUSED"]
        check(refused, "SO_ERROR ECONNREFUSED after the EINPROGRESS connect",
              connects + so_errors)
    check(all(e["ret"] == -1 for e in connects), "connect returns -1", connects)


if __name__ == "__main__":
    sttest.main()
