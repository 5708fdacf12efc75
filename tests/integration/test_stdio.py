"""stdio on sockets (progs/stdio_client.c): glibc's stdio writes and reads
the descriptor with its own internal system calls, and the trace must
still hold every byte, as "write" and "read" records with "via":"stdio"
and "stdio" the function that moved them, paired by the viewer.

- talk: fprintf, fputs, fflush, fwrite, fputc, putc, putc_unlocked
  (inline, its slow path __overflow) and fflush(NULL) on one side;
  fgets, getline, fread until the end, fprintf, fwrite and fclose on the
  other; fgets, getc_unlocked (inline: __uflow), fread, fgetc back. The
  bytes in the trace are the bytes each side counted, both ways; both
  ends of file are records; fclose is each socket's close; the viewer
  pairs every data event; SOCKTRACE_PAYLOAD shows the bytes in order.
- threads: eight threads fprintf to one stream: the records add up to
  what the peer received (the stream is locked between the two looks at
  its buffer).
- exit: a child's stdout is the socket, and it exits with its printf
  still buffered: the shim flushes it, recorded ("stdio":"exit").
- broken: a flush to a reset connection fails, and so does its record.
All fail on a shim without stdio accounting: no record at all."""

import os
import subprocess

import sttest
from sttest import check, check_eq, prog
from test_sendfile import view_jsonl
from test_faults import tool

STDIO_FNS = ("write", "read", "close")


def numbers(text, *words):
    """The number after each word in the program's output."""
    toks = text.split()
    return tuple(int(toks[toks.index(w) + 1]) for w in words)


def stdio_calls(tf, **flt):
    return [e for e in tf.calls(**flt) if e.get("via") == "stdio"]


def sent_received(tf):
    writes = [e for e in stdio_calls(tf, fn="write") if e["ret"] > 0]
    reads = [e for e in stdio_calls(tf, fn="read") if e["ret"] > 0]
    return sttest.total(writes), sttest.total(reads)


def run(sb, mode, env=None):
    plain = sb.run([prog("stdio_client"), mode], traced=False)
    res = sb.run([prog("stdio_client"), mode], env=env)
    check_eq(sorted(res.out.splitlines()), sorted(plain.out.splitlines()),
             "what the program printed, with and without the shim")
    return res


def test_talk(sb):
    res = run(sb, "talk")
    c_sent, c_received = numbers(res.out.split("client")[1], "sent", "received")
    s_received, s_sent = numbers(res.out.split("server")[1], "received", "sent")
    check_eq((c_sent, c_received), (s_received, s_sent), "both sides agree: %r" % res.out)
    trace = sb.trace()
    trace.check_clean()
    client = trace.file(pid=res.pid)
    server = trace.file(ppid=res.pid)
    check_eq(sent_received(client), (c_sent, c_received), "the client's stdio bytes, "
             "written and read, in the trace", stdio_calls(client))
    check_eq(sent_received(server), (s_sent, s_received), "the server's stdio bytes, "
             "written and read, in the trace", stdio_calls(server))
    for tf, who in ((client, "client"), (server, "server")):
        calls = stdio_calls(tf)
        check({e["fn"] for e in calls} <= set(STDIO_FNS), "stdio records are writes, reads "
              "and closes", calls)
        eof = [e for e in calls if e["fn"] == "read" and e["ret"] == 0]
        check_eq(len(eof), 1, "the %s's end of file, one record" % who, calls)
        closes = [e for e in calls if e["fn"] == "close"]
        check_eq([(e["stdio"], e["ret"]) for e in closes], [("fclose", 0)] * 2,
                 "the %s's two fclose, each a close of its socket" % who, calls)
        check(all("peer" in e for e in calls), "every record has the connection's peer",
              calls)
    names = {e["stdio"] for e in stdio_calls(client, fn="write")}
    check(names >= {"fflush", "fwrite", "putc"}, "the client's flushes: explicit, by "
          "fwrite, by the inline putc_unlocked's __overflow, by fflush(NULL): %s" % names)
    events = view_jsonl(sb)
    data = [e for e in events if e.get("link") == "data"]
    unpaired = [e for e in data if e["seq"] not in sttest.paired_seqs(events)]
    check(data and not unpaired, "%d of %d data events not paired" % (len(unpaired),
                                                                       len(data)),
          unpaired[:6])
    st = subprocess.run([tool(), "stats", sb.out], capture_output=True, text=True, timeout=60)
    check_eq(st.returncode, 0, "socktrace stats")
    check("%d B" % c_sent in st.stdout and "%d B" % s_sent in st.stdout,
          "socktrace stats counts both ways:\n" + st.stdout)


def test_payload_in_order(sb):
    res = run(sb, "talk", env={"SOCKTRACE_PAYLOAD": "64"})
    trace = sb.trace()
    client = trace.file(pid=res.pid)
    server = trace.file(ppid=res.pid)
    writes = [e for e in stdio_calls(client, fn="write") if e["ret"] > 0]
    check_eq(writes[0].get("data"), "HELLO 42\nsecond line\n", "the first flush: what "
             "fprintf and fputs buffered", writes[:1])
    check_eq(len(writes[1].get("data", "")), 64, "fwrite's flush: a preview of 64 bytes",
             writes[1:2])
    check_eq(writes[1].get("data_cut"), writes[1]["bytes"] - 64, "data_cut: the rest",
             writes[1:2])
    reads = [e for e in stdio_calls(server, fn="read") if e["ret"] > 0]
    check(reads[0].get("data", "").startswith("HELLO 42\nsecond line\n"),
          "the server's first read starts where the client's bytes start", reads[:1])
    back = [e for e in stdio_calls(client, fn="read") if e["ret"] > 0]
    c_sent = numbers(res.out.split("client")[1], "sent")[0]
    check(back[0].get("data", "").startswith("got %d\n" % c_sent),
          "the client's first read: the server's fprintf", back[:1])
    replies = [e for e in stdio_calls(server, fn="write") if e["ret"] > 0]
    check_eq(replies[0].get("data_cut", 0) + len(replies[0].get("data", "")),
             replies[0]["bytes"], "data and data_cut add up to the bytes", replies[:1])


def test_threads_one_stream(sb):
    res = run(sb, "threads")
    received = numbers(res.out, "received")[0]
    tf = sb.trace().file(pid=res.pid)
    calls = stdio_calls(tf, fn="write")
    check_eq(sttest.total([e for e in calls if e["ret"] > 0]), received,
             "the stdio writes of eight threads add up to what the peer received", calls[-4:])
    check({e["stdio"] for e in calls} <= {"fprintf", "fclose"}, "flushed by fprintf or "
          "fclose", calls[:4])


def test_flushed_at_exit(sb):
    res = run(sb, "exit", env={"SOCKTRACE_PAYLOAD": "64"})
    received = numbers(res.out, "received")[0]
    child = sb.trace().file(ppid=res.pid)
    calls = stdio_calls(child)
    check_eq([(e["fn"], e["stdio"], e["ret"]) for e in calls], [("write", "exit", received)],
             "the child's printf, puts and putchar, flushed at its exit", calls)
    check_eq(calls[0].get("data"), "hello from the child\nand goodbye\n!", "what it sent",
             calls)


def test_failed_flush(sb):
    res = run(sb, "broken")
    check(res.out.startswith("fflush -1 "), "the flush failed: %r" % res.out)
    err = res.out.split()[2]
    tf = sb.trace().file(pid=res.pid)
    calls = stdio_calls(tf, fn="write")
    check_eq([(e["stdio"], e["ret"], e.get("errno"), e.get("len")) for e in calls],
             [("fflush", -1, err, len("too late\n"))],
             "one failed write, with the program's errno and the bytes stdio tried", calls)


if __name__ == "__main__":
    sttest.main()
