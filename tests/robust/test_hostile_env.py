"""Bad SOCKTRACE_* settings: empty, huge (100 KB), not UTF-8, unknown names,
and scenario files that are not files. Each must give one clear message
(the shim's own line, "socktrace[PID]: ...", on stderr) and then either
run the program as documented (traced with the default, or untraced) or,
for fault rules, refuse to start it with status 125. Never a crash, never
a hang, never a message that is not the shim's.

tests/unit/test_config.c checks the parsing of each value; this runs the
real shim in a real process with them, through the environment."""

import os
import stat

import rtest
import sttest
from rtest import check, check_eq, rprog, shim_lines

HUGE = 100000  # below the kernel's 128 KiB limit for one environment string
NOT_UTF8 = os.fsdecode(b"\xff\xfe\xc3(")


def run_probe(sb, env, out=None, expect_rc=0, timeout=10):
    res = sb.run([rprog("envprobe")], env=env, out=out, check_rc=False, timeout=timeout)
    check(res.returncode >= 0, "envprobe was killed by signal %d\n%s"
          % (-res.returncode, res.explain()))
    check_eq(res.returncode, expect_rc, "envprobe's status\n" + res.explain())
    lines = shim_lines(res.err)
    # Lines end at "\n" only: a message echoing a control character of a
    # hostile value is still one line.
    others = [line for line in res.err.split("\n")[:-1] if line not in lines]
    check_eq(others, [], "stderr lines that are not the shim's messages")
    for line in lines:
        check(line.startswith("socktrace[%d]: " % res.pid),
              "a message with the program's pid: %r" % line)
    if expect_rc == 0:
        check(res.out.endswith("ok\n"), "the program ran to its end: %r" % res.out)
    return res, lines


def one_message(lines, *words):
    check_eq(len(lines), 1, "messages from the shim: %r" % lines)
    for w in words:
        check(w in lines[0], "the message names %r: %r" % (w, lines[0]))
    return lines[0]


def traced(sb, res, out=None, payload=0):
    tf = sb.trace(out).file(pid=res.pid)
    tf.check_clean()
    check_eq([e["fn"] for e in tf.calls()], ["socketpair", "send", "recv", "close", "close"],
             "the program's calls in the trace", tf.records)
    check_eq(tf.header["payload"], payload, "payload recorded per call", [tf.header])
    return tf


def untraced(sb, res, where):
    for d in where:
        if os.path.isdir(d):
            check_eq([n for n in os.listdir(d) if sttest.is_trace_name(n)], [],
                     "trace files in %s" % d)


# --- empty values ------------------------------------------------------------

def test_empty_out(sb):
    res, lines = run_probe(sb, {"SOCKTRACE_OUT": ""}, out="")
    one_message(lines, "SOCKTRACE_OUT", "empty")
    traced(sb, res, out=os.path.join(sb.dir, "socktrace-out"))


def test_empty_values_with_a_default(sb):
    """Each of these is reported once and its default used; the program is
    traced as usual."""
    for name in ("SOCKTRACE_PAYLOAD", "SOCKTRACE_LOG", "SOCKTRACE_SEED"):
        out = os.path.join(sb.dir, "t-" + name)
        res, lines = run_probe(sb, {name: ""}, out=out)
        one_message(lines, name)
        traced(sb, res, out=out)


def test_empty_lists_mean_none(sb):
    """An empty rule list, scenario list or stack setting is simply none:
    no message, traced as usual, no rules in the header."""
    for name in ("SOCKTRACE_FAULTS", "SOCKTRACE_SCENARIO", "SOCKTRACE_BACKTRACE"):
        out = os.path.join(sb.dir, "t-" + name)
        res, lines = run_probe(sb, {name: ""}, out=out)
        check_eq(lines, [], "messages for an empty %s" % name)
        tf = traced(sb, res, out=out)
        check("rules" not in tf.header and "backtrace" not in tf.header,
              "no rules or stacks in the header", [tf.header])


# --- huge values -------------------------------------------------------------

def test_huge_out(sb):
    res, lines = run_probe(sb, {"SOCKTRACE_OUT": "/tmp/" + "d" * HUGE})
    one_message(lines, "SOCKTRACE_OUT", "longer than")
    untraced(sb, res, [sb.out, os.path.join(sb.dir, "socktrace-out")])


def test_huge_payload_number(sb):
    res, lines = run_probe(sb, {"SOCKTRACE_PAYLOAD": "9" * HUGE})
    one_message(lines, "SOCKTRACE_PAYLOAD")
    traced(sb, res, payload=1024)


def test_huge_values_ignored(sb):
    """Values too long to keep whole are reported and ignored; the program
    runs, traced, without them."""
    cases = {
        "SOCKTRACE_FAULTS": ("recv delay=1ms;" * (HUGE // 15))[:HUGE],
        "SOCKTRACE_SCENARIO": ("/nonexistent/x.scn:" * (HUGE // 19))[:HUGE],
        "SOCKTRACE_SEED": "7" * HUGE,
        "SOCKTRACE_BACKTRACE": "1" * HUGE,
        "SOCKTRACE_LOG": "/tmp/" + "l" * HUGE,
    }
    for name, value in cases.items():
        out = os.path.join(sb.dir, "t-" + name)
        res, lines = run_probe(sb, {name: value}, out=out)
        one_message(lines, name)
        check(len(lines[0]) < 1100, "%s: the message is short (%d bytes)"
              % (name, len(lines[0])))
        tf = traced(sb, res, out=out)
        check("rules" not in tf.header, "no rules in force", [tf.header])


# --- not UTF-8 ---------------------------------------------------------------

def test_out_not_utf8(sb):
    """A directory name that is not UTF-8 is still a valid path: used as is,
    without a word."""
    out = os.path.join(sb.dir, "dir-" + NOT_UTF8)
    res, lines = run_probe(sb, {}, out=out)
    check_eq(lines, [], "messages")
    traced(sb, res, out=out)


def test_log_not_utf8(sb):
    """SOCKTRACE_LOG, a path that is not UTF-8: the messages go there."""
    log = os.path.join(sb.dir, "log-" + NOT_UTF8)
    res, lines = run_probe(sb, {"SOCKTRACE_LOG": log, "SOCKTRACE_PAYLOAD": "x"})
    check_eq(lines, [], "messages on stderr (they go to the log file)")
    with open(log, "rb") as f:
        logged = f.read().decode("utf-8", "replace").split("\n")[:-1]
    one_message(logged, "SOCKTRACE_PAYLOAD")
    traced(sb, res)


def test_values_not_utf8(sb):
    for name in ("SOCKTRACE_PAYLOAD", "SOCKTRACE_SEED", "SOCKTRACE_BACKTRACE"):
        out = os.path.join(sb.dir, "t-" + name)
        res, lines = run_probe(sb, {name: NOT_UTF8}, out=out)
        one_message(lines, name)
        traced(sb, res, out=out)


def test_rule_not_utf8(sb):
    """A bad rule stops the program before it starts (status 125), with
    the place of the error."""
    res, lines = run_probe(sb, {"SOCKTRACE_FAULTS": "recv error=" + NOT_UTF8}, expect_rc=125)
    check_eq(res.out, "", "the program did not run")
    check(len(lines) >= 1 and "SOCKTRACE_FAULTS:1:" in lines[0],
          "the error names SOCKTRACE_FAULTS:1:COL: %r" % lines)
    check(len(lines) <= 2 and "does not start" in lines[-1], "and says the program does not "
          "start: %r" % lines)


# --- unknown names -----------------------------------------------------------

def test_unknown_variable_with_suggestion(sb):
    res, lines = run_probe(sb, {"SOCKTRACE_OUTT": "x"})
    one_message(lines, "SOCKTRACE_OUTT", "did you mean SOCKTRACE_OUT?")
    traced(sb, res)


def test_unknown_variables_odd_names(sb):
    for name in ("SOCKTRACE_", "SOCKTRACE_" + "X" * 300, "SOCKTRACE_" + NOT_UTF8,
                 "SOCKTRACE_LIB_EXTRA"):
        out = os.path.join(sb.dir, "t%d" % len(name))
        res, lines = run_probe(sb, {name: "1"}, out=out)
        one_message(lines, "unknown variable SOCKTRACE_")
        check(len(lines[0]) < 300, "the message is short: %d bytes" % len(lines[0]))
        traced(sb, res, out=out)


def test_many_unknown_variables(sb):
    """Two hundred of them: reported (the messages may be capped), no
    crash, traced as usual."""
    env = {"SOCKTRACE_UNKNOWN_%03d" % i: "v" for i in range(200)}
    res, lines = run_probe(sb, env)
    check(1 <= len(lines) <= 200, "one message per unknown name at most: %d" % len(lines))
    check(all("unknown variable SOCKTRACE_UNKNOWN_" in line for line in lines),
          "the messages name them: %r" % lines[:3])
    traced(sb, res)


# --- scenario files that are not files --------------------------------------

def test_scenario_missing(sb):
    res, lines = run_probe(sb, {"SOCKTRACE_SCENARIO": "/nonexistent/flaky.scn"}, expect_rc=125)
    check("cannot open /nonexistent/flaky.scn" in lines[0], "says which file: %r" % lines)
    check_eq(res.out, "", "the program did not run")


def test_scenario_too_large(sb):
    big = os.path.join(sb.dir, "big.scn")
    with open(big, "wb") as f:
        f.truncate(17 << 20)  # sparse: 17 MiB of NUL bytes
    res, lines = run_probe(sb, {"SOCKTRACE_SCENARIO": big}, expect_rc=125)
    check("at most 16 MiB" in lines[0], "says why: %r" % lines)


def test_scenario_binary_garbage(sb):
    junk = os.path.join(sb.dir, "junk.scn")
    with open(junk, "wb") as f:
        f.write(bytes(range(256)) * 16 + b"\n" + b"recv \xff\x00\x01 error=EAGAIN\n")
    res, lines = run_probe(sb, {"SOCKTRACE_SCENARIO": junk}, expect_rc=125)
    check(lines and all(line.split(": ", 1)[1].startswith(junk + ":") for line in lines[:-1]),
          "every error names the file and line: %r" % lines[:3])
    check("does not start" in lines[-1], "the last message says the program does not start")


def test_scenario_is_a_directory(sb):
    """A directory is not a scenario file: like a missing file, it must be
    reported and the program must not start with rules quietly missing."""
    d = os.path.join(sb.dir, "scenarios")
    os.mkdir(d)
    res, lines = run_probe(sb, {"SOCKTRACE_SCENARIO": d}, expect_rc=125)
    check(lines and d in lines[0], "the message names the directory: %r" % lines)


def test_scenario_is_a_fifo(sb):
    """A FIFO (or a terminal, or a socket) as the scenario: opening it for
    reading blocks until a writer comes. The program must neither hang nor
    start with rules quietly missing."""
    fifo = os.path.join(sb.dir, "rules.fifo")
    os.mkfifo(fifo)
    check(stat.S_ISFIFO(os.stat(fifo).st_mode), "made a FIFO")
    try:
        res, lines = run_probe(sb, {"SOCKTRACE_SCENARIO": fifo}, expect_rc=125, timeout=8)
    except sttest.Fail as e:
        if "did not finish" in str(e):
            raise sttest.Fail("SOCKTRACE_SCENARIO naming a FIFO: the program hangs at start-up "
                              "(the shim blocks opening it for reading)")
        raise
    check(lines and fifo in lines[0], "the message names the FIFO: %r" % lines)


def test_check_scenario_not_a_file(sb):
    """socktrace check (and run -s) read the same files: a directory or a
    FIFO given as a scenario must be an error, at once, not a silent
    success or a hang."""
    import subprocess
    d = os.path.join(sb.dir, "scenarios")
    os.mkdir(d)
    fifo = os.path.join(sb.dir, "rules.fifo")
    os.mkfifo(fifo)
    problems = []
    for path in (d, fifo):
        try:
            r = subprocess.run([rtest.tool(), "check", path], capture_output=True, text=True,
                               timeout=5, cwd=sb.dir)
        except subprocess.TimeoutExpired:
            problems.append("socktrace check %s: hangs" % os.path.basename(path))
            continue
        if r.returncode != 1 or os.path.basename(path) not in r.stderr:
            problems.append("socktrace check %s: status %d, stderr %r (expected 1 and a "
                            "message naming it)" % (os.path.basename(path), r.returncode,
                                                    r.stderr))
    check(not problems, "; ".join(problems))


if __name__ == "__main__":
    rtest.main()
