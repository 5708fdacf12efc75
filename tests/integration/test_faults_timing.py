"""Faults about time: hang (until the socket's own timeout, for a given
time, or at once on a non-blocking socket), delay and jitter, and the
after=/for= windows. Only lower bounds are checked on durations, and only
where the fault imposes them."""

import sttest
from sttest import check, check_eq
from test_faults import (check_fault, curl_argv, faulted, faults, run_py, start_http_server,
                         unfaulted)

# A connected pair inside one process; the client's receive is the call
# under test. argv: MODE [SECONDS]. Prints what the receive did and how
# long it took.
RECV_PROBE = r"""
import errno, socket, struct, sys, time
mode = sys.argv[1]
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 0
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
if mode != "timeout-nodata":
    a.sendall(b"data")
    time.sleep(0.05)   # the bytes are in c's receive queue
if mode.startswith("timeout"):
    c.settimeout(secs)
elif mode == "rcvtimeo":
    sec = int(secs)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                 struct.pack("ll", sec, int((secs - sec) * 1e6)))
elif mode == "nonblock":
    c.setblocking(False)
t = time.monotonic()
try:
    d = c.recv(100)
    print("data", d.decode(), "%.6f" % (time.monotonic() - t))
except socket.timeout:
    print("timeout", "%.6f" % (time.monotonic() - t))
except OSError as e:
    print(errno.errorcode[e.errno], "%.6f" % (time.monotonic() - t))
if mode == "nonblock":
    # The bytes were there all along: the next receive gets them.
    print("then", c.recv(100).decode())
"""

# Connects to a listener of its own. argv: blocking|nonblocking.
CONNECT_PROBE = r"""
import errno, select, socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
s = socket.socket()
if sys.argv[1] == "blocking":
    t = time.monotonic()
    try:
        s.connect(l.getsockname())
        print("connected", "%.6f" % (time.monotonic() - t))
    except OSError as e:
        print(errno.errorcode[e.errno], "%.6f" % (time.monotonic() - t))
else:
    s.setblocking(False)
    rc = s.connect_ex(l.getsockname())
    print(errno.errorcode.get(rc, rc))
    p = select.poll()
    p.register(s, select.POLLOUT)
    t = time.monotonic()
    events = p.poll(300)
    print("poll", events and events[0][1], "%.6f" % (time.monotonic() - t))
    print("so_error", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
"""


def probe(sb, code, rule, *args, timeout=sttest.RUN_TIMEOUT_S, **kw):
    res = run_py(sb, code, *args, env=faults(rule) if rule else None, timeout=timeout, **kw)
    lines = res.out.split("\n")
    first = lines[0].split()
    return res, first[0], float(first[-1]) if len(first) > 1 else None, lines[1:]


def one_fault(sb, res, fn, rule=None):
    tf = sb.trace().file(pid=res.pid)
    evs = faulted(tf.calls(fn=fn))
    check_eq(len(evs), 1, "faulted %s calls" % (fn,), evs or tf.calls(fn=fn))
    if rule is not None:
        check_eq(evs[0]["fault"]["text"], rule, "fault.text", evs)
    return evs[0]


def test_recv_hang_settimeout_with_data(sb):
    """socket.settimeout(0.5) (a non-blocking socket polled by Python) with
    data waiting: under `recv hang` every receive says EAGAIN and Python
    reports socket.timeout after the 0.5 s, never the data."""
    # Python retries as long as poll says readable: not traced, or the
    # trace would hold hundreds of thousands of receives.
    res, what, elapsed, _ = probe(sb, RECV_PROBE, "recv hang", "timeout", 0.5,
                                  out="off")
    check_eq(what, "timeout", "what the receive did\n" + res.explain())
    check(elapsed >= 0.49, "timed out after %.3f s, expected at least 0.5" % elapsed)
    check_eq(sttest.Trace(sb.out).files, [], "no trace with SOCKTRACE_OUT=off")

    # The same traced, with a short timeout: every receive was faulted.
    res, what, elapsed, _ = probe(sb, RECV_PROBE, "recv hang", "timeout", 0.02)
    check_eq(what, "timeout", "what the receive did (traced)\n" + res.explain())
    recvs = sb.trace().file(pid=res.pid).calls(fn=("recv", "__recv_chk"))
    check(recvs, "receives in the trace")
    check_eq(unfaulted(recvs), [], "receives without a fault")
    for n, e in enumerate(recvs[:50], 1):
        check_fault(e, "hang", False, "SOCKTRACE_FAULTS:1", "recv hang", nth=n)
        check_eq((e["ret"], e.get("errno")), (-1, "EAGAIN"), "a hung non-blocking receive", [e])
        check("waited_ns" not in e["fault"], "a non-blocking hang does not wait", [e])


def test_recv_hang_settimeout_no_data(sb):
    """settimeout(0.5) and nothing sent: socket.timeout after 0.5 s, as
    without the fault; whatever receive happens is a hung one."""
    res, what, elapsed, _ = probe(sb, RECV_PROBE, "recv hang", "timeout-nodata", 0.5)
    check_eq(what, "timeout", "what the receive did\n" + res.explain())
    check(elapsed >= 0.49, "timed out after %.3f s, expected at least 0.5" % elapsed)
    recvs = sb.trace().file(pid=res.pid).calls(fn=("recv", "__recv_chk"))
    check_eq(unfaulted(recvs), [], "receives without a fault")


def test_recv_hang_so_rcvtimeo(sb):
    """A blocking socket with SO_RCVTIMEO 0.5 s and data waiting: the hung
    receive fails with EAGAIN after the socket's timeout."""
    res, what, elapsed, _ = probe(sb, RECV_PROBE, "recv hang", "rcvtimeo", 0.5)
    check_eq(what, "EAGAIN", "what the receive did\n" + res.explain())
    check(elapsed >= 0.5, "failed after %.3f s, expected at least 0.5" % elapsed)
    e = one_fault(sb, res, ("recv", "__recv_chk"), "recv hang")
    check_fault(e, "hang", False, nth=1)
    check_eq((e["ret"], e.get("errno")), (-1, "EAGAIN"), "the receive's result", [e])
    check(e["fault"].get("waited_ns", 0) >= 500000000, "fault.waited_ns >= 0.5 s", [e])
    check(e["dur"] >= 500000000, "the receive lasted at least 0.5 s", [e])


def test_recv_hang_duration(sb):
    """hang=300ms on a plain blocking socket with data waiting: EAGAIN
    after 300 ms."""
    rule = "recv hang=300ms"
    res, what, elapsed, _ = probe(sb, RECV_PROBE, rule, "plain")
    check_eq(what, "EAGAIN", "what the receive did\n" + res.explain())
    check(elapsed >= 0.3, "failed after %.3f s, expected at least 0.3" % elapsed)
    e = one_fault(sb, res, ("recv", "__recv_chk"), rule)
    check_fault(e, "hang", False)
    check(e["fault"].get("waited_ns", 0) >= 300000000, "fault.waited_ns >= 300 ms", [e])


def test_recv_hang_nonblocking(sb):
    """A non-blocking socket: the hung receive says EAGAIN at once (the
    rule hangs for ever otherwise), and the data was there all along."""
    rule = "recv when=1 hang"
    res, what, _, rest = probe(sb, RECV_PROBE, rule, "nonblock", timeout=10)
    check_eq(what, "EAGAIN", "what the receive did\n" + res.explain())
    check_eq(rest[0], "then data", "the next receive\n" + res.explain())
    tf = sb.trace().file(pid=res.pid)
    recvs = tf.calls(fn=("recv", "__recv_chk"))
    check_eq(len(recvs), 2, "receives", recvs)
    check_fault(recvs[0], "hang", False, "SOCKTRACE_FAULTS:1", rule, nth=1)
    check_eq((recvs[0]["ret"], recvs[0].get("errno")), (-1, "EAGAIN"), "the hung receive",
             recvs)
    check("waited_ns" not in recvs[0]["fault"], "no wait on a non-blocking socket", recvs)
    check("fault" not in recvs[1] and recvs[1]["ret"] == 4, "the second receive is real",
          recvs)


def test_connect_hang_blocking(sb):
    """connect hang=300ms on a blocking socket, listener present: the
    connect fails with ETIMEDOUT after at least 300 ms."""
    rule = "connect hang=300ms"
    res, what, elapsed, _ = probe(sb, CONNECT_PROBE, rule, "blocking")
    check_eq(what, "ETIMEDOUT", "what connect did\n" + res.explain())
    check(elapsed >= 0.3, "failed after %.3f s, expected at least 0.3" % elapsed)
    e = one_fault(sb, res, "connect", rule)
    check_fault(e, "hang", False, "SOCKTRACE_FAULTS:1", nth=1)
    check_eq((e["ret"], e.get("errno")), (-1, "ETIMEDOUT"), "connect's result", [e])
    check(e["dur"] >= 300000000, "connect lasted at least 300 ms", [e])
    check(e["fault"].get("waited_ns", 0) >= 300000000, "fault.waited_ns >= 300 ms", [e])


def test_connect_hang_nonblocking(sb):
    """A non-blocking connect under hang: EINPROGRESS, and then nothing:
    poll does not report it writable, SO_ERROR stays 0 (a connection whose
    SYNs are lost)."""
    res, what, _, rest = probe(sb, CONNECT_PROBE, "connect hang", "nonblocking", timeout=10)
    check_eq(what, "EINPROGRESS", "what connect did\n" + res.explain())
    poll = rest[0].split()
    check_eq(poll[1], "[]", "poll's events after the hung connect (none)\n" + res.explain())
    check(float(poll[2]) >= 0.3, "poll waited its 300 ms: %s" % rest[0])
    check_eq(rest[1], "so_error 0", "SO_ERROR after the poll")
    e = one_fault(sb, res, "connect", "connect hang")
    check_fault(e, "hang", False, nth=1)
    check_eq((e["ret"], e.get("errno")), (-1, "EINPROGRESS"), "connect's result", [e])


NB_CONNECT6 = r"""
import errno, select, socket, sys, time
l = socket.socket(socket.AF_INET6)
l.bind(("::1", 0))
l.listen(4)
s = socket.socket(socket.AF_INET6)
if sys.argv[1] == "v6only":
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.setblocking(False)
rc = s.connect_ex(l.getsockname()[:2])
print(errno.errorcode.get(rc, rc))
p = select.poll()
p.register(s, select.POLLOUT)
print(p.poll(300), s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
"""


def test_connect_hang_nonblocking_ipv6(sb):
    """The same on IPv6 sockets, with and without IPV6_V6ONLY: EINPROGRESS,
    then nothing for poll to report."""
    if not sttest.ipv6_loopback_usable():
        sttest.skip("no IPv6 loopback")
    for mode in ("dual", "v6only"):
        res = run_py(sb, NB_CONNECT6, mode, env=faults("connect hang"), timeout=10)
        check_eq(res.out.splitlines(), ["EINPROGRESS", "[] 0"],
                 "connect, then poll's events and SO_ERROR, on an IPv6 socket (%s)" % mode)


def test_connect_delay_curl(sb):
    """delay=200ms on curl's connect: the connect event lasts at least
    200 ms and so does curl's own time to connect."""
    port, _server = start_http_server(sb, {"page.txt": b"hello\n"})
    rule = "connect port=%d delay=200ms" % port
    res = sb.run(curl_argv("http://127.0.0.1:%d/page.txt" % port, "-o", "/dev/null",
                           "-w", "%{time_connect}"), env=faults(rule))
    check(float(res.out) >= 0.2, "curl's time_connect %s, expected at least 0.2" % res.out)
    e = one_fault(sb, res, "connect", rule)
    check_fault(e, "delay", True, "SOCKTRACE_FAULTS:1", nth=1)
    check_eq(e["fault"].get("delay_ns"), 200000000, "fault.delay_ns", [e])
    check(e["dur"] >= 200000000, "connect lasted at least 200 ms", [e])
    check(e["ret"] == 0 or e.get("errno") == "EINPROGRESS", "the real connect ran", [e])


JITTER_CONNECTS = r"""
import socket
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(16)
for _ in range(8):
    socket.create_connection(l.getsockname()).close()
"""


def test_delay_jitter_seeded(sb):
    """delay=20ms jitter=10ms: each delay lies in 10..30 ms, they vary,
    each connect lasts at least its delay, and the same seed gives the
    same delays."""
    rule = "connect delay=20ms jitter=10ms"
    runs = []
    for _ in range(2):
        res = run_py(sb, JITTER_CONNECTS, env=faults(rule, seed=77))
        connects = sb.trace().file(pid=res.pid).calls(fn="connect")
        check_eq(len(connects), 8, "connects", connects)
        for e in connects:
            f = check_fault(e, "delay", True, text=rule)
            check(10000000 <= f.get("delay_ns", 0) <= 30000000, "delay within 20 ms +- 10 ms",
                  [e])
            check(e["dur"] >= f["delay_ns"], "connect lasted at least its delay", [e])
        runs.append([e["fault"]["delay_ns"] for e in connects])
    check(len(set(runs[0])) > 1, "the delays vary: %s" % runs[0])
    check_eq(runs[1], runs[0], "delays with the same seed")


def test_getaddrinfo_hang(sb):
    """getaddrinfo hang=300ms: the lookup fails with EAI_AGAIN after at
    least 300 ms; another name is untouched."""
    rule = "getaddrinfo host=localhost hang=300ms"
    code = ("import socket, time\n"
            "for name in ('localhost', '127.0.0.1'):\n"
            "    t = time.monotonic()\n"
            "    try:\n"
            "        socket.getaddrinfo(name, 80)\n"
            "        print(name, 'ok')\n"
            "    except socket.gaierror as e:\n"
            "        print(name, 'EAI_AGAIN' if e.errno == socket.EAI_AGAIN else e.errno,\n"
            "              '%.6f' % (time.monotonic() - t))\n")
    res = run_py(sb, code, env=faults(rule))
    lines = res.out.splitlines()
    check_eq(lines[0].split()[:2], ["localhost", "EAI_AGAIN"], "the hung lookup\n" + res.out)
    check(float(lines[0].split()[2]) >= 0.3, "it failed after at least 300 ms: " + lines[0])
    check_eq(lines[1], "127.0.0.1 ok", "the other lookup")
    gai = sb.trace().file(pid=res.pid).calls(fn="getaddrinfo")
    check_fault(gai[0], "hang", False, text=rule, nth=1)
    check_eq(gai[0].get("errno"), "EAI_AGAIN", "the hung lookup's error", gai)
    check(gai[0]["fault"].get("waited_ns", 0) >= 300000000, "fault.waited_ns", gai)
    check("fault" not in gai[1], "the other lookup is untouched", gai)


# Sends 4 bytes every 50 ms for 1.6 s; prints what each send returned.
TIMED_SENDS = r"""
import socket, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
c = socket.create_connection(l.getsockname())
t0 = time.monotonic()
out = []
while time.monotonic() - t0 < 1.6:
    out.append(c.send(b"abcd"))
    time.sleep(0.05)
print(" ".join(map(str, out)))
"""


def test_after_for_window(sb):
    """after=700ms for=500ms: sends before 700 ms and from 1.2 s on (since
    the process started) are untouched, those between are short."""
    rule = "send after=700ms for=500ms short=1"
    res = run_py(sb, TIMED_SENDS, env=faults(rule))
    seen = [int(n) for n in res.out.split()]
    tf = sb.trace().file(pid=res.pid)
    start = tf.header["start"]
    sends = tf.calls(fn=("send", "sendto"))
    check_eq([e.get("bytes") for e in sends], seen, "bytes in the trace vs what send returned",
             sends)
    regions = {"before": 0, "inside": 0, "after": 0}
    for e in sends:
        t = e["ts"] - start
        inside = 700000000 <= t < 1200000000
        regions["before" if t < 700000000 else "inside" if inside else "after"] += 1
        if inside:
            check_fault(e, "short", True, text=rule)
            check_eq(e["bytes"], 1, "a send inside the window is short", [e])
        else:
            check("fault" not in e and e["bytes"] == 4,
                  "a send %.3f s after start is untouched" % (t / 1e9), [e])
    for name, n in regions.items():
        check(n > 0, "sends %s the window: %s" % (name, regions), sends)
    nths = [e["fault"]["nth"] for e in faulted(sends)]
    check_eq(nths, list(range(1, len(nths) + 1)), "the window's sends count from 1")


if __name__ == "__main__":
    sttest.main()
