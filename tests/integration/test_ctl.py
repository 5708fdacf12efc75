"""socktrace ctl: fault rules changed in programs that are already running.

A long-running client (progs/connect_loop.c) connects to a listener of the
test every few milliseconds; `socktrace ctl` adds, disables, enables and
clears rules in it, and the tests check the trace (a ctl record, then
the connects it changed, within 100 ms of posting), what the program saw,
--list, the control file's life (made at start, none kept open, its own
in a fork child, removed at exit, stale ones cleaned), who may control a
process, bad rules refused before anything is sent, a hang lifted by
--disable, and a process with nothing to do woken up.

Every test uses a control directory of its own (SOCKTRACE_CTL), so that
--all never reaches a process of another test or another user session."""

import json
import os
import re
import socket
import subprocess
import threading
import time

import sttest
from sttest import check, check_eq, prog

TOOL = os.environ.get("SOCKTRACE_TOOL", "")


class Listener:
    """A TCP listener on 127.0.0.1 that accepts and closes, in a thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except OSError:
                return


def ctl_dir(sb):
    return os.path.join(sb.dir, "ctl")


def ctl(sb, *args, expect_rc=0, timeout=10):
    """Runs socktrace ctl with the sandbox's control directory."""
    check(TOOL and os.access(TOOL, os.X_OK), "SOCKTRACE_TOOL: %r" % TOOL)
    env = sb.env(traced=False, extra={"SOCKTRACE_CTL": ctl_dir(sb)})
    p = subprocess.run([TOOL, "ctl"] + list(args), env=env, capture_output=True, text=True,
                       timeout=timeout)
    if expect_rc is not None and p.returncode != expect_rc:
        raise sttest.Fail("socktrace ctl %s: status %d, expected %d\nstdout: %s\nstderr: %s"
                          % (" ".join(args), p.returncode, expect_rc, p.stdout, p.stderr))
    return p


def listing(sb, *pids):
    p = ctl(sb, "--list", "--json", *[str(x) for x in pids])
    return {o["pid"]: o for o in map(json.loads, p.stdout.splitlines())}


def start_loop(sb, port, interval_ms=10, count=0, extra=None, fork=False, traced=True):
    env = {"SOCKTRACE_CTL": ctl_dir(sb)}
    env.update(extra or {})
    argv = [prog("connect_loop"), port, interval_ms, count] + (["fork"] if fork else [])
    proc = sb.spawn(argv, env=env, traced=traced)
    pid = int(sb.read_line(proc, r"^ready (\d+)$").group(1))
    return proc, pid


def wait_for(what, cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.01)
    raise sttest.Fail("timed out waiting for " + what)


def outcomes(res, pid):
    """The program's own account: outcome per attempt, in order."""
    return [m.group(2) for m in re.finditer(r"^%d (\d+) (\S+)$" % pid, res.out, re.M)]


def stop(sb, proc):
    proc.terminate()
    return sb.finish(proc, check_rc=False)


def connects_between(f, start, end):
    return [c for c in f.calls(fn="connect") if start < c["ts"] < end]


def test_add_disable_enable_clear(sb):
    lis = Listener()
    proc, pid = start_loop(sb, lis.port)
    wait_for("a trace file", lambda: listing(sb)[pid]["trace"])

    out = ctl(sb, str(pid), "connect error=ECONNREFUSED").stdout
    check(re.search(r"^%d connect_loop: applied in [0-9.]+ ms: .*added ctl:1; 1 of 1 rule in force$"
                    % pid, out, re.M), "ctl's report: %r" % out)
    time.sleep(0.1)
    ctl(sb, str(pid), "--disable", "1")
    time.sleep(0.1)
    ctl(sb, str(pid), "--enable", "ctl:1")
    time.sleep(0.1)
    ctl(sb, str(pid), "--clear")
    time.sleep(0.1)
    res = stop(sb, proc)

    f = sb.trace().file(pid=pid)
    recs = f.select("ctl")
    check_eq([(r["gen"], r["op"]) for r in recs],
             [(1, "add"), (2, "disable"), (3, "enable"), (4, "clear")], "ctl records", recs)
    check_eq([(x["rule"], x["text"], x["change"]) for x in recs[0]["rules"]],
             [("ctl:1", "connect error=ECONNREFUSED", "added")], "the added rule", recs[:1])
    check_eq(recs[3]["rules"][0]["change"], "removed", "clear removes it", recs[3:])
    for r in recs:
        check(r["wait_ns"] < 100 * 10**6, "applied within 100 ms of posting", [r])
        check(r["tid"] == pid and r["by"] > 0 and "message" in r, "ctl record fields", [r])

    # Between each pair of changes, every connect is what the rules say.
    ends = [r["ts"] for r in recs] + [float("inf")]
    starts = [0] + [r["ts"] for r in recs]
    for k, (start, end) in enumerate(zip(starts, ends)):
        cs = connects_between(f, start, end)
        check(cs, "connects in phase %d" % k, trace=sb.trace())
        should_fail = k in (1, 3)
        for c in cs:
            if should_fail:
                check(c.get("errno") == "ECONNREFUSED" and c["fault"]["rule"] == "ctl:1"
                      and c["fault"]["made"] is False, "refused by ctl:1 in phase %d" % k, [c])
            else:
                check(c["ret"] == 0 and "fault" not in c, "a real connect in phase %d" % k, [c])
    # The program saw exactly what the trace says.
    seen = outcomes(res, pid)
    traced = ["ok" if c["ret"] == 0 else c["errno"] for c in f.calls(fn="connect")]
    check_eq(seen, traced[:len(seen)], "the program's outcomes")
    check(seen.count("ECONNREFUSED") >= 2, "the program saw refusals: %s" % seen)


def test_list(sb):
    lis = Listener()
    proc, pid = start_loop(sb, lis.port, extra={"SOCKTRACE_FAULTS": "connect port=1 error=EACCES"})
    ctl(sb, str(pid), "connect error=ENETUNREACH when=1..3", "recv delay=1ms")
    wait_for("3 faults", lambda: listing(sb)[pid]["rules"][1]["fired"] >= 3)
    ctl(sb, str(pid), "--disable", "ctl:1.2")
    info = listing(sb)[pid]
    check_eq(info["prog"], "connect_loop", "prog")
    check(info["trace"] and info["trace"].startswith(sb.out + "/"), "trace file: %r" % info["trace"])
    check(info["control"].startswith(ctl_dir(sb) + "/%d." % pid), "control file %r" % info["control"])
    check_eq(info["gen"], 2, "applied generation")
    check_eq(info["pending"], None, "nothing pending")
    rules = [(r["n"], r["rule"], r["text"], r["enabled"]) for r in info["rules"]]
    check_eq(rules, [(1, "SOCKTRACE_FAULTS:1", "connect port=1 error=EACCES", True),
                     (2, "ctl:1.1", "connect when=1..3 error=ENETUNREACH", True),
                     (3, "ctl:1.2", "recv delay=1ms", False)], "rules")
    check_eq(info["rules"][1]["fired"], 3, "when=1..3 fired 3 times")
    check(info["rules"][1]["selected"] >= 3, "selected counts every connect")
    check_eq(info["rules"][0]["fired"], 0, "the start-up rule never acted")

    text = ctl(sb, "--list").stdout
    check(re.search(r"^%d  connect_loop  started \S+ \S+  trace %s/connect_loop\.%d%s$"
                    % (pid, re.escape(sb.out), pid, re.escape(sttest.SUFFIX)), text, re.M), "--list header: %r" % text)
    check(re.search(r"^\s+2\s+ctl:1\.1\s+enabled\s+selected \d+\s+fired 3\s+connect when=1\.\.3 "
                    r"error=ENETUNREACH$", text, re.M), "--list rule line: %r" % text)
    check(re.search(r"^\s+3\s+ctl:1\.2\s+disabled\s", text, re.M), "disabled rule: %r" % text)
    res = stop(sb, proc)
    check_eq(outcomes(res, pid).count("ENETUNREACH"), 3, "the program saw 3 faults")


def test_control_file_life(sb):
    """Nothing held open, nothing mapped but the file; removed at exit;
    a killed process's file is cleaned up by the next --list."""
    lis = Listener()
    proc, pid = start_loop(sb, lis.port, interval_ms=100, count=15,
                           extra={"SOCKTRACE_OUT": "off"})
    files = wait_for("the control file", lambda: os.listdir(ctl_dir(sb)))
    check(len(files) == 1 and files[0].startswith("%d." % pid), "control file %s" % files)
    path = os.path.join(ctl_dir(sb), files[0])
    st = os.stat(path)
    check_eq(oct(st.st_mode & 0o777), oct(0o600), "mode of the control file")
    check_eq(oct(os.stat(ctl_dir(sb)).st_mode & 0o777), oct(0o700), "mode of the directory")
    # No descriptor of ours: only the program's 0, 1, 2 (and its socket,
    # for the instant of a connect).
    for _ in range(3):
        fds = {int(n) for n in os.listdir("/proc/%d/fd" % pid)}
        if fds <= {0, 1, 2}:
            break
        time.sleep(0.03)
    check(fds <= {0, 1, 2}, "descriptors of a process under the shim: %s" % sorted(fds))
    def mappings():
        with open("/proc/%d/maps" % pid) as f:
            return [line.split()[:2] for line in f if path in line]
    spans = [int(b, 16) - int(a, 16) for a, b in (m[0].split("-") for m in mappings())]
    check(spans == [4096] and mappings()[0][1] == "rw-s",
          "only the hooks' page of the file is mapped: %s" % mappings())
    # An idle shim (no tracing, no rules) wakes up for a change; then it
    # maps the rest of the file, to read the request.
    ctl(sb, str(pid), "connect error=ECONNREFUSED when=1")
    check_eq(len(mappings()), 2, "mappings of the control file once controlled")
    res = sb.finish(proc)
    check("ECONNREFUSED" in outcomes(res, pid), "the idle process got the rule: %s"
          % outcomes(res, pid))
    check_eq(os.listdir(ctl_dir(sb)), [], "control files left after exit")

    # SIGKILL leaves a file behind; the next command removes it.
    proc, pid = start_loop(sb, lis.port)
    wait_for("its file", lambda: os.listdir(ctl_dir(sb)))
    proc.kill()
    sb.finish(proc, check_rc=False)
    check(os.listdir(ctl_dir(sb)), "a killed process leaves its file")
    p = ctl(sb, "--list")
    check("no process is running under the shim" in p.stdout, "--list: %r" % p.stdout)
    check("removed 1 control file" in p.stderr, "--list reports the cleaning: %r" % p.stderr)
    check_eq(os.listdir(ctl_dir(sb)), [], "stale file removed")


def test_fork_child_has_its_own(sb):
    lis = Listener()
    proc, first = start_loop(sb, lis.port, fork=True)
    second = int(sb.read_line(proc, r"^ready (?!%d)(\d+)$" % first).group(1))
    info = wait_for("two processes", lambda: len(listing(sb)) == 2 and listing(sb))
    check_eq(sorted(info), sorted([first, second]), "--list shows parent and child")
    child = second if info[second]["ppid"] == first else first
    parent = first if child == second else second
    check(info[child]["control"] != info[parent]["control"], "two control files")
    out = ctl(sb, str(child), "connect error=EHOSTUNREACH").stdout
    check("applied" in out, out)
    time.sleep(0.1)
    info = listing(sb)
    check_eq([r["rule"] for r in info[child]["rules"]], ["ctl:1"], "the child's rules")
    check_eq(info[parent]["rules"], [], "the parent's rules")
    res = stop(sb, proc)
    check("EHOSTUNREACH" in outcomes(res, child), "the child fails")
    check("EHOSTUNREACH" not in outcomes(res, parent), "the parent does not")
    check("ctl" not in [r["rec"] for r in sb.trace().file(pid=parent).records],
          "no ctl record in the parent's trace")


def test_bad_rules_never_sent(sb):
    lis = Listener()
    proc, pid = start_loop(sb, lis.port)
    p = ctl(sb, str(pid), "connect error=ECONNREFUSED", "connect error=ECONREFUSED",
            expect_rc=2)
    check(re.search(r"^argument:2:15: unknown errno 'ECONREFUSED'; did you mean 'ECONNREFUSED'\?",
                    p.stderr, re.M), "the error names the argument and column: %r" % p.stderr)
    scn = os.path.join(sb.dir, "bad.scn")
    with open(scn, "w") as f:
        f.write("# comment\nconnect error=ENOENT\n")
    p = ctl(sb, str(pid), "-f", scn, expect_rc=2)
    check(re.search(r"^%s:2:15: connect never fails with ENOENT" % re.escape(scn), p.stderr, re.M),
          "FILE:LINE:COL as socktrace check says it: %r" % p.stderr)
    p = ctl(sb, "99999999", "connect error=ECONNREFUSED", expect_rc=1)
    check("process 99999999 is not running under the shim" in p.stderr, p.stderr)
    ctl(sb, "--disable", "1", expect_rc=2)
    p = ctl(sb, str(pid), "--disable", "7", expect_rc=1)
    check("no rule 7" in p.stderr, p.stderr)
    info = listing(sb)[pid]
    check_eq((info["gen"], info["rules"]), (0, []), "nothing reached the process")
    stop(sb, proc)
    check_eq(sb.trace().file(pid=pid).select("ctl"), [], "no ctl record")


def test_other_users_cannot(sb):
    if os.geteuid() != 0 or not sttest.have_program("setpriv"):
        sttest.skip("needs root and setpriv to act as another user")
    lis = Listener()
    proc, pid = start_loop(sb, lis.port)
    wait_for("its file", lambda: os.listdir(ctl_dir(sb)))
    os.chmod(sb.dir, 0o755)  # the path is reachable, the directory is not
    env = sb.env(traced=False)
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", TOOL, "ctl",
              "--dir", ctl_dir(sb)]
    p = subprocess.run(nobody + [str(pid), "connect error=ECONNREFUSED"], env=env,
                       capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 1, "status of ctl as nobody (stderr %r)" % p.stderr)
    check("belongs to uid 0, not to this user" in p.stderr and "not used" in p.stderr,
          "why: %r" % p.stderr)
    p = subprocess.run(nobody + ["--list"], env=env, capture_output=True, text=True, timeout=10)
    check(str(pid) not in p.stdout, "nobody's --list: %r" % p.stdout)
    # And the file itself is closed to them.
    path = os.path.join(ctl_dir(sb), os.listdir(ctl_dir(sb))[0])
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "dd", "if=/dev/zero", "of=" + path, "bs=1", "count=1", "conv=notrunc"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and "Permission denied" in p.stderr, "nobody writes the file: %r"
          % p.stderr)
    check_eq(listing(sb)[pid]["gen"], 0, "nothing reached the process")
    stop(sb, proc)


def test_unsafe_directory_refused(sb):
    """A control directory that others can write, or that is not a
    directory, is not used: one message, no file, the program runs as
    usual. (More cases, as root, in test_ctl_stale.py.)"""
    lis = Listener()
    bad = os.path.join(sb.dir, "open")
    os.mkdir(bad)
    os.chmod(bad, 0o777)
    link = os.path.join(sb.dir, "link")
    with open(os.path.join(sb.dir, "a-file"), "w"):
        pass
    os.symlink(os.path.join(sb.dir, "a-file"), link)
    os.mkdir(ctl_dir(sb), 0o700)
    for d, why in ((bad, r"control directory \S+ is writable by other users \(mode 0777; "
                         r"chmod go-w\)"), (link, "is not a directory")):
        res = sb.run([prog("connect_loop"), lis.port, 1, 3],
                     env={"SOCKTRACE_CTL": d, "SOCKTRACE_OUT": "off"})
        check_eq(outcomes(res, res.pid), ["ok"] * 3, "the program's outcomes")
        lines = res.err.splitlines()
        check(len(lines) == 1 and re.search(why, lines[0]) and
              "`socktrace ctl` cannot reach this process" in lines[0],
              "one message: %r" % res.err)
        check_eq(os.listdir(bad) + os.listdir(ctl_dir(sb)), [], "no control file")
    res = sb.run([prog("connect_loop"), lis.port, 1, 2], env={"SOCKTRACE_CTL": "off"})
    check_eq(res.err, "", "SOCKTRACE_CTL=off says nothing")


def test_hang_lifted_by_disable(sb):
    lis = Listener()
    proc, pid = start_loop(sb, lis.port, extra={"SOCKTRACE_FAULTS": "connect hang"})
    wait_for("the hang", lambda: listing(sb)[pid]["rules"][0]["fired"] == 1)
    time.sleep(0.2)
    p = ctl(sb, str(pid), "--disable", "SOCKTRACE_FAULTS:1")
    m = re.search(r"applied in ([0-9.]+) ms", p.stdout)
    check(m and float(m.group(1)) < 100, "the hanging thread applied it: %r" % p.stdout)
    sb.read_line(proc, r"^%d 1 ok$" % pid)
    res = stop(sb, proc)
    f = sb.trace().file(pid=pid)
    first = f.calls(fn="connect")[0]
    check(first["ret"] == 0 and first["fault"]["action"] == "hang" and
          first["fault"]["made"] is True and first["fault"]["waited_ns"] >= 200 * 10**6,
          "the hung connect was made once its rule was gone", [first])
    check(set(outcomes(res, pid)) == {"ok"}, "every connect worked")


def test_pending_and_superseded(sb):
    """A process that makes no call applies nothing until it does; a second
    change posted meanwhile includes the first."""
    lis = Listener()
    proc, pid = start_loop(sb, lis.port, interval_ms=1500)
    sb.read_line(proc, r"^%d 1 ok$" % pid)
    time.sleep(0.2)  # past the close that follows the line: now it sleeps
    p = ctl(sb, "--timeout", "100ms", str(pid), "connect error=ECONNREFUSED", expect_rc=3)
    check("pending: the process has made no socket call since" in p.stderr, p.stderr)
    check_eq(listing(sb)[pid]["pending"], 1, "--list shows the pending generation")
    ctl(sb, "--timeout", "3s", str(pid), "--disable", "1")
    info = listing(sb)[pid]
    check_eq([(r["rule"], r["enabled"]) for r in info["rules"]], [("ctl:1", False)],
             "both changes applied together")
    stop(sb, proc)
    recs = sb.trace().file(pid=pid).select("ctl")
    check(len(recs) == 1 and recs[0]["gen"] == 2 and
          "includes generation 1, posted but never applied" in recs[0]["message"],
          "one ctl record for both", recs)


def test_all_and_prog(sb):
    lis = Listener()
    a, pa = start_loop(sb, lis.port)
    b, pb = start_loop(sb, lis.port, extra={"SOCKTRACE_OUT": "off"})
    p = ctl(sb, "--all", "connect error=ECONNREFUSED when=1")
    check_eq(len(re.findall(r"^\d+ connect_loop: applied", p.stdout, re.M)), 2,
             "both applied: %r" % p.stdout)
    ctl(sb, "--prog", "nomatch*", "--clear", expect_rc=1)
    p = ctl(sb, "--prog", "connect_l*", "--clear")
    check_eq(len(re.findall(r"removed ctl:1", p.stdout)), 2, "both cleared: %r" % p.stdout)
    for proc, pid in ((a, pa), (b, pb)):
        check_eq(listing(sb)[pid]["rules"], [], "rules of %d" % pid)
        res = stop(sb, proc)
        check_eq(outcomes(res, pid).count("ECONNREFUSED"), 1, "when=1 acted once in %d" % pid)


def test_view_shows_changes(sb):
    lis = Listener()
    proc, pid = start_loop(sb, lis.port, interval_ms=20, count=10)
    ctl(sb, str(pid), "connect error=ECONNREFUSED")
    sb.finish(proc)
    env = sb.env(traced=False)
    for fmt, pattern in (("text", r"ctl add: socktrace ctl \(pid \d+\): added ctl:1"),
                         ("mermaid", r"Note over .*ctl add: socktrace ctl")):
        p = subprocess.run([TOOL, "view", "-f", fmt, "--ascii", "--width", "200", sb.out],
                           env=env, capture_output=True, text=True, timeout=20)
        check_eq(p.returncode, 0, "view -f %s: %s" % (fmt, p.stderr))
        check(re.search(pattern, p.stdout), "view -f %s shows the change:\n%s" % (fmt, p.stdout))
    # Perfetto: an instant on the process, not a slice of some thread.
    p = subprocess.run([TOOL, "view", "-f", "perfetto", sb.out], env=env, capture_output=True,
                       text=True, timeout=20)
    check_eq(p.returncode, 0, "view -f perfetto: %s" % p.stderr)
    doc = json.loads(p.stdout)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    marks = [e for e in events if e.get("cat") == "ctl"]
    check_eq([(e["ph"], e.get("s"), e["name"], e["pid"]) for e in marks],
             [("i", "p", "ctl add", pid)], "ctl records in the Perfetto trace", marks)
    check("added ctl:1" in json.dumps(marks[0]["args"]), "the change's message", marks)


if __name__ == "__main__":
    sttest.main()
