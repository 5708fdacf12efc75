"""Call stacks (SOCKTRACE_BACKTRACE) and faults chosen by caller (caller=).

progs/callers.c is built twice: with -g -O0 -fno-omit-frame-pointer
(callers_fp) and with -O2 -fomit-frame-pointer (callers_o2), so that the
unwinder is shown to work from unwind tables alone."""

import os
import shutil
import subprocess

import sttest
from sttest import check, check_eq, prog

BUILDS = ("callers_fp", "callers_o2")


def funcs(event):
    """The function names of an event's stack, innermost first."""
    return [f.get("func", "").split("+")[0] for f in event.get("stack", [])]


def connects(tf):
    return tf.calls(fn="connect")


def test_stacks_name_the_callers(sb):
    for build in BUILDS:
        res = sb.run([prog(build), "plain"], env={"SOCKTRACE_BACKTRACE": "8"})
        check("health_check Connection refused retry_path Connection refused" in res.out,
              "%s: both connects were refused for real: %r" % (build, res.out))
        tf = sb.trace().file(pid=res.pid)
        first, second = connects(tf)
        check_eq(funcs(first)[:4], ["db_connect", "health_check", "workload", "main"],
                 build + ": stack of the first connect", [first])
        check_eq(funcs(second)[:4], ["db_connect", "retry_path", "workload", "main"],
                 build + ": stack of the second connect", [second])
        send = tf.calls(fn="send")[0]
        recv = tf.calls(fn="recv")[0]
        check_eq(funcs(send)[:2], ["send_request", "workload"], build + ": send's stack", [send])
        check_eq(funcs(recv)[:2], ["read_reply", "workload"], build + ": recv's stack", [recv])
        exe = os.path.realpath(prog(build))
        for e in (first, send):
            top = e["stack"][0]
            check_eq(top["module"], exe, build + ": module is the program's absolute path", [e])
            check(int(top["offset"], 16) + 1 + (int(top["ip"], 16) - int(top["offset"], 16) - 1)
                  == int(top["ip"], 16), "offset is ip - base - 1", [e])
            check(len(e["stack"]) <= 8, "at most 8 frames", [e])
        # No frame of the shim itself.
        for e in tf.calls():
            for f in e.get("stack", []):
                check("libsocktrace" not in f.get("module", ""), "no shim frames", [e])


def test_addr2line_finds_the_line(sb):
    if not shutil.which("addr2line"):
        sttest.skip("addr2line (binutils) is not installed")
    res = sb.run([prog("callers_fp"), "plain"], env={"SOCKTRACE_BACKTRACE": "4"})
    tf = sb.trace().file(pid=res.pid)
    top = connects(tf)[0]["stack"][0]
    out = subprocess.run(["addr2line", "-f", "-e", top["module"], top["offset"]],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    check_eq(out[0], "db_connect", "addr2line's function for the connect's caller")
    check(out[1].split(":")[0].endswith("callers.c"), "addr2line's file: %r" % out[1])


def test_errors_only_mode(sb):
    res = sb.run([prog("callers_o2"), "plain"], env={"SOCKTRACE_BACKTRACE": "errors"})
    tf = sb.trace().file(pid=res.pid)
    check_eq(tf.header.get("backtrace_errors"), True, "header says errors only")
    for e in connects(tf):
        check("stack" in e, "a failed connect has its stack", [e])
    for e in tf.calls(fn="send") + tf.calls(fn="recv") + tf.calls(fn="socket"):
        check("stack" not in e, "a call that succeeded has no stack", [e])


def test_caller_rule_faults_only_that_path(sb):
    for build in BUILDS:
        for rule in ("connect caller=retry_path error=EHOSTUNREACH",
                     "connect caller=%s:retry_* error=EHOSTUNREACH" % build):
            res = sb.run([prog(build), "plain"], env={"SOCKTRACE_FAULTS": rule})
            check("health_check Connection refused retry_path No route to host" in res.out,
                  "%s, %s: only retry_path's connect is faulted: %r" % (build, rule, res.out))
            tf = sb.trace().file(pid=res.pid)
            first, second = connects(tf)
            check("fault" not in first, "health_check's connect is not faulted", [first])
            check_eq(second.get("errno"), "EHOSTUNREACH", "retry_path's connect", [second])
            check_eq(second["fault"]["action"], "error", "fault action", [second])
    # A module glob that does not match spares both.
    res = sb.run([prog("callers_o2"), "plain"],
                 env={"SOCKTRACE_FAULTS": "connect caller=libc.so*:retry_path error=EHOSTUNREACH"})
    check("retry_path Connection refused" in res.out, "wrong module: no fault: %r" % res.out)


def test_thread_and_fork_child(sb):
    res = sb.run([prog("callers_o2"), "thread"], env={"SOCKTRACE_BACKTRACE": "8"})
    tf = sb.trace().file(pid=res.pid)
    c = connects(tf)[0]
    check_eq(funcs(c)[:3], ["db_connect", "health_check", "workload"], "thread's stack", [c])
    check("worker_main" in funcs(c), "the thread's start function is on the stack", [c])
    check(c["tid"] != res.pid, "the connect ran in the thread", [c])

    res = sb.run([prog("callers_o2"), "fork"], env={"SOCKTRACE_BACKTRACE": "8"})
    trace = sb.trace()
    child = [f for f in trace.files if f.ppid == res.pid]
    check_eq(len(child), 1, "one trace file for the fork child")
    c = connects(child[0])[0]
    check("child_main" in funcs(c), "the child's stack names child_main", [c])


def test_signal_handler_while_unwinding(sb):
    res = sb.run([prog("callers_o2"), "signal"],
                 env={"SOCKTRACE_BACKTRACE": "errors:16"}, timeout=40)
    fields = res.out.split()
    check(fields[:1] == ["signal"], "summary line: %r" % res.out)
    connects_done, ticks, drained = int(fields[2]), int(fields[4]), int(fields[6])
    check_eq(drained, ticks, "every tick's byte arrived")
    tf = sb.trace().file(pid=res.pid)
    check_eq(tf.end["dropped"], 0, "dropped records", [tf.end])
    sends = tf.calls(fn="send", ret=1)
    check_eq(len(sends), ticks, "handler sends recorded")
    check_eq(len(tf.calls(fn="connect")), connects_done, "connects recorded")
    # Every failed connect carries a stack unless the handler interrupted
    # the unwinder on this very thread (then the nested one is cut).
    with_stack = [e for e in tf.calls(fn="connect") if e.get("stack")]
    check(len(with_stack) >= connects_done * 0.9, "most connects have their stack",
          tf.calls(fn="connect")[:3])



# The numbers a program's first sockets get, printed by a C program that
# makes three sockets (closing the first) and by Python.
FIRST_FDS_PY = ("import socket\n"
                "a = socket.socket(); b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "first = (a.fileno(), b.fileno()); a.close()\n"
                "print(*first, socket.socket().fileno())\n")


def test_backtrace_leaves_the_programs_descriptors(sb):
    """libunwind opens a pipe the first time it unwinds (memory
    validation); it took 3 and 4, so the program's first socket() got 5.
    The shim moves it above the program's range."""
    plain = sb.run(["python3", "-c", FIRST_FDS_PY], traced=False).out.split()
    check_eq(plain, ["3", "4", "3"], "untraced, the first free numbers")
    for env in ({"SOCKTRACE_BACKTRACE": "8"}, {"SOCKTRACE_BACKTRACE": "errors:4"}):
        res = sb.run(["python3", "-c", FIRST_FDS_PY], env=env)
        check_eq(res.out.split(), plain, "socket numbers with %s" % env)
        socks = sb.trace().file(pid=res.pid).calls(fn="socket")
        check_eq([e["fd"] for e in socks], [3, 4, 3], "the trace's socket numbers", socks)
        if env["SOCKTRACE_BACKTRACE"] == "8":
            check(all(e.get("stack") for e in socks), "stacks were recorded", socks)
    # The same through the tool, as the user ran it.
    tool = os.environ.get("SOCKTRACE_TOOL", "")
    res = subprocess.run([tool, "run", "-q", "--backtrace", "-o", os.path.join(sb.dir, "run"),
                          "--", "python3", "-c", FIRST_FDS_PY], cwd=sb.dir, env=sb.env(traced=False),
                         capture_output=True, text=True, timeout=20)
    check_eq(res.returncode, 0, "socktrace run --backtrace: %s" % res.stderr)
    check_eq(res.stdout.split(), plain, "socket numbers under socktrace run --backtrace")


if __name__ == "__main__":
    sttest.main()
