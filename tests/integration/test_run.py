"""socktrace run: the command's status passed through, where the trace
goes, LD_PRELOAD kept, and the warnings about programs the shim cannot see."""

import os
import re
import shutil
import signal
import subprocess

import sttest
from sttest import check, check_eq, prog

TOOL = os.environ.get("SOCKTRACE_TOOL", "")


def run_tool(sb, args, env=None, cwd=None):
    # The test harness's own SOCKTRACE_* settings are not for the shim.
    full = {k: v for k, v in os.environ.items()
            if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")}
    full.update(env or {})
    return subprocess.run([TOOL] + args, cwd=cwd or sb.dir, env=full, capture_output=True,
                          text=True, timeout=sttest.RUN_TIMEOUT_S)


def test_exit_status_passes_through(sb):
    check(TOOL and os.path.exists(TOOL), "SOCKTRACE_TOOL: %r" % TOOL)
    for code in (0, 3, 42):
        r = run_tool(sb, ["run", "-q", "-o", "tr", "--", "sh", "-c", "exit %d" % code])
        check_eq(r.returncode, code, "exit status of sh -c 'exit %d'" % code)
    r = run_tool(sb, ["run", "-q", "-o", "tr", "--", "sh", "-c", "kill -TERM $$"])
    check_eq(r.returncode, 128 + signal.SIGTERM, "killed by SIGTERM: 128+15")
    r = run_tool(sb, ["run", "-q", "-o", "tr", "--", "no-such-program-here"])
    check_eq(r.returncode, 127, "a command that cannot be found")
    check("cannot run no-such-program-here" in r.stderr, "says why: %r" % r.stderr)
    r = run_tool(sb, ["run", "-q"])
    check_eq(r.returncode, 2, "no command is a usage error")


def test_default_directory_and_latest(sb):
    r = run_tool(sb, ["run", "--", prog("sockuser"), "1"])
    check_eq(r.returncode, 0, "sockuser under socktrace run: %s" % r.stderr)
    latest = os.path.join(sb.dir, "socktrace-out", "latest")
    check(os.path.islink(latest), "socktrace-out/latest is a link")
    target = os.path.realpath(latest)
    check(os.path.basename(target).startswith("run-"), "latest points at a run directory")
    check("trace file" in r.stderr and "socktrace-out/run-" in r.stderr,
          "says where the trace went: %r" % r.stderr)
    files = [f for f in os.listdir(target) if sttest.is_trace_name(f)]
    check(files, "the run directory holds the trace")
    check_eq(os.stat(target).st_mode & 0o777, 0o700, "run directory mode")
    for f in files:
        check_eq(os.stat(os.path.join(target, f)).st_mode & 0o777, 0o600, "trace file mode")


def test_existing_preload_is_kept(sb):
    # The program's own LD_PRELOAD stays, after ours.
    r = run_tool(sb, ["run", "-q", "-o", "tr", "--", "sh", "-c", "echo $LD_PRELOAD"],
                 env={"LD_PRELOAD": "libc.so.6"})
    check_eq(r.returncode, 0, "run with an LD_PRELOAD already set")
    parts = r.stdout.strip().split(":")
    # The shim by its SONAME's file (libsocktrace.so.1).
    check(re.search(r"/libsocktrace\.so\.[0-9]+$", parts[0]) and parts[-1] == "libc.so.6",
          "LD_PRELOAD is ours then the program's: %r" % r.stdout)


def test_static_program_warning(sb):
    static = prog("static_hello")
    if not os.path.exists(static):
        sttest.skip("no static libc here (libc6-dev's libc.a): static_hello was not built")
    r = run_tool(sb, ["run", "-q", "-o", "tr", "--", static])
    check_eq(r.returncode, 0, "the static program still runs")
    check("statically linked" in r.stderr, "warns that nothing will be traced: %r" % r.stderr)
    check("static socket 1" in r.stdout, "the program's own output: %r" % r.stdout)
    check(not os.path.exists(os.path.join(sb.dir, "tr")) or
          not [f for f in os.listdir(os.path.join(sb.dir, "tr")) if sttest.is_trace_name(f)],
          "and indeed no trace file")


def test_go_program_warning(sb):
    r = run_tool(sb, ["run", "-q", "-o", "tr", "--", prog("go_lookalike")])
    check_eq(r.returncode, 0, "the program still runs")
    check("is a Go program" in r.stderr and "will not be traced" in r.stderr,
          "warns that Go's connections are not seen: %r" % r.stderr)
    check("go lookalike 32" in r.stdout, "the program's own output: %r" % r.stdout)
    r = run_tool(sb, ["run", "-q", "-o", "tr2", "--", prog("sockuser"), "1"])
    check("Go program" not in r.stderr, "no such warning for a C program: %r" % r.stderr)


def test_setuid_program_warning(sb):
    if os.geteuid() != 0:
        sttest.skip("needs root to make a set-user-ID copy owned by another user")
    copy = os.path.join(sb.dir, "suid_sockuser")
    shutil.copy(prog("sockuser"), copy)
    os.chown(copy, 65534, 65534)
    os.chmod(copy, 0o4755)
    r = run_tool(sb, ["run", "-q", "-o", "tr", "--", copy])
    check("set-user/group-ID" in r.stderr, "warns about the setuid program: %r" % r.stderr)


def test_help(sb):
    for args in (["--help"], ["run", "--help"], ["help", "run"], ["check", "--help"],
                 ["view", "--help"], ["stats", "--help"]):
        r = run_tool(sb, args)
        check_eq(r.returncode, 0, "socktrace %s" % " ".join(args))
        check("usage:" in r.stdout, "usage text for %s" % args)


if __name__ == "__main__":
    sttest.main()
