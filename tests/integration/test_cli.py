"""The habits of the command line: where run puts the trace
(SOCKTRACE_OUT, -o, no run left behind by a command that never started,
old runs pruned), "did you mean", one usage-error style and exit 2,
strace's options answered, signals passed to the command, and the
program's descriptors left free by --backtrace."""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import sttest
from sttest import check, check_eq, prog

TOOL = os.environ.get("SOCKTRACE_TOOL", "")


def clean_env(extra=None):
    # The harness's own SOCKTRACE_* settings are not for these runs.
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")}
    env.update(extra or {})
    return env


def tool(sb, args, env=None, cwd=None, stdin=None):
    return subprocess.run([TOOL] + args, cwd=cwd or sb.dir, env=clean_env(env),
                          capture_output=True, text=True, timeout=sttest.RUN_TIMEOUT_S,
                          stdin=stdin)


def usage_error(r, cmd, words, what):
    """Exit 2, "socktrace CMD: ..." with every word, then the Try line."""
    check_eq(r.returncode, 2, "%s: exit status (stderr %r)" % (what, r.stderr))
    lines = r.stderr.strip().split("\n")
    prefix = "socktrace %s: " % cmd if cmd else "socktrace: "
    check(lines[0].startswith(prefix), "%s: message prefix %r in %r" % (what, prefix, r.stderr))
    for w in words:
        check(w in lines[0], "%s: %r in %r" % (what, w, lines[0]))
    want = "Try 'socktrace%s --help'." % (" " + cmd if cmd else "")
    check_eq(lines[-1], want, "%s: the last line" % what)
    check(len(lines) <= 3, "%s: a short message, not the whole usage: %r" % (what, r.stderr))


def test_run_honours_socktrace_out(sb):
    out = os.path.join(sb.dir, "exported")
    r = tool(sb, ["run", "--", prog("sockuser"), "1"], env={"SOCKTRACE_OUT": out})
    check_eq(r.returncode, 0, "run: %s" % r.stderr)
    check(os.path.isdir(out) and any(sttest.is_trace_name(f) for f in os.listdir(out)),
          "the trace went to $SOCKTRACE_OUT")
    check(not os.path.exists(os.path.join(sb.dir, "socktrace-out")),
          "no socktrace-out/ beside it")
    # The viewer reads the same place with the same variable.
    v = tool(sb, ["view", "-w", "80"], env={"SOCKTRACE_OUT": out})
    check_eq(v.returncode, 0, "view: %s" % v.stderr)
    check("sockuser" in v.stdout, "view found the run's trace: %r" % v.stdout[:300])
    # -o wins over the variable.
    r = tool(sb, ["run", "-q", "-o", "mine", "--", prog("sockuser"), "1"],
             env={"SOCKTRACE_OUT": out})
    check_eq(r.returncode, 0, "run -o: %s" % r.stderr)
    check(os.listdir(os.path.join(sb.dir, "mine")), "-o is used when given")


def test_out_that_is_a_file(sb):
    marker = os.path.join(sb.dir, "ran")
    with open(os.path.join(sb.dir, "afile"), "w") as f:
        f.write("mine\n")
    r = tool(sb, ["run", "-o", "afile", "--", "touch", marker])
    usage_error(r, "run", ["afile", "not a directory"], "-o FILE")
    check(not os.path.exists(marker), "nothing was run")
    r = tool(sb, ["run", "--", "touch", marker], env={"SOCKTRACE_OUT": "afile"})
    usage_error(r, "run", ["SOCKTRACE_OUT=afile", "not a directory"], "SOCKTRACE_OUT=FILE")
    check(not os.path.exists(marker), "nothing was run")
    with open(os.path.join(sb.dir, "afile")) as f:
        check_eq(f.read(), "mine\n", "the file is untouched")


def test_command_that_cannot_start_leaves_nothing(sb):
    r = tool(sb, ["run", "--", "no-such-program-here"])
    check_eq(r.returncode, 127, "not found: %s" % r.stderr)
    check("cannot run no-such-program-here" in r.stderr, "says why: %r" % r.stderr)
    check("trace file" not in r.stderr, "no report of an empty trace: %r" % r.stderr)
    check(not os.path.exists(os.path.join(sb.dir, "socktrace-out")), "no socktrace-out/ made")
    # With an earlier run, latest stays on it.
    r = tool(sb, ["run", "-q", "--", prog("sockuser"), "1"])
    check_eq(r.returncode, 0, "a run that works: %s" % r.stderr)
    root = os.path.join(sb.dir, "socktrace-out")
    before = sorted(os.listdir(root))
    latest = os.readlink(os.path.join(root, "latest"))
    time.sleep(1.1)  # a new run's name would differ by its second
    notexec = os.path.join(sb.dir, "notexec")
    with open(notexec, "w") as f:
        f.write("#!/bin/sh\n")
    for cmd, status in (("no-such-program-here", 127), (notexec, 126)):
        r = tool(sb, ["run", "--", cmd])
        check_eq(r.returncode, status, "%s: %s" % (cmd, r.stderr))
        check_eq(sorted(os.listdir(root)), before, "%s: no run directory left" % cmd)
        check_eq(os.readlink(os.path.join(root, "latest")), latest, "%s: latest unmoved" % cmd)


def test_view_with_no_trace_says_what_to_run(sb):
    with open(os.path.join(sb.dir, "s.scn"), "w") as f:
        f.write("expect connect count>=1\n")
    for cmd, args, status in (("view", [], 1), ("cat", [], 1), ("stats", [], 1),
                              ("assert", ["s.scn"], 3),
                              ("report", ["--format=markdown"], 3)):
        r = tool(sb, [cmd] + args)
        check_eq(r.returncode, status, "%s with no trace" % cmd)
        check(r.stderr.startswith("socktrace %s: no trace here" % cmd), "%s: %r" % (cmd, r.stderr))
        check("socktrace run -- CMD" in r.stderr, "%s: what to run first: %r" % (cmd, r.stderr))


def test_cat_refuses_what_is_no_trace(sb):
    with open(os.path.join(sb.dir, "notes.jsonl"), "w") as f:
        f.write("hello\n")
    for args, stdin in ((["cat", "notes.jsonl"], None), (["cat", "-"], "notes.jsonl")):
        with open(os.path.join(sb.dir, stdin or "notes.jsonl")) as inp:
            r = tool(sb, args, stdin=inp if stdin else None)
        check_eq(r.returncode, 1, "%s: exit status" % args)
        check_eq(r.stdout, "", "%s: nothing passed through" % args)
        check("not a socktrace trace" in r.stderr, "%s: says why: %r" % (args, r.stderr))


def fake_run(root, name, files, pid=None):
    d = os.path.join(root, name)
    os.makedirs(d)
    for f, text in files.items():
        with open(os.path.join(d, f), "w") as fh:
            fh.write(text)
    return d


def ended_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_old_runs_are_pruned(sb):
    root = os.path.join(sb.dir, "socktrace-out")
    dead = ended_pid()
    header = '{"rec":"header","pid":%d}\n'
    names = ["run-20200101-0000%02d-%d" % (i, dead) for i in range(10)]
    for n in names:
        fake_run(root, n, {"trace-%d.jsonl" % dead: header % dead})
    # Kept whatever their age: one whose writer lives (this test), one
    # that holds a file that is no trace, and one that is not a run.
    live = fake_run(root, "run-20190101-000000-%d" % dead,
                    {"trace-%d.jsonl" % os.getpid(): header % os.getpid()})
    other = fake_run(root, "run-20190101-000001-%d" % dead, {"notes.txt": "mine\n"})
    mine = fake_run(root, "keep-me", {"x": ""})
    r = tool(sb, ["run", "-q", "--keep", "3", "--", prog("sockuser"), "1"])
    check_eq(r.returncode, 0, "run --keep 3: %s" % r.stderr)
    left = sorted(os.listdir(root))
    current = os.readlink(os.path.join(root, "latest"))
    want = sorted([os.path.basename(live), os.path.basename(other), "keep-me", "latest",
                   names[-2], names[-1], current])
    check_eq(left, want, "the newest 3 runs, and what may not go")
    check(os.path.isdir(mine), "a directory that is not a run is left")
    # SOCKTRACE_KEEP says the same; 0 keeps every run.
    r = tool(sb, ["run", "-q", "--", prog("sockuser"), "1"], env={"SOCKTRACE_KEEP": "0"})
    check_eq(r.returncode, 0, "SOCKTRACE_KEEP=0: %s" % r.stderr)
    check_eq(len(os.listdir(root)), len(left) + 1, "nothing removed with 0")
    check("unknown variable" not in r.stderr, "the shim knows SOCKTRACE_KEEP: %r" % r.stderr)
    r = tool(sb, ["run", "-q", "--", "true"], env={"SOCKTRACE_KEEP": "many"})
    usage_error(r, "run", ["SOCKTRACE_KEEP", "many"], "a bad SOCKTRACE_KEEP")


def test_did_you_mean(sb):
    r = tool(sb, ["vew"])
    usage_error(r, "", ["unknown command 'vew'", "did you mean 'view'?"], "socktrace vew")
    r = tool(sb, ["run", "--qiuet", "--", "true"])
    usage_error(r, "run", ["'--qiuet'", "did you mean '--quiet'?"], "run --qiuet")
    r = tool(sb, ["view", "--sicne=1", "x"])
    usage_error(r, "view", ["'--sicne'", "did you mean '--since'?"], "view --sicne")
    r = tool(sb, ["cat", "--splt", "d"])
    usage_error(r, "cat", ["did you mean '--split'?"], "cat --splt")
    r = tool(sb, ["view", "-w"])
    usage_error(r, "view", ["'-w' needs a value"], "view -w")
    r = tool(sb, ["view", "--no-"])
    usage_error(r, "view", ["ambiguous"], "view --no-")
    r = tool(sb, ["help", "NOSUCH"])
    usage_error(r, "", ["unknown command 'NOSUCH'"], "help NOSUCH")
    for args in (["-V"], ["--version"], ["version"], ["help", "version"]):
        r = tool(sb, args)
        check_eq(r.returncode, 0, " ".join(args))
        check(r.stdout.startswith("socktrace "), "%s prints the version" % args)


def test_one_exit_status_table(sb):
    r = tool(sb, ["--help"])
    check_eq(r.returncode, 0, "--help")
    check("exit status:" in r.stdout, "--help has the exit status table")
    table = r.stdout.split("exit status:\n", 1)[1]
    for status in ("0", "1", "2", "3", "122", "125", "126", "127", "128+N"):
        check(("\n  %s " % status) in "\n" + table, "status %s in the table" % status)
    # The man page's table lists the same statuses.
    man = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "docs", "socktrace.1.scd")
    with open(man) as f:
        page = f.read()
    section = page.split("# EXIT STATUS", 1)[1].split("\n# ", 1)[0]
    in_page = [l[1:].strip() for l in section.split("\n") if l.startswith("|")]
    in_help = [l.split()[0] for l in table.split("\n") if l.startswith("  ") and
               not l.startswith("   ")]
    check_eq(in_page, in_help, "the man page and --help list the same statuses")
    # And the table the README links to.
    with open(os.path.join(os.path.dirname(man), "ci.md")) as f:
        doc = f.read()
    section = doc.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    in_doc = [l.split("|")[1].strip() for l in section.split("\n")
              if l.startswith("| ") and not l.startswith("| status")]
    check_eq(in_doc, in_help, "docs/ci.md and --help list the same statuses")


def test_strace_habits_get_a_pointer(sb):
    marker = os.path.join(sb.dir, "ran")
    r = tool(sb, ["run", "-ff", "--", "touch", marker])
    usage_error(r, "run", ["-ff is strace's", "every process"], "run -ff")
    r = tool(sb, ["run", "-e", "trace=connect", "touch", marker])
    usage_error(r, "run", ["-e is strace's", "socktrace view --fn"], "run -e")
    r = tool(sb, ["run", "-p", "1234"])
    usage_error(r, "run", ["cannot attach", "ctl"], "run -p PID")
    r = tool(sb, ["run", "-p", "12"])
    usage_error(r, "run", ["cannot attach", "--payload"], "run -p N with no command")
    check(not os.path.exists(marker), "nothing was run")


HANDLER = r"""
import os, signal, sys, time
got = []
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
    signal.signal(s, lambda n, f: got.append(n))
open(sys.argv[1], "w").close()
end = time.time() + 20
while not got and time.time() < end:
    time.sleep(0.01)
time.sleep(0.5)  # a second copy of the signal would arrive by now
sys.exit(40 + len(got) * 10 + (got[0] if got else 0))
"""


def start_handler(sb, tag, popen_args=None):
    ready = os.path.join(sb.dir, "ready-" + tag)
    argv = [TOOL, "run", "-q", "-o", "tr-" + tag, "--", sys.executable, "-c", HANDLER, ready]
    return ready, argv


def wait_file(path, proc):
    end = time.time() + sttest.RUN_TIMEOUT_S
    while not os.path.exists(path):
        check(proc.poll() is None if hasattr(proc, "poll") else True, "still running")
        check(time.time() < end, "%s appears" % path)
        time.sleep(0.02)


def test_signals_reach_the_command(sb):
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        ready, argv = start_handler(sb, str(int(sig)))
        p = subprocess.Popen(argv, cwd=sb.dir, env=clean_env(), stderr=subprocess.PIPE,
                             start_new_session=True)
        wait_file(ready, p)
        os.kill(p.pid, sig)
        try:
            status = p.wait(timeout=sttest.RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            raise sttest.Fail("%s sent to socktrace run did not reach the command" % sig.name)
        check_eq(status, 40 + 10 + int(sig), "%s reached the command once; its status" % sig.name)


def test_terminal_interrupt_reaches_the_command_once(sb):
    # ^C typed at a terminal goes to the whole foreground group: run must
    # not send the command a second one.
    ready, argv = start_handler(sb, "tty")
    pid, master = pty.fork()
    if pid == 0:
        os.chdir(sb.dir)
        os.execve(TOOL, argv, clean_env())
    try:
        end = time.time() + sttest.RUN_TIMEOUT_S
        while not os.path.exists(ready):
            check(time.time() < end, "the command started under the pty")
            time.sleep(0.02)
        os.write(master, b"\x03")
        status = None
        while time.time() < end:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    os.read(master, 4096)
                except OSError:
                    pass
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(st)
                break
        check(status is not None, "socktrace run ended after ^C")
        check_eq(status, 40 + 10 + int(signal.SIGINT), "one SIGINT, the command's status")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(master)


FDS = r"""
import os, socket
s = socket.socket()
s.close()
fd = os.open("/dev/null", os.O_RDONLY)
# The shim's own descriptors sit at the top of the limit, out of the way.
print(fd, sorted(int(x) for x in os.listdir("/proc/self/fd") if int(x) < 1000))
"""


def test_backtrace_keeps_descriptors_free(sb):
    plain = subprocess.run([sys.executable, "-c", FDS], cwd=sb.dir, env=clean_env(),
                           capture_output=True, text=True, timeout=sttest.RUN_TIMEOUT_S)
    check_eq(plain.returncode, 0, "untraced: %s" % plain.stderr)
    for opt in ("--backtrace", "--backtrace=errors", "--backtrace=4"):
        r = tool(sb, ["run", "-q", "-o", "tr", opt, "--", sys.executable, "-c", FDS])
        check_eq(r.returncode, 0, "%s: %s" % (opt, r.stderr))
        check_eq(r.stdout, plain.stdout, "%s: the same descriptors as untraced" % opt)


if __name__ == "__main__":
    sttest.main()
