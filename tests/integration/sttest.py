"""Helpers for socktrace's integration tests (Python 3 standard library only).

A test script defines functions named test_*; sttest.main() runs them in
order and exits 0 (all passed), 1 (a failure) or 77 (everything skipped:
Meson reports a skip). Each test function gets a Sandbox: a fresh temporary
directory with its own trace directory, and the processes it started,
which are killed and reaped when the function ends, whatever happens.

    def test_echo(sb):
        server = sb.spawn([sample("tcp_server"), "0"])
        port = sb.wait_listening(server)
        client = sb.run([sample("tcp_client"), "127.0.0.1", str(port)])
        sb.finish(server)
        trace = sb.trace()
        connect = trace.one(fn="connect", pid=client.pid)
        ...

The environment, set by tests/integration/meson.build:
  SOCKTRACE_SHIM    the shim to preload (LD_PRELOAD)
  SOCKTRACE_PROGS   directory of the test programs built from progs/*.c
  SOCKTRACE_SAMPLE_<NAME>  each sample program (TCP_SERVER, ...)
  SOCKTRACE_KEEP=1  keep every sandbox (a failed test's is always kept)

Trace files are read as docs/trace-format.md says a reader must: NUL
bytes are skipped, an incomplete last line is reported, not fatal, and
unknown fields and record kinds are kept but never required.
"""

import ctypes
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tracebin  # noqa: E402
import tempfile
import time
import traceback

# A whole test script must end well within Meson's 60 s timeout, so that
# our own clean-up runs instead of Meson's kill.
SCRIPT_DEADLINE_S = 50
RUN_TIMEOUT_S = 20
LISTEN_TIMEOUT_S = 10

SHIM = os.environ.get("SOCKTRACE_SHIM", "")
PROGS = os.environ.get("SOCKTRACE_PROGS", "")


class Skip(Exception):
    """The test cannot run here (a tool or a feature is missing)."""


class Fail(AssertionError):
    """A failed check, with the trace lines that show why."""

    def __init__(self, message, events=(), trace=None):
        super().__init__(message)
        self.message = message
        self.events = list(events)
        self.trace = trace

    def __str__(self):
        out = [self.message]
        if self.events:
            out.append("  relevant trace lines:")
            out.extend("    " + describe(e) for e in self.events)
        elif self.trace is not None:
            out.append("  the trace:")
            out.extend("    " + line for line in self.trace.dump(limit=60).splitlines())
        return "\n".join(out)


def skip(message):
    raise Skip(message)


def check(cond, message, events=(), trace=None):
    """Fails with message (and the given trace lines) unless cond holds."""
    if not cond:
        raise Fail(message, events, trace)


def check_eq(got, want, what, events=(), trace=None):
    if got != want:
        raise Fail("%s: got %r, expected %r" % (what, got, want), events, trace)


def describe(rec):
    """One record as file:line and its text, for failure messages."""
    return "%s  %s" % (rec.get("_src", "?"), rec.get("_raw", json.dumps(rec)))


# ---------------------------------------------------------------------------
# Programs

def prog(name):
    """A test program built from progs/NAME.c."""
    check(PROGS != "", "SOCKTRACE_PROGS is not set (run the tests through meson test)")
    path = os.path.join(PROGS, name)
    check(os.access(path, os.X_OK), "test program %s is not built" % path)
    return path


def sample(name):
    """A sample program: tcp_server, tcp_client, udp_server, udp_client."""
    var = "SOCKTRACE_SAMPLE_" + name.upper()
    path = os.environ.get(var, "")
    check(path != "" and os.access(path, os.X_OK),
          "%s is not set or not executable (run the tests through meson test)" % var)
    return path


def have_program(name):
    return shutil.which(name) is not None


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A port nobody listens on right now (it may be taken by the time it
    is used: prefer letting servers bind port 0 and report theirs)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def closed_port(host="127.0.0.1"):
    """A port that refuses connections, and stays so: a bound socket that
    does not listen answers a SYN with a reset. Returns (socket, port);
    keep the socket open while the port is used."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    return s, s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=LISTEN_TIMEOUT_S, proc=None):
    """Waits until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Fail("the server exited with status %s before listening on %d"
                       % (proc.returncode, port))
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise Fail("nothing listens on %s:%d after %d s" % (host, port, timeout))


def ipv6_loopback_usable():
    """True when [::1] can be bound (IPv6 may be disabled in containers)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def nm_imports(path):
    """The undefined dynamic symbols of an executable (nm -D), without
    their version suffix."""
    if not have_program("nm"):
        skip("nm (binutils) is not installed")
    out = subprocess.run(["nm", "-D", "--undefined-only", path], check=True,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT_S).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.split()}


# ---------------------------------------------------------------------------
# Traces

ABSENT = object()  # filter value: the field must not be there


def _matches(rec, flt):
    for key, want in flt.items():
        got = rec.get(key, ABSENT)
        if want is ABSENT:
            if got is not ABSENT:
                return False
        elif callable(want):
            if got is ABSENT or not want(got):
                return False
        elif isinstance(want, (tuple, list, set, frozenset)):
            if got not in want:
                return False
        elif got != want:
            return False
    return True


# Trace file names: binary (the default) or JSON Lines (SOCKTRACE_FORMAT=jsonl).
TRACE_SUFFIXES = (".trace", ".jsonl")
# The suffix the shim writes in this run of the tests: ST_TEST_FORMAT=jsonl
# runs the suite's checks over the jsonl format.
FORMAT = os.environ.get("ST_TEST_FORMAT", "binary")
SUFFIX = ".jsonl" if FORMAT == "jsonl" else ".trace"


def is_trace_name(name):
    return not name.startswith(".") and name.endswith(TRACE_SUFFIXES)


class TraceFile:
    """One file of a trace directory: the header, the records in file
    order (each with _src "file:line" and _raw, its text), and what was
    wrong with it."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        self.size = len(data)
        self.records = []
        self.bad_lines = []  # (line number, text, error)
        self.incomplete_tail = None
        self.binary = data.startswith(tracebin.MAGIC)
        if self.binary:
            self._read_binary(data)
        else:
            self._read_lines(data)
        first = self.records[0] if self.records else {}
        self.header = first if first.get("rec") == "header" else None

    def _add(self, n, raw):
        text = raw.decode("utf-8", "replace")
        try:
            rec = json.loads(raw)
            if not isinstance(rec, dict) or "rec" not in rec:
                raise ValueError("not an object with a 'rec' field")
        except ValueError as e:
            self.bad_lines.append((n, text, str(e)))
            return
        rec["_src"] = "%s:%d" % (self.name, n)
        rec["_raw"] = text
        self.records.append(rec)

    def _read_binary(self, data):
        """The records as `socktrace cat` prints them, numbered by record
        (as the reader's messages number them in a binary file), and what
        it says it skipped: NUL bytes (holes, padding), records cut by a
        killed writer, records it cannot use."""
        lines, err = tracebin.cat(self.path)
        for n, raw in enumerate(lines, 1):
            self._add(n, raw)
        said = tracebin.CatReport(err)
        self.nul_bytes = said.nul_holes + said.nul_padding
        self.nul_inside = said.nul_holes > 0
        if said.cut:
            self.incomplete_tail = said.cut[-1]
        self.bad_lines += [(0, line, "socktrace cat") for line in said.other]

    def _read_lines(self, data):
        self.nul_bytes = data.count(b"\0")
        stripped = data.rstrip(b"\0")
        # NULs before the last record mean a hole in the file, not padding.
        self.nul_inside = b"\0" in stripped
        data = data.replace(b"\0", b"")
        lines = data.split(b"\n")
        if lines and lines[-1] != b"":
            self.incomplete_tail = lines[-1].decode("utf-8", "replace")
        for n, raw in enumerate(lines[:-1], 1):
            self._add(n, raw)

        first = self.records[0] if self.records else {}
        self.header = first if first.get("rec") == "header" else None

    @property
    def pid(self):
        return self.header["pid"] if self.header else None

    @property
    def ppid(self):
        return self.header["ppid"] if self.header else None

    @property
    def prog(self):
        return self.header["prog"] if self.header else None

    @property
    def end(self):
        """The end record, or None (a killed or still running process)."""
        ends = [r for r in self.records if r["rec"] == "end"]
        return ends[0] if ends else None

    def select(self, rec="call", **flt):
        return [r for r in self.records if r["rec"] == rec and _matches(r, flt)]

    def calls(self, **flt):
        return self.select("call", **flt)

    def fd_life(self, rec, **flt):
        """The calls on rec's fd from rec on, up to and including the
        first close of that fd: one socket's life, even when its number
        is reused later."""
        calls = self.calls()
        start = next(i for i, c in enumerate(calls) if c is rec)
        out = []
        for c in calls[start:]:
            if c.get("fd") != rec.get("fd"):
                continue
            if _matches(c, flt):
                out.append(c)
            if c["fn"] == "close" and c is not rec:
                break
        return out

    def check_clean(self, ended=True):
        """A file of a process that ended normally: a header first, only
        whole lines that parse, no NUL bytes, an end record."""
        check(self.header is not None, "%s: the first line is not a header" % self.name,
              self.records[:1])
        check(not self.bad_lines, "%s: lines that are not JSON records: %s"
              % (self.name, self.bad_lines[:5]))
        check(self.incomplete_tail is None, "%s: incomplete last line %r"
              % (self.name, (self.incomplete_tail or "")[:200]))
        if ended:
            check(self.nul_bytes == 0, "%s: %d NUL bytes in the file of a process that "
                  "ended normally" % (self.name, self.nul_bytes))
            check(self.end is not None, "%s: no end record" % self.name, self.records[-3:])

    def dump(self, limit=None):
        lines = ["== %s (%d bytes%s%s)" % (
            self.name, self.size,
            ", %d NUL" % self.nul_bytes if self.nul_bytes else "",
            ", %d bad lines" % len(self.bad_lines) if self.bad_lines else "")]
        recs = self.records
        if limit is not None and len(recs) > limit:
            half = limit // 2
            lines += [r["_raw"] for r in recs[:half]]
            lines.append("... %d lines left out ..." % (len(recs) - 2 * half))
            lines += [r["_raw"] for r in recs[-half:]]
        else:
            lines += [r["_raw"] for r in recs]
        for n, text, err in self.bad_lines[:5]:
            lines.append("BAD line %d (%s): %s" % (n, err, text[:300]))
        if self.incomplete_tail is not None:
            lines.append("INCOMPLETE: " + self.incomplete_tail[:300])
        return "\n".join(lines)


class Trace:
    """Every file of a trace directory."""

    def __init__(self, directory):
        self.dir = directory
        names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
        self.files = [TraceFile(os.path.join(directory, n))
                      for n in names if is_trace_name(n)]
        self.others = [n for n in names if not is_trace_name(n)]

    def file(self, **flt):
        """The one file whose header matches (pid=..., prog=...)."""
        found = [f for f in self.files if f.header and _matches(f.header, flt)]
        check(len(found) == 1, "expected one trace file with %s, found %s"
              % (flt, [f.name for f in found]), trace=self)
        return found[0]

    def files_of(self, **flt):
        return [f for f in self.files if f.header and _matches(f.header, flt)]

    def select(self, rec="call", **flt):
        """Records of every file, ordered by timestamp (file order breaks
        ties, and orders records without one)."""
        out = []
        for f in self.files:
            out.extend(f.select(rec, **flt))
        return sorted(out, key=lambda r: r.get("ts", 0))

    def calls(self, **flt):
        return self.select("call", **flt)

    def one(self, **flt):
        found = self.calls(**flt)
        check(len(found) == 1, "expected exactly one call record with %s, found %d"
              % (_fmt_filter(flt), len(found)), found, trace=None if found else self)
        return found[0]

    def check_clean(self, ended=True):
        check(self.files, "no trace file in %s" % self.dir)
        for f in self.files:
            f.check_clean(ended)

    def dump(self, limit=None):
        if not self.files:
            return "(no trace files in %s)" % self.dir
        return "\n".join(f.dump(limit) for f in self.files)


def _fmt_filter(flt):
    return ", ".join("%s=%s" % (k, "<absent>" if v is ABSENT else
                                "<test>" if callable(v) else repr(v))
                     for k, v in flt.items())


def sequence(tfile, steps, what):
    """Checks that the call records of one file contain steps in this
    order (other records may come between). Each step is a dict of
    filters. Returns the records matched, one per step."""
    calls = tfile.calls()
    matched = []
    i = 0
    for step in steps:
        while i < len(calls) and not _matches(calls[i], step):
            i += 1
        if i == len(calls):
            raise Fail("%s: in %s, after %d matched steps, no call with %s follows"
                       % (what, tfile.name, len(matched), _fmt_filter(step)),
                       matched + [c for c in calls if c not in matched][:40])
        matched.append(calls[i])
        i += 1
    return matched


def total(recs, field="bytes"):
    return sum(r.get(field, 0) for r in recs)


def paired_seqs(events):
    """The seqs of the events `socktrace view -f jsonl` pairs with some
    other: those an event's "pair" names, that event itself, and the data
    events of the other side whose bytes overlap those of an event with
    "pair_more" (its partners beyond the few it lists: a receive that took
    the bytes of many short sends, a write read back a byte at a time):
    the same direction's stream, so the other side and the other way."""
    linked = set()
    many = []
    data = {}
    for e in events:
        for s in e.get("pair", []):
            linked.update((s, e["seq"]))
        if e.get("link") == "data" and "off" in e:
            data.setdefault(e.get("conn"), []).append(e)
            if e.get("pair_more"):
                many.append(e)
    for m in many:
        lo, hi = m["off"], m["off"] + m.get("bytes", 0)
        for e in data[m.get("conn")]:
            if (e.get("side") != m.get("side") and _direction(e) != _direction(m) and
                    e["off"] < hi and lo < e["off"] + e.get("bytes", 0)):
                linked.add(e["seq"])
    return linked


def _direction(e):
    """Whether a data event of the merged stream sent ("out") or received
    ("in"), from its call: splice says so itself."""
    if "dir" in e:
        return e["dir"]
    return "out" if e.get("fn", "").startswith(("send", "write")) else "in"


# ---------------------------------------------------------------------------
# Processes

class Result:
    """A finished program: argv, pid, returncode, out and err (text), and
    raw_out, raw_err (bytes) for exact comparisons."""

    def __init__(self, argv, pid, returncode, raw_out, raw_err):
        self.argv = argv
        self.pid = pid
        self.returncode = returncode
        self.raw_out = raw_out or b""
        self.raw_err = raw_err or b""
        self.out = self.raw_out.decode("utf-8", "replace")
        self.err = self.raw_err.decode("utf-8", "replace")

    def __repr__(self):
        return "<%s pid %d: status %s>" % (os.path.basename(self.argv[0]), self.pid,
                                          self.returncode)

    def explain(self):
        return "%s exited with status %s\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), self.returncode, self.out[-2000:], self.err[-2000:])


class Sandbox:
    """A test's temporary directory, trace directory and processes."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="socktrace-%s." % name)
        self.out = os.path.join(self.dir, "trace")
        self.procs = []
        # Why the picture of this test's traces is not checked (a known
        # limit of pairing the test shows on purpose), or None.
        self.picture_limit = None

    def env(self, traced=True, out=None, extra=None):
        """The environment of a program: ours without any socktrace
        setting, plus the shim and a trace directory if traced."""
        env = {k: v for k, v in os.environ.items()
               if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")}
        if traced:
            check(SHIM != "" and os.path.exists(SHIM),
                  "SOCKTRACE_SHIM is not set or missing: %r" % SHIM)
            env["LD_PRELOAD"] = SHIM
            env["SOCKTRACE_OUT"] = out or self.out
        if FORMAT == "jsonl":
            env["SOCKTRACE_FORMAT"] = "jsonl"
        env.update(extra or {})
        return env

    def spawn(self, argv, traced=True, out=None, env=None, cwd=None, stdin=None,
              preexec_fn=None):
        """Starts a program in the background with stdout and stderr piped.
        It is killed when the test ends, if it is still running."""
        argv = [str(a) for a in argv]
        proc = subprocess.Popen(argv, env=self.env(traced, out, env), cwd=cwd or self.dir,
                                stdin=subprocess.DEVNULL if stdin is None else stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=preexec_fn)
        proc.early_out = b""
        proc.argv = argv
        self.procs.append(proc)
        return proc

    def read_line(self, proc, pattern, timeout=LISTEN_TIMEOUT_S):
        """Reads proc's stdout until a line matches pattern (a regex);
        returns the match. What was read stays part of its output."""
        regex = re.compile(pattern)
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            for line in proc.early_out.split(b"\n")[:-1]:
                m = regex.search(line.decode("utf-8", "replace"))
                if m:
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("%s printed no line matching %r in %d s; it printed %r"
                           % (proc.argv[0], pattern, timeout, proc.early_out[-500:]))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    res = self.finish(proc, check_rc=False)
                    raise Fail("%s ended (status %s) before printing a line matching %r\n%s"
                               % (proc.argv[0], res.returncode, pattern, res.explain()))
                proc.early_out += chunk

    def wait_listening(self, proc, timeout=LISTEN_TIMEOUT_S):
        """The port of a server's "listening on PORT" line."""
        return int(self.read_line(proc, r"^listening on (\d+)$", timeout).group(1))

    def finish(self, proc, timeout=RUN_TIMEOUT_S, check_rc=True, expect_rc=0):
        """Waits for a spawned program; returns its Result. Fails if it
        does not end in time, or (check_rc) with another status."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                # Something it started still holds its output open.
                kill_descendants(dont_reap={p.pid for p in self.procs})
                out, err = proc.communicate(timeout=5)
            res = Result(proc.argv, proc.pid, proc.returncode, proc.early_out + out, err)
            raise Fail("%s did not finish within %d s (killed)\n%s"
                       % (proc.argv[0], timeout, res.explain()))
        res = Result(proc.argv, proc.pid, proc.returncode, proc.early_out + out, err)
        if check_rc and res.returncode != expect_rc:
            raise Fail("expected status %d: %s" % (expect_rc, res.explain()))
        return res

    def run(self, argv, traced=True, timeout=RUN_TIMEOUT_S, check_rc=True, expect_rc=0,
            **kw):
        """Runs a program to its end; returns its Result."""
        return self.finish(self.spawn(argv, traced, **kw), timeout, check_rc, expect_rc)

    def trace(self, out=None):
        return Trace(out or self.out)

    def cleanup(self, keep):
        """Kills what is still running (and anything it left behind),
        reaps it, removes the directory unless keep."""
        # The whole tree at once: a grandchild holding a pipe open would
        # keep communicate() waiting.
        ours = {proc.pid for proc in self.procs}
        leftover = [pid for pid in kill_descendants(dont_reap=ours) if pid not in ours]
        for proc in self.procs:
            try:
                proc.communicate(timeout=5)
            except (subprocess.TimeoutExpired, ValueError, OSError):
                pass
        if keep:
            print("  sandbox kept: %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return leftover


def _children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces.
        fields = stat[stat.rfind(")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(name))
    return kids


def kill_descendants(dont_reap=()):
    """SIGKILLs every process descended from this one and reaps those that
    became our children, except dont_reap (Popen reaps its own); returns
    their pids. With the subreaper flag set by main(), orphaned
    grandchildren are ours too."""
    kids = _children_map()
    found, todo = [], list(kids.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(kids.get(pid, []))
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Reap what is (or, once its parent is gone, becomes) our child.
    deadline = time.monotonic() + 2
    while True:
        mine = [pid for pid in _children_map().get(os.getpid(), []) if pid not in dont_reap]
        for pid in mine:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if not mine or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return found


def _become_subreaper():
    """Orphans of our programs (a daemonised grandchild) reparent to us,
    so clean-up can find and kill them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _Deadline(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Deadline("the test script ran out of time (%d s)" % SCRIPT_DEADLINE_S)


def _on_term(signum, frame):
    # Meson's own timeout: leave through the finally blocks, which clean up.
    raise SystemExit("terminated by signal %d" % signum)


def check_pictures(sb):
    """What must hold of the picture of any trace (tests/view/properties.py:
    links back in time, Perfetto flows outside their slices, bytes that do
    not balance, payloads that differ), on every trace the test left that
    the tool reads cleanly (a test may damage one on purpose)."""
    tool = os.environ.get("SOCKTRACE_TOOL")
    if not tool or sb.picture_limit:
        return
    view = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "view")
    if view not in sys.path:
        sys.path.insert(0, view)
    import properties
    for root, _, files in os.walk(sb.dir):
        traces = [f for f in files if is_trace_name(f)]
        if not traces:
            continue
        try:
            # Big traces (the long-running tests') take Python longer to
            # check than the test to run: the view suite checks the model
            # on those. (A test may plant dangling links: OSError.)
            # (Binary records are about a fifth of their JSON.)
            if sum(os.path.getsize(os.path.join(root, f)) * (5 if f.endswith(".trace") else 1)
                   for f in traces) > (2 << 20):
                continue
            with open(os.path.join(root, traces[0]), "rb") as f:
                first = f.readline()
                if b'"format":"socktrace"' not in first and not first.startswith(tracebin.MAGIC):
                    continue
            bad = properties.check(tool, root)
        except (RuntimeError, OSError, ValueError):
            continue  # not read cleanly: the test's own business
        if bad:
            raise Fail("the picture of %s: %s" % (root, "; ".join(bad[:5])))


def main(tests=None):
    """Runs every test_* function of the calling script, each with a fresh
    Sandbox. Exit status: 0 all passed (some may have skipped), 1 a test
    failed, 77 all skipped."""
    if tests is None:
        mod = sys.modules["__main__"]
        tests = [getattr(mod, n) for n in vars(mod) if n.startswith("test_")
                 and callable(getattr(mod, n))]
    only = sys.argv[1:]
    if only:
        tests = [t for t in tests if t.__name__ in only or t.__name__[5:] in only]
    _become_subreaper()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(SCRIPT_DEADLINE_S)
    keep_all = os.environ.get("SOCKTRACE_KEEP") == "1"
    passed, failed, skipped = [], [], []
    out_of_time = False
    for test in tests:
        name = test.__name__
        sb = Sandbox(name[5:] if name.startswith("test_") else name)
        ok = False
        started = time.monotonic()
        try:
            test(sb)
            check_pictures(sb)
            ok = True
            passed.append(name)
            print("ok    %s (%.1f s)" % (name, time.monotonic() - started))
        except Skip as e:
            ok = True
            skipped.append(name)
            print("SKIP  %s: %s" % (name, e))
        except Fail as e:
            failed.append(name)
            print("FAIL  %s: %s" % (name, e))
        except _Deadline as e:
            failed.append(name)
            out_of_time = True
            print("FAIL  %s: %s" % (name, e))
        except Exception:
            failed.append(name)
            print("ERROR %s:\n%s" % (name, traceback.format_exc()))
        finally:
            leftover = sb.cleanup(keep=keep_all or not ok)
            if leftover:
                print("      (killed %d leftover processes: %s)" % (len(leftover), leftover))
        sys.stdout.flush()
        if out_of_time:
            break
    signal.alarm(0)
    print("%d passed, %d failed, %d skipped" % (len(passed), len(failed), len(skipped)))
    if failed:
        sys.exit(1)
    if skipped and not passed:
        sys.exit(77)
    sys.exit(0)
