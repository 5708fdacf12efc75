"""sendfile and splice on sockets: the kernel moves the bytes from file or
pipe to socket (and socket to pipe) without their passing through the
program, and the trace must still hold every one of them, paired by the
viewer with the other side's calls and counted by `socktrace stats`.

- splice_send (progs/splice_send.c): a file spliced through a pipe into a
  TCP socket, and on the other side (a forked child) from the socket into
  a pipe and a file. Only the two splices that touch the socket are
  traced; "dir" says which way each went.
- splice_send --sendfile: the same file sent with the plain sendfile
  symbol, first from the file's own offset, then from an offset pointer.
- Python's socket.sendfile (os.sendfile, the sendfile64 symbol) to a
  receiving thread; sendfile through syscall(2) ("via":"syscall").
- Data faults: short= on sendfile (Python loops over short sends), short=
  on the group "sends" (acts on the splices that write, not on those that
  read) and "receives" (the other way), reset and delay= on splice, error=
  on the first sendfile (Python falls back to send), and a corrupt= rule
  naming sendfile, refused before the program starts.
- SOCKTRACE_PAYLOAD: no "data" (the bytes were never in the program's
  memory), data_cut saying every byte was left out."""

import hashlib
import json
import os
import subprocess

import sttest
from sttest import check, check_eq, prog
from test_faults import PY, check_fault, faults, run_py, tool

SIZE = 1000003  # not a multiple of any chunk size

# Sends the file named by argv[1] with socket.sendfile over TCP on
# loopback to a thread that receives it; prints what each side counted.
PY_SENDFILE = r"""
import hashlib, socket, sys, threading
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
got = hashlib.sha256()
count = [0]
def receive():
    while True:
        d = s.recv(65536)
        if not d:
            break
        got.update(d)
        count[0] += len(d)
t = threading.Thread(target=receive)
t.start()
with open(sys.argv[1], "rb") as f:
    sent = c.sendfile(f)
c.close()
t.join()
print("sent %d received %d %s" % (sent, count[0], got.hexdigest()))
"""


def make_file(sb, size=SIZE):
    data = os.urandom(size)
    path = os.path.join(sb.dir, "in.bin")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def view_jsonl(sb):
    r = subprocess.run([tool(), "view", "-f", "jsonl", sb.out], capture_output=True,
                       timeout=60)
    check_eq(r.returncode, 0, "socktrace view -f jsonl (stderr: %r)" % r.stderr[-1000:])
    return [json.loads(line) for line in r.stdout.splitlines()]


def check_paired(sb, size, fns):
    """In the viewer's model: one TCP connection whose every data call
    (fns among them) is paired with the other side's, and size bytes each
    side of it, one way. `socktrace stats` counts them too."""
    events = view_jsonl(sb)
    linked = sttest.paired_seqs(events)
    data = [e for e in events if e.get("link") == "data"]
    check(data, "data events in the viewer's model")
    check({e["fn"] for e in data} >= set(fns), "the viewer's data events include %s" % (fns,),
          data[:4])
    unpaired = [e for e in data if e["seq"] not in linked]
    check(not unpaired, "%d data events not paired" % len(unpaired), unpaired[:6])
    conns = {e["conn"] for e in data}
    check_eq(len(conns), 1, "connections that carried data", data[:4])
    sent = sum(e.get("bytes", 0) for e in data if e["side"] == "client")
    received = sum(e.get("bytes", 0) for e in data if e["side"] == "server")
    check_eq((sent, received), (size, size), "bytes the client sent and the server received")
    st = subprocess.run([tool(), "stats", sb.out], capture_output=True, text=True, timeout=60)
    check_eq(st.returncode, 0, "socktrace stats")
    rows = [line.split() for line in st.stdout.splitlines() if line.startswith("c")]
    tcp = [r for r in rows if len(r) > 1 and r[1] == "tcp"]
    check_eq(len(tcp), 1, "one tcp connection in socktrace stats:\n" + st.stdout)
    check("%d B" % size in " ".join(tcp[0]), "socktrace stats counts %d bytes client->server:\n%s"
          % (size, st.stdout))
    return events


def test_splice_both_ways(sb):
    """A file spliced into a socket and out of it again: the sender's
    socket splices are sends ("dir":"out", fd_in the pipe), the
    receiver's receives ("dir":"in"), each side's bytes the file's size;
    the splices between file and pipe are not traced."""
    src, data = make_file(sb)
    dst = os.path.join(sb.dir, "out.bin")
    res = sb.run([prog("splice_send"), src, dst])
    check_eq(sorted(res.out.split("\n")), ["", "received %d" % SIZE, "sent %d" % SIZE],
             "what splice_send printed")
    with open(dst, "rb") as f:
        check(f.read() == data, "the copy equals the file")

    trace = sb.trace()
    trace.check_clean()
    parent = trace.file(pid=res.pid)
    child = trace.file(ppid=res.pid)
    connect = parent.calls(fn="connect")[0]
    out = parent.calls(fn="splice")
    check(out, "the sender's splices are traced", parent.records[-10:])
    for e in out:
        check_eq((e["fd"], e["dir"], e["flags"]), (connect["fd"], "out",
                                                 "SPLICE_F_MOVE|SPLICE_F_MORE"),
                 "a sender's splice: on the connected socket, writing it", [e])
        check("fd_in" in e and "fd_out" not in e, "the pipe it read is fd_in", [e])
        check_eq(e["peer"], connect["peer"], "the splice's peer", [e])
    check_eq(sttest.total(out), SIZE, "bytes the sender spliced into the socket", out[-3:])
    accept = parent.calls(fn="accept")[0]
    inn = child.calls(fn="splice")
    for e in inn:
        check_eq((e["fd"], e["dir"], e["flags"]), (accept["ret"], "in", "SPLICE_F_MOVE"),
                 "a receiver's splice: on the accepted socket, reading it", [e])
        check("fd_out" in e and "fd_in" not in e, "the pipe it wrote is fd_out", [e])
    check_eq(sttest.total(inn), SIZE, "bytes the receiver spliced out of the socket", inn[-3:])
    check_eq(inn[-1]["ret"], 0, "the receiver's last splice: end of stream", inn[-1:])
    check("data" not in inn[0] and "data_cut" not in inn[0], "no payload without "
          "SOCKTRACE_PAYLOAD", inn[:1])
    check_paired(sb, SIZE, ("splice",))


def test_sendfile_plain_symbol(sb):
    """The plain sendfile symbol (no _FILE_OFFSET_BITS): the first call,
    without an offset pointer, has no "offset"; the others start where
    the one before ended."""
    check("sendfile" in sttest.nm_imports(prog("splice_send")),
          "splice_send imports the plain sendfile symbol")
    src, data = make_file(sb)
    dst = os.path.join(sb.dir, "out.bin")
    res = sb.run([prog("splice_send"), "--sendfile", src, dst])
    check_eq(sorted(res.out.split("\n")), ["", "received %d" % SIZE, "sent %d" % SIZE],
             "what splice_send printed")
    with open(dst, "rb") as f:
        check(f.read() == data, "the copy equals the file")
    trace = sb.trace()
    sends = trace.file(pid=res.pid).calls(fn="sendfile")
    check(len(sends) >= 2, "sendfile calls traced", sends)
    check("offset" not in sends[0], "no offset for a call without an offset pointer", sends[:1])
    at = sends[0]["bytes"]
    for e in sends[1:]:
        check_eq(e.get("offset"), at, "offset of a sendfile: where the last one ended", [e])
        check_eq(e["in_fd"], sends[0]["in_fd"], "in_fd", [e])
        at += e["bytes"]
    check_eq(sttest.total(sends), SIZE, "bytes sent by sendfile")
    check_eq(sends[-1]["ret"], 0, "the last sendfile: end of file", sends[-1:])
    check_paired(sb, SIZE, ("sendfile",))


def test_python_socket_sendfile(sb):
    """socket.sendfile: the receiving thread gets every byte, and the
    trace shows them sent by sendfile64 and received by recv."""
    src, data = make_file(sb)
    res = run_py(sb, PY_SENDFILE, src)
    check_eq(res.out.strip(), "sent %d received %d %s" % (SIZE, SIZE,
                                                        hashlib.sha256(data).hexdigest()),
             "what the Python program counted")
    trace = sb.trace()
    sends = trace.calls(fn=("sendfile", "sendfile64"))
    check(sends, "socket.sendfile's calls traced", trace.calls()[-10:])
    check_eq(sttest.total(sends), SIZE, "bytes sent by sendfile", sends[-3:])
    check(all("offset" in e for e in sends), "Python passes an offset: each record has it", sends)
    check_eq(sttest.total(trace.calls(fn="recv")), SIZE, "bytes the thread received")
    check_paired(sb, SIZE, (sends[0]["fn"],))


# sendfile through syscall(2), as a program that bypasses libc's wrapper
# makes it: SYS_sendfile of this machine, then what the peer received.
PY_SYSCALL_SENDFILE = r"""
import ctypes, os, socket, sys
nr = int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
a, b = socket.socketpair()
size = os.path.getsize(sys.argv[1])
fd = os.open(sys.argv[1], os.O_RDONLY)
n = libc.syscall(ctypes.c_long(nr), ctypes.c_long(a.fileno()), ctypes.c_long(fd),
                 ctypes.c_void_p(None), ctypes.c_long(size))
a.close()
got = b""
while True:
    d = b.recv(65536)
    if not d:
        break
    got += d
print("sent %d received %d" % (n, len(got)))
"""


def test_sendfile_through_syscall(sb):
    """syscall(SYS_sendfile, ...) is traced as sendfile, with "via"."""
    nr = {"x86_64": 40, "aarch64": 71}.get(os.uname().machine)
    if nr is None:
        sttest.skip("SYS_sendfile's number on %s is not known here" % os.uname().machine)
    src, _ = make_file(sb, 30000)
    res = run_py(sb, PY_SYSCALL_SENDFILE, src, nr)
    check_eq(res.out.strip(), "sent 30000 received 30000", "what the program counted")
    sends = sb.trace().calls(fn="sendfile")
    check_eq(len(sends), 1, "one sendfile record", sends)
    check_eq((sends[0].get("via"), sends[0]["bytes"]), ("syscall", 30000), "via and bytes",
             sends)


def test_sendfile_short(sb):
    """short=1000 on sendfile: each call moves at most 1000 bytes (the
    kernel was asked for no more), Python's loop sends the rest, and the
    receiver still gets the whole file."""
    size = 50000
    src, data = make_file(sb, size)
    res = run_py(sb, PY_SENDFILE, src, env=faults("sendfile short=1000"))
    check_eq(res.out.strip(), "sent %d received %d %s" % (size, size,
                                                        hashlib.sha256(data).hexdigest()),
             "what the Python program counted")
    sends = sb.trace().calls(fn=("sendfile", "sendfile64"))
    check(len(sends) >= size // 1000, "one sendfile per 1000 bytes at least: %d" % len(sends))
    for e in sends:
        check(e["bytes"] <= 1000, "a sendfile moved at most 1000 bytes", [e])
        f = check_fault(e, "short", True, text="sendfile short=1000")
        if e["len"] > 1000:
            check_eq((f.get("asked"), f.get("allowed")), (e["len"], 1000), "asked and allowed",
                     [e])
    check_eq(sttest.total(sends), size, "bytes sent by sendfile")
    check_paired(sb, size, (sends[0]["fn"],))


def test_splice_short_by_group(sb):
    """short=1000 on the group sends: the splices that write to the socket
    are cut, those that read from it are not; receives: the other way."""
    src, data = make_file(sb, 200000)
    for group, cut, whole in (("sends", "out", "in"), ("receives", "in", "out")):
        sb.out = os.path.join(sb.dir, "trace-" + group)
        dst = os.path.join(sb.dir, "out-%s.bin" % group)
        res = sb.run([prog("splice_send"), src, dst], env=faults("%s short=1000" % group))
        check_eq(sorted(res.out.split("\n")), ["", "received 200000", "sent 200000"],
                 "what splice_send printed with %s short=1000" % group)
        with open(dst, "rb") as f:
            check(f.read() == data, "the copy equals the file (%s short=1000)" % group)
        splices = sb.trace().calls(fn="splice")
        for e in splices:
            if e["dir"] == cut:
                check(e["bytes"] <= 1000, "%s short=1000: a splice %s cut" % (group, cut), [e])
                check_fault(e, "short", True)
            else:
                check("fault" not in e, "%s short=1000: a splice %s untouched" % (group, whole),
                      [e])
        check(any(e["dir"] == whole and e["bytes"] > 1000 for e in splices),
              "%s short=1000: splices %s of more than 1000 bytes" % (group, whole))
        check_paired(sb, 200000, ("splice",))


def test_splice_reset(sb):
    """reset on the third splice that writes: the sender's splice fails with
    ECONNRESET, and the receiver's kernel reports the reset for real to
    its splice (no fault there). delay= on the first: made, delayed."""
    src, _ = make_file(sb, 500000)
    res = sb.run([prog("splice_send"), src, os.path.join(sb.dir, "out.bin")],
                 env=faults("sends reset when=3", "splice delay=1ms when=1"), check_rc=False)
    check_eq(res.returncode, 1, "splice_send's status after the reset\n" + res.explain())
    check("Connection reset" in res.err, "splice_send says why: %r" % res.err)
    trace = sb.trace()
    out = trace.file(pid=res.pid).calls(fn="splice")
    check_eq(len(out), 3, "the sender's splices: two, then the one reset", out)
    f = check_fault(out[0], "delay", True, text="splice when=1 delay=1ms")
    check(f.get("delay_ns", 0) > 0, "the delay it had", out[:1])
    check_eq(out[2].get("errno"), "ECONNRESET", "the third splice's errno", out[2:])
    check_fault(out[2], "reset", False, text="sends when=3 reset")
    got = trace.file(ppid=res.pid).calls(fn="splice")
    check_eq(got[-1].get("errno"), "ECONNRESET", "the receiver's last splice", got[-1:])
    check("fault" not in got[-1], "the receiver's reset came from its kernel", got[-1:])


def test_sendfile_error_falls_back(sb):
    """The first sendfile fails with an injected EINVAL (the errno of a file
    sendfile cannot read): socket.sendfile gives up on it and sends with
    send, and the receiver still gets everything."""
    size = 30000
    src, data = make_file(sb, size)
    res = run_py(sb, PY_SENDFILE, src, env=faults("sendfile error=EINVAL when=1"))
    check_eq(res.out.strip(), "sent %d received %d %s" % (size, size,
                                                        hashlib.sha256(data).hexdigest()),
             "what the Python program counted")
    trace = sb.trace()
    sends = trace.calls(fn=("sendfile", "sendfile64"))
    check_eq(len(sends), 1, "one sendfile, then none", sends)
    check_eq(sends[0].get("errno"), "EINVAL", "its errno", sends)
    check_fault(sends[0], "error", False)
    check_eq(sttest.total(trace.calls(fn="send")), size, "bytes sent by send instead")


def test_sendfile_corrupt_refused(sb):
    """corrupt= cannot change bytes the kernel copies: a rule naming
    sendfile is refused and the program does not start."""
    src, _ = make_file(sb, 1000)
    res = run_py(sb, PY_SENDFILE, src, env=faults("sendfile corrupt=1"), check_rc=False)
    check_eq(res.returncode, 125, "status of a program whose rules are refused\n" +
             res.explain())
    check("sendfile has none" in res.err, "the shim says why: %r" % res.err[-500:])


def test_payload_not_seen(sb):
    """With SOCKTRACE_PAYLOAD the records have no data (the bytes never were
    in memory the shim can read) and data_cut says all were left out."""
    src, _ = make_file(sb, 20000)
    run_py(sb, PY_SENDFILE, src, env={"SOCKTRACE_PAYLOAD": "64"})
    trace = sb.trace()
    sends = trace.calls(fn=("sendfile", "sendfile64"), bytes=lambda b: b > 0)
    check(sends, "sendfile calls that moved bytes")
    for e in sends:
        check("data" not in e, "no data in a sendfile record", [e])
        check_eq(e.get("data_cut"), e["bytes"], "data_cut: every byte left out", [e])
    recvs = trace.calls(fn="recv", bytes=lambda b: b > 0)
    check(all("data" in e for e in recvs), "the receives have their data", recvs[:2])


if __name__ == "__main__":
    sttest.main()
