#!/usr/bin/env python3
"""Traces from standard input, pipes, FIFOs and compressed files: `view`,
`stats`, `assert`, `report` and `cat` on a trace recorded now give the
same output from its directory, from `- ` fed by `cat`, `gzip -c` and
`zstd -c`, from a FIFO, from a process substitution, from .gz and .zst
files (named so or not: the bytes tell) and directories of them, and
from a gzip file of two members. A .gz and a .zst cut at 60 % are read up
to the cut, as the plain trace cut there is, with the same exit status
and a message saying the compressed data are cut short. Traces joined in
one stream or file (`socktrace cat DIR | socktrace view -`, `cat
DIR/*.trace | ...`, JSON Lines files joined into one, gzip of that,
JSON Lines and binary mixed) read as the directory does, each trace
with its own process, nothing skipped. Needs gzip and
zstd (Debian packages gzip, zstd)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib

from test_live import start as start_server  # tcp_server under run, its port

TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
SAMPLES = os.environ.get("SOCKTRACE_SAMPLES", "")
HERE = os.path.dirname(os.path.abspath(__file__))
failures = []

SCENARIO = """\
expect connect prog=tcp_client succeeds
expect recv prog=tcp_server bytes>=1
expect send prog=tcp_client count>=5
"""

# The commands compared, each with its arguments before TRACE...
COMMANDS = {
    "view-text": ["view", "-f", "text", "--width", "120", "--color", "never"],
    "view-jsonl": ["view", "-f", "jsonl"],
    "view-mermaid": ["view", "-f", "mermaid"],
    "stats": ["stats"],
    "stats-json": ["stats", "--json"],
    "assert": ["assert", "--color", "never", "@SCN"],
    "report": ["report", "--format=markdown", "--scenario", "@SCN"],
    "report-junit": ["report", "--format=junit", "--scenario", "@SCN"],
    "cat": ["cat"],
}


def expect(cond, what, detail=""):
    if not cond:
        failures.append(what + ("\n    " + str(detail).strip().replace("\n", "\n    ")
                                if detail else ""))


def normalise(text):
    """What names the input: the trace given, and where an event is
    (`(pid N, FILE:LINE)`, which is stdin:LINE from standard input)."""
    text = re.sub(r"^Trace: (`[^`]*` ?)+", "Trace: `T`", text, flags=re.M)
    text = re.sub(r'( *<property name="trace" value="[^"]*"/>\n)+',
                  '<property name="trace" value="T"/>\n', text)
    text = re.sub(r"\(pid (\d+), [^,():]+(?: \(trace \d+\))?:(\d+)\)", r"(pid \1, FILE:\2)",
                  text)
    # When the report was made (JUnit's timestamp): the second may turn.
    text = re.sub(r' timestamp="[^"]*"', ' timestamp="T"', text)
    return text


def run(args, stdin=None, inputs=(), scn="", shell=None):
    """The tool with args (@SCN the scenario) and inputs; stdin: bytes or
    a file; shell: a bash command line instead ($T is the tool)."""
    argv = [TOOL] + [scn if a == "@SCN" else a for a in args] + list(inputs)
    env = dict(os.environ, T=TOOL)
    env.pop("NO_COLOR", None)
    if shell is not None:
        argv = ["bash", "-c", shell % {"cmd": " ".join(shq(a) for a in argv)}]
    if isinstance(stdin, (bytes, type(None))):
        p = subprocess.run(argv, input=stdin if stdin is not None else b"", capture_output=True,
                           env=env, timeout=120)
    else:
        p = subprocess.run(argv, stdin=stdin, capture_output=True, env=env, timeout=120)
    return p.returncode, normalise(p.stdout.decode(errors="replace")), \
        p.stderr.decode(errors="replace")


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def record(out):
    """The TCP sample, server and client, in binary trace files."""
    srv, port = start_server(out, os.path.join(SAMPLES, "tcp_server"))
    subprocess.run([TOOL, "run", "-q", "-o", out, "-p", "32", "--",
                    os.path.join(SAMPLES, "tcp_client"), "127.0.0.1", port, "streams"],
                   check=True, capture_output=True, timeout=30)
    assert srv.wait(timeout=30) == 0
    names = sorted(os.listdir(out))
    client = [n for n in names if n.startswith("tcp_client.")]
    server = [n for n in names if n.startswith("tcp_server.")]
    assert len(client) == 1 and len(server) == 1, names
    return os.path.join(out, client[0]), os.path.join(out, server[0])


def record_big(out):
    """A process making some 12,000 calls on a socketpair, so that its
    compressed file holds many zstd blocks."""
    code = ("import socket\n"
            "a, b = socket.socketpair()\n"
            "for i in range(6000):\n"
            "    a.send(b'x' * (1 + i % 50))\n"
            "    b.recv(100)\n")
    subprocess.run([TOOL, "run", "-q", "-o", out, "--format", "jsonl", "--", sys.executable,
                    "-c", code], check=True, capture_output=True, timeout=120)
    names = [n for n in os.listdir(out) if n.endswith(".jsonl")]
    assert len(names) == 1, names
    return os.path.join(out, names[0])


def compress(tool, data):
    return subprocess.run([tool, "-c"], input=data, capture_output=True, check=True).stdout


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def feed_fifo(path, data):
    def writer():
        with open(path, "wb") as f:
            f.write(data)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    return t


def same(name, got, want, what):
    expect(got[0] == want[0], "%s: %s: exit status %d, want %d" % (name, what, got[0], want[0]),
           got[2])
    expect(got[1] == want[1], "%s: %s: output differs from the directory's" % (name, what),
           diff(want[1], got[1]))
    expect(got[2] == want[2], "%s: %s: standard error differs" % (name, what),
           "got: %r\nwant: %r" % (got[2], want[2]))


def diff(a, b):
    al, bl = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return "line %d:\n  want %r\n  got  %r" % (i + 1, x, y)
    return "lengths %d and %d lines" % (len(al), len(bl))


def test_same_output(tmp):
    run_dir = os.path.join(tmp, "run")
    client, server = record(run_dir)
    cdata, sdata = open(client, "rb").read(), open(server, "rb").read()
    scn = write(os.path.join(tmp, "t.scn"), SCENARIO.encode())
    cbase, sbase = os.path.basename(client), os.path.basename(server)

    # The same trace in JSON Lines (cat --split), to compress too.
    jdir = os.path.join(tmp, "jsonl")
    rc, _, err = run(["cat", "--split", jdir], inputs=[run_dir])
    assert rc == 0, err
    jclient = os.path.join(jdir, cbase.replace(".trace", ".jsonl"))
    jserver = os.path.join(jdir, sbase.replace(".trace", ".jsonl"))
    jcdata, jsdata = open(jclient, "rb").read(), open(jserver, "rb").read()

    gz = {n: compress("gzip", d) for n, d in ((cbase, cdata), (sbase, sdata))}
    zs = {n: compress("zstd", d) for n, d in ((cbase, cdata), (sbase, sdata))}
    dgz, dzs, dmix = (os.path.join(tmp, d) for d in ("dir-gz", "dir-zst", "dir-mixed"))
    for d in (dgz, dzs, dmix):
        os.mkdir(d)
    for n in (cbase, sbase):
        write(os.path.join(dgz, n + ".gz"), gz[n])
        write(os.path.join(dzs, n + ".zst"), zs[n])
    write(os.path.join(dmix, os.path.basename(jclient) + ".gz"), compress("gzip", jcdata))
    write(os.path.join(dmix, sbase + ".zst"), zs[sbase])
    # gzip data under a trace's name; a gzip file of two members.
    disguised = write(os.path.join(tmp, "disguised." + cbase), gz[cbase])
    half = len(cdata) // 2
    members = write(os.path.join(tmp, "members.gz"),
                    compress("gzip", cdata[:half]) + compress("gzip", cdata[half:]))
    sz = write(os.path.join(tmp, sbase + ".zst"), zs[sbase])
    cgz = write(os.path.join(tmp, cbase + ".gz"), gz[cbase])
    fifo = os.path.join(tmp, "fifo")

    for name, args in COMMANDS.items():
        want = run(args, inputs=[run_dir], scn=scn)
        expect(want[1] and (want[0] == 0 or name == "assert"),
               "%s: the directory: exit %d" % (name, want[0]), want[2])
        same(name, run(args, inputs=[client, server], scn=scn), want, "the two files")
        for label, inputs in (("a directory of .gz", [dgz]), ("a directory of .zst", [dzs]),
                              ("a directory of .jsonl.gz and .trace.zst", [dmix]),
                              ("gzip data named .trace", [disguised, server]),
                              ("a gzip file of two members", [members, server]),
                              (".gz and .zst files", [cgz, sz])):
            same(name, run(args, inputs=inputs, scn=scn), want, label)
        same(name, run(args, stdin=cdata, inputs=["-", server], scn=scn), want,
             "cat FILE | socktrace %s - FILE" % args[0])
        same(name, run(args, stdin=gz[cbase], inputs=["-", server], scn=scn), want,
             "gzip -c FILE | socktrace %s -" % args[0])
        same(name, run(args, stdin=zs[cbase], inputs=["-", sz], scn=scn), want,
             "zstd -c FILE | socktrace %s -" % args[0])
        same(name, run(args, stdin=jcdata, inputs=["-", jserver], scn=scn),
             run(args, inputs=[jdir], scn=scn), "cat FILE.jsonl | socktrace %s -" % args[0])
        with open(client, "rb") as f:
            same(name, run(args, stdin=f, inputs=["-", server], scn=scn), want,
                 "socktrace %s - < FILE" % args[0])
        os.mkfifo(fifo)
        t = feed_fifo(fifo, gz[cbase])
        same(name, run(args, inputs=[fifo, server], scn=scn), want, "a FIFO of gzip data")
        t.join(timeout=10)
        os.unlink(fifo)
        # A process substitution: /dev/fd/63 or so, a pipe.
        same(name, run(args, inputs=[], scn=scn,
                       shell='%(cmd)s <(zstd -dc ' + shq(os.path.join(dzs, cbase + ".zst")) +
                       ') ' + shq(server)), want, "<(zstd -dc FILE.zst)")
    # From the pipe, a pipe's name in messages.
    rc, _, err = run(["view"], stdin=b'{"some":"json"}\n', inputs=["-"])
    expect(rc == 1 and "socktrace: stdin:1: not a socktrace trace" in err,
           "a pipe that is not a trace: exit 1 naming stdin:1", err)
    rc, out, err = run(["cat", "--split", os.path.join(tmp, "split")], stdin=gz[cbase],
                       inputs=["-"])
    expect(rc == 0 and os.listdir(os.path.join(tmp, "split")) == ["stdin.jsonl"],
           "cat --split of standard input writes stdin.jsonl", err)
    expect(open(os.path.join(tmp, "split", "stdin.jsonl"), "rb").read() == jcdata,
           "cat --split of gzip data on standard input: the JSON Lines of the file")


def test_joined(tmp):
    """Traces joined one after the other in one input: as the directory."""
    run_dir = os.path.join(tmp, "run")
    client, server = record(run_dir)
    cdata, sdata = open(client, "rb").read(), open(server, "rb").read()
    scn = write(os.path.join(tmp, "t.scn"), SCENARIO.encode())
    jdir = os.path.join(tmp, "jsonl")
    rc, _, err = run(["cat", "--split", jdir], inputs=[run_dir])
    assert rc == 0, err
    jnames = sorted(os.listdir(jdir))
    jc, js = (open(os.path.join(jdir, n), "rb").read() for n in jnames)
    assert jnames[0].startswith("tcp_client.") and jnames[1].startswith("tcp_server."), jnames
    # The directory's files in the order it reads them.
    binary, jsonl = cdata + sdata, jc + js
    joined = write(os.path.join(tmp, "joined.jsonl"), jsonl)
    joined_gz = write(os.path.join(tmp, "joined.jsonl.gz"), compress("gzip", jsonl))
    joined_bin = write(os.path.join(tmp, "joined.trace"), binary)
    mixed = jc + sdata  # JSON Lines, then a binary trace
    for name, args in COMMANDS.items():
        want = run(args, inputs=[run_dir], scn=scn)
        expect(want[1] and (want[0] == 0 or name == "assert"),
               "%s: the directory: exit %d" % (name, want[0]), want[2])
        for label, got in (
                ("socktrace cat DIR | socktrace %s -" % args[0],
                 run(args, inputs=["-"], scn=scn,
                     shell='"$T" cat ' + shq(run_dir) + ' | %(cmd)s')),
                ("cat DIR/*.trace | socktrace %s -" % args[0],
                 run(args, stdin=binary, inputs=["-"], scn=scn)),
                ("JSON Lines files joined in a file", run(args, inputs=[joined], scn=scn)),
                ("binary files joined in a file", run(args, inputs=[joined_bin], scn=scn)),
                ("gzip of JSON Lines joined, a file", run(args, inputs=[joined_gz], scn=scn)),
                ("gzip -c of JSON Lines joined | socktrace %s -" % args[0],
                 run(args, stdin=compress("gzip", jsonl), inputs=["-"], scn=scn)),
                ("zstd -c of JSON Lines and binary joined | socktrace %s -" % args[0],
                 run(args, stdin=compress("zstd", mixed), inputs=["-"], scn=scn)),
                ("a FIFO of binary files joined", None)):
            if got is None:
                fifo = os.path.join(tmp, "fifo")
                os.mkfifo(fifo)
                t = feed_fifo(fifo, binary)
                got = run(args, inputs=[fifo], scn=scn)
                t.join(timeout=10)
                os.unlink(fifo)
            same(name, got, want, label)
            expect("skipped" not in got[2] and "middle of a trace" not in got[2],
                   "%s: %s: nothing skipped" % (name, label), got[2])
    # Each process its own, in the picture too.
    rc, out, err = run(["view", "-f", "text", "--width", "160", "--color", "never"],
                       stdin=binary, inputs=["-"])
    head = "\n".join(out.splitlines()[:2])
    expect(rc == 0 and "tcp_client" in head and "tcp_server" in head,
           "view - of binary traces joined: both programs in the header", head)
    # cat --split of joined traces: the directory's names and lines.
    sdir = os.path.join(tmp, "split")
    rc, _, err = run(["cat", "--split", sdir], stdin=compress("gzip", binary), inputs=["-"])
    expect(rc == 0 and sorted(os.listdir(sdir)) == jnames,
           "cat --split of traces joined: one PROG.PID.jsonl each", "%s\n%s" % (
               sorted(os.listdir(sdir)), err))
    for n in jnames:
        if os.path.exists(os.path.join(sdir, n)):
            expect(open(os.path.join(sdir, n), "rb").read() ==
                   open(os.path.join(jdir, n), "rb").read(),
                   "cat --split of traces joined: %s as the directory's" % n)
    # A trace of the input cut short: named by which one it is.
    cut = jc[:-25] + js
    rc, out, err = run(["stats"], stdin=cut, inputs=["-"])
    expect(rc == 0 and "incomplete record" in err and
           re.search(r"stdin \(trace 1, pid \d+\):\d+", err),
           "stats - of joined traces, the first cut short: said, naming stdin (trace 1, pid N)",
           err)


def test_cut_compressed(tmp):
    big_dir = os.path.join(tmp, "big")
    trace = record_big(big_dir)
    data = open(trace, "rb").read()
    expect(len(data) > 600000, "the big trace is large enough: %d bytes" % len(data))
    base = os.path.basename(trace)
    for tool, suffix in (("gzip", ".gz"), ("zstd", ".zst")):
        packed = compress(tool, data)
        cut = packed[:len(packed) * 6 // 10]
        if tool == "gzip":
            prefix = zlib.decompressobj(31).decompress(cut)
        else:
            # zstd writes what it decoded before it finds the end.
            prefix = subprocess.run(["zstd", "-dc"], input=cut, capture_output=True).stdout
        expect(len(data) // 4 < len(prefix) < len(data),
               "%s: the cut leaves part of the trace: %d of %d bytes" % (tool, len(prefix),
                                                                        len(data)))
        cdir = os.path.join(tmp, "cut" + suffix)
        pdir = os.path.join(tmp, "cut-plain" + suffix)
        os.mkdir(cdir)
        os.mkdir(pdir)
        cpath = write(os.path.join(cdir, base + suffix), cut)
        ppath = write(os.path.join(pdir, base), prefix)
        for name in ("view-jsonl", "view-text", "stats", "cat"):
            args = COMMANDS[name]
            plain = run(args, inputs=[pdir])
            expect(plain[0] == 0 and "incomplete record" in plain[2],
                   "%s: the plain trace cut short: exit 0 and said" % name, plain[2])
            for label, got in (("the directory", run(args, inputs=[cdir])),
                               ("the file", run(args, inputs=[cpath])),
                               ("standard input", run(args, stdin=cut, inputs=["-"]))):
                what = "%s cut at 60 %%, %s" % (tool, label)
                expect(got[0] == plain[0], "%s: %s: exit %d, the plain cut trace's %d"
                       % (name, what, got[0], plain[0]), got[2])
                expect(got[1] == plain[1], "%s: %s: output differs from the plain cut trace's"
                       % (name, what), diff(plain[1], got[1]))
                expect("the %s data are cut short" % tool in got[2] and
                       "incomplete record" in got[2],
                       "%s: %s: said on standard error" % (name, what), got[2])
                if label == "standard input":
                    expect("stdin" in got[2], "%s: %s: named stdin" % (name, what), got[2])
        # Corrupt in the middle: read as far as valid, said, no crash
        # (gzip's check comes at the end: what it gave before may be
        # damage the reader finds first, "the file is corrupt").
        bad = bytearray(packed)
        for i in range(len(bad) // 2, len(bad) // 2 + 200):
            bad[i] ^= 0x5A
        for name in ("view-jsonl", "stats", "cat"):
            got = run(COMMANDS[name], stdin=bytes(bad), inputs=["-"])
            expect(got[0] in (0, 1) and ("the %s data are corrupt" % tool in got[2] or
                                         "stdin:" in got[2] and "corrupt" in got[2]),
                   "%s: %s: corrupt data: exit 0 or 1, said" % (name, tool), got[2])


def main():
    if not TOOL or not SAMPLES:
        sys.exit("set SOCKTRACE_TOOL and SOCKTRACE_SAMPLES")
    for prog in ("gzip", "zstd", "bash"):
        if not shutil.which(prog):
            print("SKIP: %s is missing (Debian package %s)" % (prog, prog))
            return 77
    tmp = tempfile.mkdtemp(prefix="socktrace-streams-")
    try:
        for t in (test_same_output, test_joined, test_cut_compressed):
            d = os.path.join(tmp, t.__name__)
            os.mkdir(d)
            t(d)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
