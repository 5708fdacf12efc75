#!/usr/bin/env python3
"""`socktrace view -f text` at any size: no line wider than the width, in
the columns a terminal gives each glyph; a call's result, errno and fault
rule never cut; shared columns with the header repeated where a lane
changes owner, and --pids on every row; connection ids on the arrows,
pauses marked, roles and script names in the header; and the pager.

The traces are made here: a server (`python3 /srv/app/echo_server.py`, shown
by its script) and N-1 clients on IPv6 addresses, some refused by an
injected fault with a long rule, some reset by one, some failing on a
long unix path, half of them after a pause of 250 ms.
"""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
failures = []

SERVER = "[2001:db8:85a3:1234:5678:8a2e:370:7334]:8443"
CLIENT = "[2001:db8:85a3:1234:5678:8a2e:370:7335]:%d"
UNIX = "unix:/run/user/1000/socktrace-width-test/a/rather/long/directory/server.sock"
# Rules from files with long names: shown whole, each on one line even at
# -w 60 with --pids (44 columns left of the gutter).
RULE_REFUSE = "/etc/socktrace/rules.d/refused.rules:42"
RULE_RESET = "/etc/socktrace/rules.d/reset.rules:7"
LONG_PROG = "a-client-with-a-rather-long-program-name"
WIDTHS = (60, 80, 120, 200)
# And the narrowest there is: one lane, arrows as text after their box;
# a rule's file longer than a row there goes on over two.
NARROWEST = 40
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def expect(cond, what, detail=""):
    if not cond:
        failures.append(what + ("\n    " + str(detail).strip().replace("\n", "\n    ")
                                if detail else ""))


def header(pid, prog, argv, start):
    return {"rec": "header", "format": "socktrace", "version": "1.0", "tool": "socktrace 0.1.0",
            "pid": pid, "ppid": 1000, "uid": 1000, "prog": prog, "exe": "/usr/bin/" + prog,
            "argv": argv, "host": "width", "clock": {"mono": 1000000000,
                                                      "real": 1700000001000000000},
            "start": start, "payload": 64}


def call(ts, pid, fn, fd, ret, dur=5000, **kw):
    r = {"rec": "call", "ts": ts, "dur": dur, "pid": pid, "tid": pid, "fn": fn}
    if fd is not None:
        r["fd"] = fd
    r["ret"] = ret
    r.update(kw)
    return r


def fault(rule, action):
    return {"rule": rule, "text": "width test", "action": action, "nth": 1, "made": False}


def gen_trace(d, n):
    """n processes: a server and n-1 clients, in d."""
    us = 1000
    t0 = 1000000000
    srv_pid = 2001
    srv = [header(srv_pid, "python3", ["python3", "/srv/app/echo_server.py"], t0)]
    st = t0 + 100 * us
    srv.append(call(st, srv_pid, "socket", 3, 3, family="AF_INET6", type="SOCK_STREAM",
                    protocol=0))
    srv.append(call(st + 10 * us, srv_pid, "bind", 3, 0, addr=SERVER, local=SERVER))
    srv.append(call(st + 20 * us, srv_pid, "listen", 3, 0, backlog=128, local=SERVER))
    srv.append(call(st + 30 * us, srv_pid, "setsockopt", 3, -1, errno="ENOPROTOOPT",
                    level="SOL_SOCKET", opt="SO_REUSEPORT", value=1))
    files = {}
    fd = 10
    end = st + 40 * us
    for k in range(1, n):
        pid = srv_pid + k
        prog = LONG_PROG if k % 3 == 0 else "client"
        # Half of them after a pause.
        base = t0 + 1000 * us + k * 40 * us + (250000 * us if k > (n - 1) // 2 else 0)
        cl = [header(pid, prog, [prog, SERVER], base - 50 * us)]
        t = base
        local = CLIENT % (40000 + k)
        if k % 5 == 4:
            cl.append(call(t, pid, "socket", 3, 3, family="AF_UNIX", type="SOCK_STREAM",
                           protocol=0))
            cl.append(call(t + 5 * us, pid, "connect", 3, -1, errno="ENOENT", addr=UNIX))
            cl.append(call(t + 10 * us, pid, "close", 3, 0))
        elif k % 4 == 3:
            cl.append(call(t, pid, "socket", 3, 3, family="AF_INET6", type="SOCK_STREAM",
                           protocol=0))
            cl.append(call(t + 5 * us, pid, "connect", 3, -1, errno="ECONNREFUSED",
                           addr=SERVER, fault=fault(RULE_REFUSE, "error")))
            cl.append(call(t + 10 * us, pid, "close", 3, 0))
        else:
            fd += 1
            cl.append(call(t, pid, "socket", 3, 3, family="AF_INET6", type="SOCK_STREAM",
                           protocol=0))
            cl.append(call(t + 5 * us, pid, "connect", 3, 0, dur=20 * us, addr=SERVER,
                           local=local, peer=SERVER))
            srv.append(call(t + 10 * us, srv_pid, "accept4", 3, fd, dur=20 * us, local=SERVER,
                            peer=local))
            msg = "hello %d\n" % k
            cl.append(call(t + 30 * us, pid, "send", 3, len(msg), len=len(msg), bytes=len(msg),
                           data=msg, local=local, peer=SERVER))
            srv.append(call(t + 35 * us, srv_pid, "recv", fd, len(msg), len=4096,
                            bytes=len(msg), data=msg, local=SERVER, peer=local))
            if k % 4 == 2:
                cl.append(call(t + 50 * us, pid, "recv", 3, -1, errno="ECONNRESET", len=4096,
                               local=local, peer=SERVER, fault=fault(RULE_RESET, "reset")))
                cl.append(call(t + 60 * us, pid, "close", 3, 0, local=local, peer=SERVER))
                srv.append(call(t + 70 * us, srv_pid, "close", fd, 0, local=SERVER, peer=local))
            else:
                srv.append(call(t + 40 * us, srv_pid, "send", fd, len(msg), len=len(msg),
                                bytes=len(msg), data=msg, local=SERVER, peer=local))
                cl.append(call(t + 50 * us, pid, "recv", 3, len(msg), len=4096, bytes=len(msg),
                               data=msg, local=local, peer=SERVER))
                cl.append(call(t + 60 * us, pid, "close", 3, 0, local=local, peer=SERVER))
                srv.append(call(t + 70 * us, srv_pid, "recv", fd, 0, len=4096, bytes=0,
                                local=SERVER, peer=local))
                srv.append(call(t + 80 * us, srv_pid, "close", fd, 0, local=SERVER, peer=local))
        last = cl[-1]["ts"] + cl[-1]["dur"]
        cl.append({"rec": "end", "ts": last + us, "pid": pid, "reason": "exit", "dropped": 0})
        files["%s.%d.jsonl" % (prog, pid)] = cl
        end = max(end, last + 100 * us)
    # The server's calls in the order they returned, then its end.
    srv[1:] = sorted(srv[1:], key=lambda r: r["ts"] + r["dur"])
    srv.append(call(end, srv_pid, "close", 3, 0, local=SERVER))
    srv.append({"rec": "end", "ts": end + 10 * us, "pid": srv_pid, "reason": "exit",
                "dropped": 0})
    files["python3.%d.jsonl" % srv_pid] = srv
    os.makedirs(d, exist_ok=True)
    for name, recs in files.items():
        with open(os.path.join(d, name), "w") as f:
            for r in recs:
                f.write(json.dumps(r, separators=(",", ":")) + "\n")


def cwidth(ch):
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(line):
    return sum(cwidth(c) for c in ANSI.sub("", line))


def cells(line):
    """The line as one entry per terminal column (a wide glyph's second
    column is "")."""
    out = []
    for c in ANSI.sub("", line):
        w = cwidth(c)
        if w:
            out.append(c)
            if w == 2:
                out.append("")
    return out


def view(trace, *args, env=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.pop("COLUMNS", None)
    e.update(env or {})
    p = subprocess.run([TOOL, "view", "--no-pager"] + list(args) + [trace], capture_output=True,
                       env=e, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", errors="strict"), p.stderr.decode(
        errors="replace")


def diagram_lines(out):
    """The lines before the summary."""
    lines = out.split("\n")
    return lines[:lines.index("")] if "" in lines else lines


def test_widths(tmp):
    """1 to 30 processes at 60, 80, 120 and 200 columns, plain, coloured,
    ASCII and with --pids: no line wider than the width, and what must
    never be cut whole on a line."""
    worst = {}
    for n in range(1, 31):
        d = os.path.join(tmp, "n%d" % n)
        gen_trace(d, n)
        for w in WIDTHS + (NARROWEST,):
            for variant in ([], ["--color", "always"], ["--ascii"], ["--pids", "--color", "always"],
                            ["--ascii", "--pids"]):
                args = ["-f", "text", "-w", str(w), "--color", "never"] + variant
                rc, out, err = view(d, *args)
                name = "%d processes, %s" % (n, " ".join(args))
                if rc != 0:
                    expect(False, name + ": exit %d" % rc, err)
                    continue
                lines = out.split("\n")
                wide = [l for l in lines if width(l) > w]
                expect(not wide, "%s: %d lines wider than %d" % (name, len(wide), w),
                       "\n".join("%d: %s" % (width(l), ANSI.sub("", l)) for l in wide[:5]))
                key = (w, "color" if "always" in variant else "ascii" if "--ascii" in variant
                       else "plain")
                worst[key] = max(worst.get(key, 0), max(width(l) for l in lines))
                plain = [ANSI.sub("", l) for l in lines]
                must = []
                if n >= 4:
                    must += ["= -1 ECONNREFUSED", RULE_REFUSE]
                if n >= 3:
                    must += ["= -1 ECONNRESET", RULE_RESET]
                if n >= 5:
                    must += ["= -1 ENOENT"]
                if n >= 2:
                    must += ["= 0 EOF"]
                must += ["= -1 ENOPROTOOPT"]
                for m in must if w != NARROWEST else []:
                    expect(any(m in l for l in plain), "%s: %r not whole on a line" % (name, m))
                if "--ascii" in variant:
                    expect(all(all(ord(c) < 128 for c in l) for l in plain),
                           name + ": not ASCII")
                # The fault mark is two columns: a row with it is still
                # within the width (checked above) and counted so.
                if n >= 4 and "--ascii" not in variant:
                    expect(any("\u26a1" in l for l in plain), name + ": no fault mark")
    print("widest line (display columns):")
    for (w, v), got in sorted(worst.items()):
        print("  -w %-3d %-5s %d" % (w, v, got))


def lane_starts(lines):
    """The top header's columns: where each "pid N" (or "not traced") of
    its second line starts, and the pid there (None: not traced)."""
    row = "".join(c or "\0" for c in cells(lines[1]))
    return {m.start(): (int(m.group(1)) if m.group(1) else None)
            for m in re.finditer(r"pid (\d+)|not traced", row)}


def test_shared_lanes(tmp):
    """Columns that do not fit share lanes; every row's box is in the lane
    the header last gave its process, a header line again where an owner
    changed, the pid on every row."""
    d = os.path.join(tmp, "n13")
    gen_trace(d, 13)
    for w in (80, 120):
        rc, out, err = view(d, "-f", "text", "-w", str(w), "--color", "never", "--pids")
        lines = diagram_lines(out)
        owner = lane_starts(lines)
        xs = sorted(owner)
        expect(len(xs) < 14, "-w %d: 13 processes and an endpoint share lanes" % w, out)
        again = 0
        rows = 0
        for line in lines[3:]:
            c = cells(line)
            s = "".join(x or "\0" for x in c)
            m = re.match(r"^ *(\d+\.\d{6})? +(\d+)? ", s)
            if s.startswith("---"):
                continue
            time_field, pid = (m.group(1), m.group(2)) if m else (None, None)
            if not time_field and not pid:
                # The header again: each lane's owner, "NAME PID".
                again += 1
                for i, x in enumerate(xs):
                    end = xs[i + 1] if i + 1 < len(xs) else len(s)
                    cell = s[x:end].replace("\0", "").strip()
                    pm = re.search(r" (\d+)$", cell)
                    owner[x] = int(pm.group(1)) if pm else None
                continue
            expect(pid is not None, "-w %d: a row without its pid: %r" % (w, line))
            if not time_field or pid is None:
                continue
            rows += 1
            box = s.find("[", xs[0])
            expect(box in owner and owner[box] == int(pid),
                   "-w %d: the box of pid %s at column %d, in the lane of %s" %
                   (w, pid, box, owner.get(box)), line)
        expect(again > 0, "-w %d: the header is repeated where a lane changes owner" % w, out)
        expect(rows > 13 * 3, "-w %d: rows drawn" % w, out)


def test_content(tmp):
    """Arrows name their connection, pauses are marked, the header says
    roles and shows an interpreter by its script."""
    d = os.path.join(tmp, "n6")
    gen_trace(d, 6)
    rc, out, err = view(d, "-f", "text", "-w", "200", "--color", "never")
    lines = out.split("\n")
    expect(rc == 0, "view exits 0", err)
    expect("echo_server.py" in lines[0] and "python3" not in lines[0],
           "the server's column is named by its script", lines[0])
    expect("server" in lines[2] and "client" in lines[2], "roles in the header", lines[2])
    for pat, what in ((r"c\d+ \d+ B", "data"), (r"c\d+ FIN", "teardown"),
                      (r"c\d+ ECONNREFUSED", "a refused connect"), (r"[═=] c\d+ [═=]", "set-up")):
        expect(re.search(pat, out), "an arrow for %s names its connection" % what, out)
    expect(re.search(r"^--- 2\d\d\.\dms ---", out, re.M), "the pause is marked", out)
    rc, out0, _ = view(d, "-f", "text", "-w", "200", "--color", "never", "--gap", "0")
    expect(rc == 0 and "--- " not in out0, "--gap 0 marks no pause", out0)
    rc, out1, _ = view(d, "-f", "text", "-w", "200", "--color", "never", "--gap", "1s")
    expect(rc == 0 and "--- " not in out1, "--gap 1s: no pause that long", out1)


def pty_run(args, env):
    """Runs the tool on a pseudo-terminal; returns (status, what it showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(TOOL, [TOOL] + args, env)
    got = b""
    deadline = time.time() + 30
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return status, got.decode(errors="replace")


def test_pager(tmp):
    """On a terminal, text goes through $PAGER; not with --no-pager, -o or
    another format; a pager that cannot start: written directly; a pager
    that quits before the end: exit 0."""
    d = os.path.join(tmp, "n30")
    if not os.path.isdir(d):
        gen_trace(d, 30)
    got = os.path.join(tmp, "paged.txt")
    pager = os.path.join(tmp, "pager.sh")
    with open(pager, "w") as f:
        f.write("#!/bin/sh\necho \"LESS=$LESS\" > '%s'\ncat >> '%s'\n" % (got, got))
    os.chmod(pager, 0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LESS", "COLUMNS")}
    env["LANG"] = env["LC_ALL"] = "C.UTF-8"
    env["PAGER"] = pager
    status, shown = pty_run(["view", "-w", "100", d], env)
    expect(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "paged view exits 0", status)
    paged = open(got).read() if os.path.exists(got) else ""
    expect("30 processes" in paged and "echo_server.py" in paged,
           "without -f, on a terminal: text through $PAGER", paged[-300:])
    expect(paged.startswith("LESS=FRX\n"), "LESS is FRX for the pager when not set", paged[:40])
    expect("30 processes" not in shown, "nothing written around the pager", shown[-300:])
    if os.path.exists(got):
        os.unlink(got)
    status, shown = pty_run(["view", "--no-pager", "-w", "100", d], env)
    expect(not os.path.exists(got) and "30 processes" in shown, "--no-pager writes directly")
    status, shown = pty_run(["view", "-f", "jsonl", d], env)
    expect(not os.path.exists(got) and '"seq"' in shown, "jsonl is not paged")
    out = os.path.join(tmp, "out.txt")
    status, shown = pty_run(["view", "-o", out, d], env)
    expect(not os.path.exists(got) and "30 processes" in open(out).read(), "-o is not paged")
    env["PAGER"] = os.path.join(tmp, "no-such-pager")
    status, shown = pty_run(["view", "-w", "100", d], env)
    expect(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and "30 processes" in shown,
           "a pager that cannot start: written directly", shown[-300:])
    # Quits reading at once, still running: the tool's writes fail
    # (SIGPIPE) while the pager has the terminal.
    env["PAGER"] = "exec 0<&-; sleep 1"
    status, shown = pty_run(["view", "-w", "100", d], env)
    expect(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and "cannot write" not in shown,
           "a pager quit early: exit 0, nothing said", "%r %s" % (status, shown[-300:]))
    env["PAGER"] = ""
    status, shown = pty_run(["view", "-w", "100", d], env)
    expect("30 processes" in shown, "an empty $PAGER: no pager")


def main():
    if not TOOL:
        sys.exit("test_text_width: set SOCKTRACE_TOOL to build/viewer/socktrace")
    tmp = tempfile.mkdtemp(prefix="st-width-")
    try:
        only = sys.argv[1:]  # test names, to run some
        for t in (test_widths, test_shared_lanes, test_content, test_pager):
            if not only or t.__name__ in only:
                t(tmp)
    finally:
        shutil.rmtree(tmp)
    if failures:
        print("%d failure%s:" % (len(failures), "" if len(failures) == 1 else "s"))
        for f in failures[:40]:
            print("FAIL " + f)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
