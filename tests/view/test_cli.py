#!/usr/bin/env python3
"""The command line of `socktrace view` and `socktrace stats`: help, exit
statuses (0 ok, also with skipped lines; 1 not a trace or corrupt, with
file:line; 2 usage), default format and colour, filters that match
nothing, and a fuzz of corrupt inputs that must never crash the tool."""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
FIX = os.path.join(HERE, "fixtures")
failures = []


def run(*args, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    p = subprocess.run([TOOL] + list(args), capture_output=True, env=e, cwd=cwd, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def expect(cond, what, detail=""):
    if not cond:
        failures.append(what + ("\n    " + detail.strip().replace("\n", "\n    ") if detail else ""))


def test_help_and_usage():
    for cmd in ("view", "stats"):
        rc, out, _ = run(cmd, "--help")
        expect(rc == 0 and "usage: socktrace " + cmd in out, cmd + " --help")
        rc, out, _ = run("help", cmd)
        expect(rc == 0 and "usage: socktrace " + cmd in out, "help " + cmd)
        rc, _, err = run(cmd, "--no-such-option")
        expect(rc == 2 and "Try 'socktrace %s --help'" % cmd in err, cmd + " bad option", err)
    rc, out, _ = run("--help")
    expect("view" in out and "stats" in out, "the command list names view and stats")
    for bad in (["--format", "svg"], ["--width", "5"], ["--color", "sometimes"],
                ["--since", "yesterday"], ["--pid", "x"], ["--limit", "-1"]):
        rc, _, err = run("view", *bad, os.path.join(FIX, "tcp"))
        expect(rc == 2, "view %s exits 2" % " ".join(bad), err)


def test_exit_statuses():
    tmp = tempfile.mkdtemp()
    try:
        rc, _, err = run("view", os.path.join(tmp, "missing"))
        expect(rc == 1 and "missing" in err, "missing input exits 1", err)
        rc, _, err = run("view", tmp)
        expect(rc == 1 and "no trace files" in err, "empty directory exits 1", err)
        notes = os.path.join(tmp, "notes.jsonl")
        open(notes, "w").write('{"some":"json"}\n')
        for cmd in ("view", "stats"):
            rc, _, err = run(cmd, notes)
            expect(rc == 1 and "notes.jsonl:1: not a socktrace trace" in err,
                   cmd + ": not a trace exits 1 with file:line", err)
        # Bad JSON in the middle of a real trace.
        bad = os.path.join(tmp, "bad")
        shutil.copytree(os.path.join(FIX, "tcp"), bad)
        path = os.path.join(bad, "tcp_server.1001.jsonl")
        lines = open(path).readlines()
        lines.insert(4, '{"rec":"call","ts":\n')
        open(path, "w").writelines(lines)
        for cmd in ("view", "stats"):
            rc, _, err = run(cmd, "-f", "jsonl", bad) if cmd == "view" else run(cmd, bad)
            expect(rc == 1 and "tcp_server.1001.jsonl:5: not valid JSON" in err,
                   cmd + ": corrupt line exits 1 with file:line", err)
        # A killed process: skipped, said, exit 0.
        for cmd in ("view", "stats"):
            rc, out, err = run(cmd, os.path.join(FIX, "killed"))
            expect(rc == 0 and "skipped 1 incomplete record" in err and out,
                   cmd + ": a cut record is skipped with exit 0", err)
    finally:
        shutil.rmtree(tmp)


def test_defaults():
    # Text whether or not the output is a terminal: scripts ask for jsonl.
    rc, out, _ = run("view", os.path.join(FIX, "tcp"))
    expect(rc == 0 and out.startswith("time ") and "tcp_server" in out,
           "default format off a terminal is text", out[:200])
    rc, out, _ = run("view", "-f", "jsonl", os.path.join(FIX, "tcp"))
    expect(rc == 0 and all(json.loads(l)["seq"] for l in out.splitlines()),
           "-f jsonl writes jsonl")
    # Without arguments: socktrace-out/latest of the working directory.
    tmp = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(tmp, "socktrace-out"))
        shutil.copytree(os.path.join(FIX, "udp"), os.path.join(tmp, "socktrace-out", "run-1"))
        os.symlink("run-1", os.path.join(tmp, "socktrace-out", "latest"))
        rc, out, err = run("view", "-f", "text", cwd=tmp, env={"SOCKTRACE_OUT": ""})
        expect(rc == 0 and "udp_server" in out, "default input is socktrace-out/latest", err)
        rc, out, err = run("stats", cwd=tmp, env={"SOCKTRACE_OUT": ""})
        expect(rc == 0 and "recvfrom" in out, "stats reads socktrace-out/latest", err)
        rc, out, err = run("view", "-f", "text", cwd=tmp,
                           env={"SOCKTRACE_OUT": os.path.join(FIX, "tcp")})
        expect(rc == 0 and "tcp_server" in out, "default input is $SOCKTRACE_OUT", err)
    finally:
        shutil.rmtree(tmp)
    # Colour only when asked, or on a terminal without NO_COLOR.
    rc, out, _ = run("view", "-f", "text", os.path.join(FIX, "tcp"))
    expect("\033[" not in out, "no colour off a terminal")
    rc, out, _ = run("view", "-f", "text", "--color", "always", os.path.join(FIX, "tcp"))
    expect("\033[" in out, "--color always colours")


def test_filters():
    rc, out, _ = run("view", "-f", "jsonl", "--pid", "4242", os.path.join(FIX, "tcp"))
    expect(rc == 0 and out == "", "a filter that matches nothing shows nothing")
    rc, out, _ = run("view", "-f", "text", "--pid", "4242", os.path.join(FIX, "tcp"))
    expect(rc == 0 and "no events to show" in out, "text says there is nothing to show")
    rc, out, _ = run("view", "-f", "jsonl", "--errors", os.path.join(FIX, "faults"))
    recs = [json.loads(l) for l in out.splitlines()]
    expect(len(recs) == 1 and recs[0]["fault"]["action"] == "error", "--errors keeps the fault")
    rc, out, _ = run("view", "-f", "jsonl", "--fn", "accept", "--conn", ":40002",
                     os.path.join(FIX, "tcp3"))
    recs = [json.loads(l) for l in out.splitlines()]
    expect(len(recs) == 1 and recs[0]["peer"] == "127.0.0.1:40002", "--fn with --conn :PORT")
    rc, _, err = run("view", "-f", "jsonl", "--fn", "conect", os.path.join(FIX, "tcp"))
    expect(rc == 0 and "did you mean connect?" in err, "--fn suggests a name", err)
    # The groups of the rule language stand for their calls.
    rc, out, err = run("view", "-f", "jsonl", "--fn", "setup,teardown", os.path.join(FIX, "tcp3"))
    fns = {json.loads(l)["fn"] for l in out.splitlines()}
    setup = {"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect"}
    expect(rc == 0 and fns and fns <= setup | {"close", "shutdown"} and "connect" in fns and
           "close" in fns and "did you mean" not in err, "--fn setup,teardown: %s %s" % (fns, err))
    rc, _, err = run("view", "-f", "jsonl", "--fn", "setpu", os.path.join(FIX, "tcp"))
    expect("did you mean setup?" in err, "a group is suggested too", err)


def test_machine_formats():
    """perfetto is one JSON document with slices and flows; jsonl one record
    per line."""
    rc, out, _ = run("view", "-f", "perfetto", os.path.join(FIX, "tcp3"))
    doc = json.loads(out)
    evs = doc["traceEvents"]
    slices = [e for e in evs if e["ph"] == "X"]
    starts = {e["id"] for e in evs if e["ph"] == "s"}
    ends = {e["id"] for e in evs if e["ph"] == "f"}
    names = {e["args"]["name"] for e in evs if e["ph"] == "M"}
    expect(rc == 0 and len(slices) == 33, "perfetto: a slice per event")
    expect(starts and starts == ends, "perfetto: every flow has both ends")
    expect("tcp_server 1001" in names, "perfetto: processes are named")
    rc, out, _ = run("view", "-f", "perfetto", os.path.join(FIX, "faults"))
    expect(any(e["ph"] == "i" and e["cat"] == "fault" for e in json.loads(out)["traceEvents"]),
           "perfetto: a fault is an instant event")
    rc, out, _ = run("view", "-f", "jsonl", os.path.join(FIX, "udp"))
    recs = [json.loads(l) for l in out.splitlines()]
    expect([r["seq"] for r in recs] == list(range(1, len(recs) + 1)), "jsonl: seq 1, 2, ...")
    expect(all(r["data"] for r in recs if r.get("link") == "data"), "jsonl: payloads kept")


def test_warnings_and_dropped():
    """A warning record of the shim (io_uring) is drawn, counted, kept by
    --errors; records the shim could not write are reported."""
    tmp = tempfile.mkdtemp()
    try:
        d = os.path.join(tmp, "t")
        shutil.copytree(os.path.join(FIX, "tcp"), d)
        path = os.path.join(d, "tcp_client.1002.jsonl")
        lines = open(path).read().splitlines()
        end = json.loads(lines[-1])
        end["dropped"] = 3
        warn = {"rec": "warning", "ts": end["ts"] - 10, "pid": 1002, "tid": 1002,
                "kind": "io_uring", "how": "io_uring_setup",
                "message": "this process uses io_uring: not traced"}
        lines[-1:] = [json.dumps(warn), json.dumps(end)]
        open(path, "w").write("\n".join(lines) + "\n")
        rc, out, err = run("view", "-f", "text", "--errors", d)
        expect(rc == 0 and "warning io_uring: this process uses io_uring" in out,
               "text draws the warning, --errors keeps it", out + err)
        expect("could not write 3 records" in err, "dropped records are reported", err)
        rc, out, err = run("stats", d)
        expect(rc == 0 and "io_uring:1" in out, "stats counts the warning", out + err)
        rc, out, _ = run("view", "-f", "perfetto", d)
        expect(any(e.get("cat") == "warning" for e in json.loads(out)["traceEvents"]),
               "perfetto marks the warning")
    finally:
        shutil.rmtree(tmp)


def test_output_file():
    tmp = tempfile.mkdtemp()
    try:
        out = os.path.join(tmp, "flow.html")
        rc, stdout, _ = run("view", "-f", "html", "-o", out, os.path.join(FIX, "tcp"))
        expect(rc == 0 and stdout == "" and "<svg" in open(out).read(), "-o writes the file")
        rc, _, err = run("view", "-f", "html", "-o", os.path.join(tmp, "no", "such", "dir.html"),
                         os.path.join(FIX, "tcp"))
        expect(rc == 1 and "cannot write" in err, "unwritable output exits 1", err)
    finally:
        shutil.rmtree(tmp)


def test_fuzz():
    """Random damage to a real trace: any exit status but a crash."""
    rnd = random.Random(7)
    base = open(os.path.join(FIX, "faults", "tcp_server.1001.jsonl"), "rb").read()
    other = os.path.join(FIX, "faults", "tcp_client.1003.jsonl")
    tmp = tempfile.mkdtemp()
    try:
        for i in range(150):
            data = bytearray(base)
            for _ in range(rnd.randint(1, 8)):
                if not data:
                    break
                op = rnd.random()
                pos = rnd.randrange(len(data))
                if op < 0.5:
                    data[pos] = rnd.choice(b'\0\n{}[]":,\\0123456789e-x\xff\xc3')
                elif op < 0.7:
                    del data[pos:pos + rnd.randint(1, 40)]
                elif op < 0.85:
                    data[pos:pos] = data[rnd.randrange(len(data)):][:rnd.randint(1, 60)]
                else:
                    data = data[:pos]
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            open(os.path.join(d, "tcp_server.1001.jsonl"), "wb").write(data)
            shutil.copy(other, d)
            for args in (["view", "-f", "text"], ["view", "-f", "html"], ["view", "-f", "mermaid"],
                         ["view", "-f", "perfetto"], ["view", "-f", "jsonl"], ["stats"]):
                rc, _, err = run(*args, d)
                expect(rc in (0, 1) and "Sanitizer" not in err,
                       "fuzz case %d, %s: exit %d" % (i, " ".join(args), rc), err[-800:])
            shutil.rmtree(d)
    finally:
        shutil.rmtree(tmp)


def main():
    if not TOOL:
        sys.exit("set SOCKTRACE_TOOL")
    for name, fn in sorted(globals().items()):
        if name.startswith("test_"):
            fn()
    for f in failures:
        print("FAIL:", f)
    print("%d failure(s)" % len(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
