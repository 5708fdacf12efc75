"""What the shim cannot see is reported, not silently left out.

- io_uring: a program that sets up an io_uring instance with
  syscall(SYS_io_uring_setup, ...) and then uses a socket the ordinary
  way: its trace has the ordinary calls and a record
  {"rec":"warning","kind":"io_uring",...}; `socktrace run` prints it after
  the program ends. Again with liburing, whose system calls bypass the C
  library's syscall() and whose sends and receives go through the ring:
  the instance still open at exit is found and reported.
- Statically linked programs: tests/integration/test_run.py checks that
  `socktrace run` warns about one; here the case a simple check could
  miss (a static PIE, which is ET_DYN like a shared object, but has no
  program interpreter), and that the warning comes before the program
  runs, with the program's status passed through. A dynamic program gets
  no such warning."""

import os
import subprocess

import rtest
from rtest import check, check_eq, rprog


def warnings_of(tf):
    return [r for r in tf.records if r["rec"] == "warning"]


def check_io_uring(sb, prog, how):
    res = sb.run([prog], check_rc=False)
    if res.returncode == 77:
        rtest.skip(res.out.strip())
    check_eq(res.returncode, 0, "status\n" + res.explain())
    check(res.out.endswith("done\n"), "the program ran to its end: %r" % res.out)
    tf = sb.trace().file(pid=res.pid)
    tf.check_clean()
    warns = warnings_of(tf)
    check_eq(len(warns), 1, "warning records", tf.records)
    w = warns[0]
    check_eq((w.get("kind"), w.get("how"), w.get("pid")), ("io_uring", how, res.pid),
             "the warning's kind, how and pid", [w])
    check("io_uring" in w.get("message", "") and isinstance(w.get("ts"), int),
          "the warning has a message and a time", [w])
    # The ordinary calls are all there; those made through the ring are not
    # (they cannot be: that is what the warning is for).
    calls = [(e["fn"], e.get("bytes")) for e in tf.calls()]
    check(("send", len("ping") if how == "io_uring_setup" else len("plain")) in calls,
          "the ordinary send is traced", tf.records)
    check(calls[0][0] == "socketpair" and calls.count(("close", None)) == 2,
          "socketpair ... close, close: %s" % calls)

    # socktrace run says so after the program ends, and the viewer reads
    # the warning record as a kind it may skip.
    out = os.path.join(sb.dir, "via-run")
    r = subprocess.run([rtest.tool(), "run", "-o", out, "--", prog], capture_output=True,
                       text=True, timeout=30, env=sb.env(traced=False), cwd=sb.dir)
    check_eq(r.returncode, 0, "socktrace run's status: %s" % r.stderr)
    said = [line for line in r.stderr.splitlines() if "io_uring" in line]
    check(said, "socktrace run printed the io_uring warning: %r" % r.stderr)
    v = subprocess.run([rtest.tool(), "view", "-f", "jsonl", out], capture_output=True,
                       text=True, timeout=30)
    check_eq(v.returncode, 0, "socktrace view on a trace with a warning: %s" % v.stderr)


def test_io_uring_setup_syscall(sb):
    check_io_uring(sb, rprog("io_uring_raw"), "io_uring_setup")


def test_io_uring_liburing(sb):
    prog = rtest.rprog_optional("io_uring_liburing",
                                "built only with liburing (Debian package liburing-dev)")
    check_io_uring(sb, prog, "fd")


def run_tool_merged(sb, argv):
    """socktrace run with the tool's and the program's stderr in one pipe,
    in the order written."""
    r = subprocess.run([rtest.tool(), "run", "-o", os.path.join(sb.dir, "t")] + argv,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                       env=sb.env(traced=False), cwd=sb.dir)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def check_static_warning(sb, name):
    prog = rtest.rprog_optional(name, "no static libc here (Debian package libc6-dev): %s was "
                                "not built" % name)
    rc, text = run_tool_merged(sb, ["--", prog])
    check_eq(rc, 7, "the static program's own status, passed through: %r" % text)
    lines = text.splitlines()
    warn = [i for i, line in enumerate(lines) if "statically linked" in line]
    ran = [i for i, line in enumerate(lines) if line == "static program ran"]
    check(warn, "socktrace run warns that %s is statically linked: %r" % (name, text))
    check(ran, "the program ran: %r" % text)
    check(warn[0] < ran[0], "the warning comes before the program runs: %r" % text)
    check(prog in lines[warn[0]], "the warning names the program: %r" % lines[warn[0]])
    t = os.path.join(sb.dir, "t")
    check(not os.path.isdir(t) or not [n for n in os.listdir(t) if rtest.sttest.is_trace_name(n)],
          "no trace file from a static program")


def test_static_program_warned_before_it_runs(sb):
    check_static_warning(sb, "static_sock")


def test_static_pie_program_warned(sb):
    check_static_warning(sb, "static_pie_sock")


def test_dynamic_program_not_warned(sb):
    rc, text = run_tool_merged(sb, ["--", rprog("envprobe")])
    check_eq(rc, 0, "envprobe under socktrace run: %r" % text)
    check("statically linked" not in text and "warning" not in text,
          "no warning for a dynamic program: %r" % text)
    # And through a PATH lookup, as a bare command name.
    env = sb.env(traced=False)
    env["PATH"] = os.path.dirname(rprog("envprobe")) + ":" + env.get("PATH", "")
    r = subprocess.run([rtest.tool(), "run", "-q", "-o", os.path.join(sb.dir, "p"), "--",
                        "envprobe"], capture_output=True, text=True, timeout=30, env=env,
                       cwd=sb.dir)
    check_eq((r.returncode, r.stderr), (0, ""), "envprobe found in PATH, no warning")


def test_static_program_found_in_path(sb):
    prog = rtest.rprog_optional("static_sock", "no static libc here (Debian package "
                                "libc6-dev): static_sock was not built")
    env = sb.env(traced=False)
    env["PATH"] = os.path.dirname(prog) + ":" + env.get("PATH", "")
    r = subprocess.run([rtest.tool(), "run", "-q", "-o", os.path.join(sb.dir, "p"), "--",
                        "static_sock"], capture_output=True, text=True, timeout=30, env=env,
                       cwd=sb.dir)
    check_eq(r.returncode, 7, "static_sock's status: %r" % r.stderr)
    check("statically linked" in r.stderr, "warned for a command found in PATH: %r" % r.stderr)


if __name__ == "__main__":
    rtest.main()
