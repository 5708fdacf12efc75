#!/usr/bin/env python3
"""Runs CPython's own socket tests twice, without and with the shim (tracing
on), and compares the results test by test: the same tests must pass, fail
and skip. Then checks the trace the second run left: every file parses,
every process that ended normally has its end record, and the tests'
socket calls are in it.

    cpython_compare.py --shim build/preload/libsocktrace.so [--quick]

The tests come from Debian's libpython3.11-testsuite (the `test` package
of /usr/bin/python3.11); without it the script exits 77. Test cases
(test ids from regrtest's --junit-xml) that differ are run again, up to
twice, in both modes: a difference that goes away is reported as flaky;
one that stays is a failure.

--quick runs a bounded subset (about 20 s on 2 cores, both modes at once):
the socket tests less the slow timeout tests, socketserver, asyncio's
socket, stream, server and sendfile tests, and the HTTP client and server
tests. The default runs the whole list below, one mode after the
other, each with -j2 (about 6 minutes on 2 cores).

Exit status: 0 same results, 1 different (or a bad trace), 2 bad usage or
a run that could not be made, 77 the test suite is not installed.
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Tests that hang on machines with a vsock device and no peer (both modes):
# not the shim's business.
ALWAYS_IGNORE = ["*VSOCK*"]

# (extra regrtest arguments, tests). test_socketserver asks for the
# "network" resource though it only uses the loopback; the other tests
# that ask for it reach the Internet, which is not for CI.
FULL = [
    ([], ["test_socket", "test_asyncio", "test_selectors", "test_ssl", "test_httplib",
          "test_httpservers", "test_urllib2_localnet", "test_xmlrpc", "test_wsgiref",
          "test_ftplib", "test_smtplib", "test_poplib", "test_imaplib", "test_telnetlib",
          "test_docxmlrpc", "test_epoll", "test_poll", "test_logging", "test_asyncore",
          "test_asynchat", "test_multiprocessing_forkserver"]),
    (["-u", "network"], ["test_socketserver"]),
]

# The socket tests less the ones that spend their time waiting for a
# timeout (about a second each, and nothing more for the shim to do).
QUICK_SOCKET_SLOW = ["*LineBufferedFileObjectClassTestCase*",
                     "*SmallBufferedFileObjectClassTestCase*",
                     "*UnbufferedFileObjectClassTestCase*", "*Unicode*FileObjectClassTestCase*",
                     "*NetworkConnectionBehaviourTest*", "*SendfileUsingSendfileTest*",
                     "*TCPCloserTest*", "*TCPTimeoutTest*", "*UDPTimeoutTest*",
                     "*UDPLITETimeoutTest*"]
QUICK = [
    (sum((["-i", p] for p in QUICK_SOCKET_SLOW), []), ["test_socket"]),
    (["-u", "network"], ["test_socketserver"]),
    ([], ["test_asyncio.test_sock_lowlevel", "test_asyncio.test_streams",
          "test_asyncio.test_server", "test_asyncio.test_sendfile",
          "test_httplib", "test_httpservers", "test_urllib2_localnet"]),
]


def log(msg):
    print(msg, flush=True)


def find_python(explicit):
    """A Python whose standard library has the test suite."""
    cands = [explicit] if explicit else ["/usr/bin/python3.11", "/usr/bin/python3"]
    for py in cands:
        if not py or not os.access(py, os.X_OK):
            continue
        r = subprocess.run([py, "-c", "import sysconfig, os; "
                            "print(os.path.join(sysconfig.get_paths()['stdlib'], 'test'))"],
                           capture_output=True, text=True)
        testdir = r.stdout.strip()
        if r.returncode == 0 and os.path.exists(os.path.join(testdir, "test_socket.py")) \
                and os.path.isdir(os.path.join(testdir, "test_asyncio")):
            return py
    return None


def clean_env():
    return {k: v for k, v in os.environ.items()
            if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")
            and not k.startswith("PYTHON")}


def regrtest_argv(py, group_args, tests, junit, tempdir, jobs, match_file=None):
    argv = [py, "-m", "test", "--timeout", "300", "--junit-xml", junit, "--tempdir", tempdir]
    if jobs > 1:
        argv += ["-j", str(jobs)]
    for p in ALWAYS_IGNORE:
        argv += ["-i", p]
    if match_file:
        argv += ["--matchfile", match_file]
    return argv + group_args + tests


def start(argv, env, logfile):
    f = open(logfile, "wb")
    p = subprocess.Popen(argv, env=env, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, cwd=os.path.dirname(logfile))
    p.logf = f
    return p


def wait(p, timeout):
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
        rc = "timed out"
    p.logf.close()
    return rc


def read_junit(path):
    """{test id: (status, message)}: status ok, skipped, failure or error."""
    out = {}
    if not os.path.exists(path):
        return out
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return out
    for tc in root.iter("testcase"):
        status, msg = "ok", ""
        for ch in tc:
            if ch.tag in ("skipped", "failure", "error"):
                status = ch.tag
                msg = (ch.get("message") or ch.text or "").strip().splitlines()[:1]
                msg = msg[0][:200] if msg else ""
        out[tc.get("name")] = (status, msg)
    return out


class Mode:
    def __init__(self, name, workdir, shim):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.trace = os.path.join(workdir, "trace") if shim else None
        self.env = clean_env()
        self.tmpdirs = []
        if shim:
            self.env["LD_PRELOAD"] = shim
            self.env["SOCKTRACE_OUT"] = self.trace

    def paths(self, tag):
        # The tests' own files: a short path, or unix socket paths below it
        # get too long and those tests skip (in both modes, but then they
        # test nothing).
        tmp = tempfile.mkdtemp(prefix="cpy-", dir="/tmp")
        self.tmpdirs.append(tmp)
        return (os.path.join(self.dir, tag + ".xml"), os.path.join(self.dir, tag + ".log"), tmp)

    def cleanup(self):
        for d in self.tmpdirs:
            shutil.rmtree(d, ignore_errors=True)


def run_groups(py, groups, modes, jobs, parallel, deadline, match_file=None, tag="run"):
    """Runs every group in every mode; returns {mode name: {test id: result}}
    and {mode name: [regrtest statuses]}."""
    results = {m.name: {} for m in modes}
    statuses = {m.name: [] for m in modes}
    for gi, (gargs, tests) in enumerate(groups):
        procs = []
        for m in modes:
            junit, logf, tmp = m.paths("%s%d" % (tag, gi))
            argv = regrtest_argv(py, gargs, tests, junit, tmp, jobs, match_file)
            if gi == 0 and m is modes[0]:
                log("  regrtest: %s" % " ".join(argv[1:]))
            p = start(argv, m.env, logf)
            procs.append((m, p, junit, logf))
            if not parallel:
                wait_one(procs[-1], results, statuses, deadline)
        if parallel:
            for item in procs:
                wait_one(item, results, statuses, deadline)
    return results, statuses


def wait_one(item, results, statuses, deadline):
    m, p, junit, logf = item
    rc = wait(p, max(10, deadline - time.monotonic()))
    got = read_junit(junit)
    results[m.name].update(got)
    statuses[m.name].append(rc)
    tail = open(logf, "rb").read()[-300:].decode("utf-8", "replace").strip().splitlines()
    log("  %-7s %d test cases, regrtest status %s (%s)" % (m.name, len(got), rc,
                                                         tail[-1] if tail else "no output"))


def differences(plain, traced):
    out = []
    for tid in sorted(set(plain) | set(traced)):
        a, b = plain.get(tid), traced.get(tid)
        if a is None or b is None or a[0] != b[0]:
            out.append((tid, a, b))
    return out


def check_trace(trace_dir, tool):
    """Problems found in the trace of the traced run."""
    import rtest  # noqa: E402  (StreamStats: reads large files in one pass)
    problems = []
    files = sorted(n for n in os.listdir(trace_dir) if rtest.sttest.is_trace_name(n)) \
        if os.path.isdir(trace_dir) else []
    if not files:
        return ["no trace file in %s: nothing was traced" % trace_dir], collections.Counter()
    totals = collections.Counter()
    killed = 0
    for n in files:
        st = rtest.StreamStats(os.path.join(trace_dir, n))
        totals.update(st.by_fn)
        if st.header is None and st.first_rec is not None:
            problems.append("%s: the first record is not a header" % n)
        if st.bad:
            problems.append("%s: %d lines that are not JSON records, first: %r"
                            % (n, len(st.bad), st.bad[0]))
        if st.end is None:
            # A process killed by its test (subprocess tests do that): NUL
            # padding and a cut last record are allowed, nothing else.
            killed += 1
        elif st.cut or st.nul_bytes:
            problems.append("%s: ended normally, but has %d cut records and %d NUL bytes"
                            % (n, len(st.cut), st.nul_bytes))
    log("  trace: %d files (%d without an end record: killed or still running), %d calls; "
        "connect %d, accept %d, send %d, recv %d"
        % (len(files), killed, sum(totals.values()), totals["connect"],
           totals["accept"] + totals["accept4"], totals["send"] + totals["sendto"] +
           totals["sendmsg"], totals["recv"] + totals["recvfrom"] + totals["recvmsg"]))
    if tool:
        r = subprocess.run([tool, "stats", trace_dir], capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            problems.append("socktrace stats on the trace: status %d: %s"
                            % (r.returncode, r.stderr[-500:]))
    return problems, totals


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shim", required=True, help="libsocktrace.so")
    ap.add_argument("--tool", help="the socktrace tool: also read the trace with `stats`")
    ap.add_argument("--python", help="Python with the test suite (default /usr/bin/python3.11)")
    ap.add_argument("--quick", action="store_true", help="the bounded subset (CI)")
    ap.add_argument("--out", help="keep everything in this directory")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="regrtest processes per run")
    ap.add_argument("--deadline", type=int, default=3000, help="give up after this many s")
    ap.add_argument("tests", nargs="*", help="instead of the default list (no extra args)")
    a = ap.parse_args()

    started = time.monotonic()
    deadline = started + a.deadline
    shim = os.path.abspath(a.shim)
    if not os.path.exists(shim):
        log("cpython-compare: no shim at %s (build first)" % shim)
        return 2
    py = find_python(a.python)
    if not py:
        log("cpython-compare: SKIP: CPython's test suite is not installed "
            "(Debian package libpython3.11-testsuite)")
        return 77
    work = os.path.abspath(a.out) if a.out else tempfile.mkdtemp(prefix="cpython-compare.")
    os.makedirs(work, exist_ok=True)
    trace_dir = os.path.join(work, "trace")
    shutil.rmtree(trace_dir, ignore_errors=True)
    modes = [Mode("plain", work, None), Mode("traced", work, shim)]
    try:
        return compare(a, py, shim, work, trace_dir, modes, deadline, started)
    finally:
        # The tests' own temporary directories, whatever happened.
        for m in modes:
            m.cleanup()


def compare(a, py, shim, work, trace_dir, modes, deadline, started):
    groups = [([], a.tests)] if a.tests else (QUICK if a.quick else FULL)
    # Quick: both modes at once, one process each. Full: one mode after the
    # other, each with -j (timing-sensitive tests see the same load).
    parallel = a.quick
    jobs = 1 if a.quick else a.jobs
    ver = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"],
                         capture_output=True, text=True).stdout.strip()
    log("cpython-compare: %s (%s), shim %s, in %s" % (py, ver, shim, work))

    results, statuses = run_groups(py, groups, modes, jobs, parallel, deadline)
    plain, traced = results["plain"], results["traced"]
    if not plain:
        log("cpython-compare: the run without the shim gave no results: see %s" % work)
        return 2
    diffs = differences(plain, traced)

    # Differences are run again, in both modes: flaky tests differ from
    # run to run without the shim as well.
    flaky = []
    for attempt in (1, 2):
        if not diffs or time.monotonic() > deadline:
            break
        match = os.path.join(work, "rerun-%d.txt" % attempt)
        with open(match, "w") as f:
            f.write("\n".join(tid for tid, _, _ in diffs) + "\n")
        mods = sorted({tid.split(".")[1] for tid, _, _ in diffs if tid.count(".") >= 2})
        log("  %d differences: running them again (%d of 2) in %s"
            % (len(diffs), attempt, ", ".join(mods)))
        rerun_groups = []
        for gargs, tests in groups:
            keep = [t for t in tests if t.split(".")[0] in mods]
            if keep:
                rerun_groups.append(([x for x in gargs if x != "-i" and "*" not in x], keep))
        again, _ = run_groups(py, rerun_groups, modes, 1, True, deadline, match, "rerun%d-"
                              % attempt)
        still = []
        for tid, a0, b0 in diffs:
            a1, b1 = again["plain"].get(tid), again["traced"].get(tid)
            if a1 and b1 and a1[0] == b1[0] and a1[0] == (a0 or ("?",))[0]:
                flaky.append((tid, a0, b0))
            else:
                still.append((tid, a1 or a0, b1 or b0))
        diffs = still

    counts = collections.Counter(v[0] for v in plain.values())
    log("cpython-compare: %d test cases without the shim: %d ok, %d skipped, %d failed or "
        "errors" % (len(plain), counts["ok"], counts["skipped"],
                    counts["failure"] + counts["error"]))
    for tid, a0, b0 in flaky:
        log("  flaky (differed once, not when run again): %s: %s vs %s" % (tid, a0, b0))
    for tid, a0, b0 in diffs:
        log("  DIFFERENT: %s\n      without the shim: %s\n      with the shim:    %s"
            % (tid, a0, b0))
    skip_reasons = [(tid, plain[tid][1], traced[tid][1]) for tid in plain
                    if tid in traced and plain[tid][0] == "skipped" == traced[tid][0]
                    and plain[tid][1] != traced[tid][1]]
    for tid, r0, r1 in skip_reasons[:20]:
        log("  note: skipped for another reason: %s: %r vs %r" % (tid, r0, r1))

    problems, totals = check_trace(trace_dir, a.tool)
    if totals["connect"] == 0 or totals["accept"] + totals["accept4"] == 0:
        problems.append("the trace has no connect or no accept: the tests were not traced")
    for p in problems:
        log("  TRACE: %s" % p)
    if statuses["plain"] != statuses["traced"]:
        log("  note: regrtest statuses differ: %s vs %s" % (statuses["plain"],
                                                           statuses["traced"]))
    ok = not diffs and not problems
    log("cpython-compare: %s: %d test cases compared, %d different, %d flaky; %.0f s"
        % ("SAME" if ok else "DIFFERENT", len(set(plain) | set(traced)), len(diffs),
           len(flaky), time.monotonic() - started))
    if ok and not a.out:
        shutil.rmtree(work, ignore_errors=True)
    else:
        log("cpython-compare: results and trace kept in %s" % work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
