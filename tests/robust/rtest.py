"""Helpers of the robustness tests, on top of tests/integration/sttest.py
(imported from there: one harness for both folders).

The environment, set by tests/robust/meson.build, is the integration
tests' plus:
  SOCKTRACE_ROBUST_PROGS   directory of the programs built from progs/*.c
  SOCKTRACE_ROBUST_SRC     this directory (corpus, scripts)
  SOCKTRACE_FUZZ_RULES_REPLAY, SOCKTRACE_FUZZ_TRACE_REPLAY
                           the fuzz targets with a replay driver
  SOCKTRACE_TEST_TIMEOUT   Meson's timeout for this script, in seconds
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import sttest  # noqa: E402  (after the path is set)
from sttest import check, check_eq, skip  # noqa: E402,F401

sys.path.insert(0, os.path.join(HERE, "..", "view"))
import properties  # noqa: E402  (what must hold of the picture of any trace)

PROGS = os.environ.get("SOCKTRACE_ROBUST_PROGS", "")
TOOL = os.environ.get("SOCKTRACE_TOOL", "")

SEND_FNS = ("send", "sendto", "sendmsg", "sendmmsg", "write", "writev", "sendfile",
            "sendfile64")
RECV_FNS = ("recv", "__recv_chk", "recvfrom", "__recvfrom_chk", "recvmsg", "recvmmsg",
            "read", "__read_chk", "readv")
# Calls that send or receive, record by record: "dir" says which.
BOTH_FNS = ("splice",)


def sends(e):
    return e.get("fn") in SEND_FNS or (e.get("fn") in BOTH_FNS and e.get("dir") == "out")


def receives(e):
    return e.get("fn") in RECV_FNS or (e.get("fn") in BOTH_FNS and e.get("dir") == "in")


def set_deadline():
    """The script's own deadline: a little under Meson's timeout for it, so
    that its clean-up runs before Meson kills it."""
    meson = int(os.environ.get("SOCKTRACE_TEST_TIMEOUT", "60"))
    sttest.SCRIPT_DEADLINE_S = max(20, meson - 10)


def main():
    set_deadline()
    sttest.main()


def rprog(name):
    """A program built from tests/robust/progs/NAME.c."""
    check(PROGS != "", "SOCKTRACE_ROBUST_PROGS is not set (run the tests through meson test)")
    path = os.path.join(PROGS, name)
    check(os.access(path, os.X_OK), "test program %s is not built" % path)
    return path


def rprog_optional(name, why):
    """A program that is only built when something is installed: skips the
    test with why when it is not there."""
    path = os.path.join(PROGS, name)
    if not os.access(path, os.X_OK):
        skip(why)
    return path


def need_program(name, package):
    """The path of a program from a Debian package, or a skip that names
    the package CI must install."""
    path = shutil.which(name)
    if not path:
        skip("%s is not installed (Debian package %s)" % (name, package))
    return path


def tool():
    check(TOOL != "" and os.access(TOOL, os.X_OK),
          "SOCKTRACE_TOOL is not set or not executable: %r" % TOOL)
    return TOOL


def shim_lines(text):
    """The shim's own messages in a program's stderr: "socktrace[PID]: ..."."""
    return [line for line in text.split("\n") if line.startswith("socktrace[")]


# ---------------------------------------------------------------------------
# Reading traces too large to keep in memory

class StreamStats:
    """One pass over a trace file without keeping its records, reading it
    as docs/trace-format.md says a reader must: NUL bytes are skipped, and
    text that NUL bytes or the end of the file cut short is an incomplete
    record (a writer killed while copying it), counted, not an error.

    Counts per (tid, fn) and per fn, record kinds, lines that are not JSON
    (bad), cut records, whether data follows NUL bytes (a hole: possible
    only in the file of a killed process, where a thread reserved space and
    died before filling it), and per thread whether ts ever went back."""

    NULS = re.compile(b"\\0+")

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.by_tid_fn = collections.Counter()
        self.by_fn = collections.Counter()
        self.kinds = collections.Counter()
        self.pids = collections.Counter()
        self.bad = []
        self.cut = []
        self.header = None
        self.first_rec = None
        self.end = None
        self.after_end = 0
        self.nul_bytes = 0
        self.nul_inside = False
        self.ts_disorder = {}
        self._last_ts = {}
        self._nul_seen = False
        self.binary = sttest.tracebin.is_binary(path)
        self.nul_holes = self.nul_padding = 0  # binary files: as cat counts them
        if self.binary:
            self._read_binary(path)
            return
        with open(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                whole = raw.endswith(b"\n")
                if whole:
                    raw = raw[:-1]
                nul_before = self._nul_seen
                if b"\0" in raw:
                    self.nul_bytes += raw.count(b"\0")
                    parts = self.NULS.split(raw)
                    self._nul_seen = True
                else:
                    parts = [raw]
                for i, part in enumerate(parts):
                    last = i == len(parts) - 1
                    if not part:
                        continue
                    if nul_before or i > 0:
                        self.nul_inside = True
                    if not last or not whole:
                        self.cut.append((lineno, part[:200]))
                        continue
                    self._record(lineno, part)

    def _read_binary(self, path):
        """A binary file through `socktrace cat`, streamed: the records,
        and what cat says it skipped (NUL bytes, cut records)."""
        p = subprocess.Popen([tool(), "cat", path], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        for lineno, raw in enumerate(p.stdout, 1):
            self._record(lineno, raw.rstrip(b"\n"))
        err = p.stderr.read().decode("utf-8", "replace")
        check_eq(p.wait(), 0, "socktrace cat %s (stderr: %s)" % (path, err[-500:]))
        said = sttest.tracebin.CatReport(err)
        self.nul_holes, self.nul_padding = said.nul_holes, said.nul_padding
        self.nul_bytes = said.nul_holes + said.nul_padding
        self.nul_inside = said.nul_holes > 0
        self.cut += [(0, line) for line in said.cut]
        self.bad += [(0, line, "socktrace cat") for line in said.other]

    def _record(self, lineno, raw):
        try:
            rec = json.loads(raw)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.bad.append((lineno, raw[:200], str(e)))
            return
        kind = rec.get("rec")
        self.kinds[kind] += 1
        if self.first_rec is None:
            self.first_rec = rec
            if kind == "header":
                self.header = rec
        if self.end is not None:
            self.after_end += 1
        if kind == "end":
            self.end = rec
        elif kind == "call":
            tid = rec.get("tid")
            self.by_tid_fn[(tid, rec.get("fn"))] += 1
            self.by_fn[rec.get("fn")] += 1
            self.pids[rec.get("pid")] += 1
            ts = rec.get("ts", 0)
            prev = self._last_ts.get(tid)
            if prev is not None and ts < prev and tid not in self.ts_disorder:
                self.ts_disorder[tid] = (prev, ts)
            self._last_ts[tid] = ts

    def check_parses(self, killed=False):
        """Every line a record, a header first; for a process that ended
        normally also an end record, no NUL byte and nothing cut."""
        check(self.header is not None, "%s: the first record is not a header: %r"
              % (self.name, self.first_rec))
        check(not self.bad, "%s: lines that are not JSON records: %s" % (self.name, self.bad[:3]))
        if not killed:
            check(self.end is not None, "%s: no end record" % self.name)
            check_eq(self.nul_bytes, 0, "%s: NUL bytes in the file of a process that ended "
                     "normally" % self.name)
            check_eq(self.cut, [], "%s: incomplete records" % self.name)


# ---------------------------------------------------------------------------
# The viewer's pairing, as a check that every connection is complete

def view_jsonl(trace_dir):
    """socktrace view -f jsonl of a trace directory: the merged records with
    conn, side, link and pair. Fails unless the tool reads it cleanly."""
    r = subprocess.run([tool(), "view", "-f", "jsonl", trace_dir], capture_output=True,
                       timeout=120)
    check_eq(r.returncode, 0, "socktrace view -f jsonl %s (stderr: %s)"
             % (trace_dir, r.stderr.decode("utf-8", "replace")[-2000:]))
    out = []
    for n, line in enumerate(r.stdout.splitlines(), 1):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise sttest.Fail("socktrace view -f jsonl: line %d is not JSON (%s): %r"
                              % (n, e, line[:300]))
    # What must hold of the picture of any trace (tests/view/properties.py):
    # links back in time, bytes that do not balance, payloads that differ.
    bad = properties.check_events(out) + properties.check_perfetto(tool(), trace_dir)
    check(not bad, "socktrace view of %s: %s" % (trace_dir, "; ".join(bad[:5])))
    return out, r.stderr.decode("utf-8", "replace")


class Conn:
    def __init__(self, cid):
        self.id = cid
        self.connects = []
        self.accepts = []
        self.sent = {"client": 0, "server": 0}
        self.received = {"client": 0, "server": 0}
        self.data = []
        self.eofs = []
        self.closes = []


def connections(events):
    """The connections of a merged stream, keyed by conn id, with the
    events on each and the set of seqs that are paired with something."""
    conns = {}
    linked = sttest.paired_seqs(events)
    for e in events:
        cid = e.get("conn")
        if cid is None or e.get("rec") != "call":
            continue
        c = conns.setdefault(cid, Conn(cid))
        fn, side = e.get("fn"), e.get("side")
        ok = isinstance(e.get("ret"), int) and e["ret"] >= 0
        if fn == "connect":
            c.connects.append(e)
        elif fn in ("accept", "accept4") and ok:
            c.accepts.append(e)
        elif sends(e) and ok and e.get("bytes", 0) > 0 and side in c.sent:
            c.sent[side] += e["bytes"]
            c.data.append(e)
        elif receives(e) and ok and e.get("bytes", 0) > 0 and side in c.received:
            c.received[side] += e["bytes"]
            c.data.append(e)
        elif receives(e) and e.get("ret") == 0:
            c.eofs.append(e)
        elif fn in ("close", "shutdown"):
            c.closes.append(e)
    return conns, linked


def check_pairing(events, server_addr, expect_conns=None, what="connections",
                  untraced_clients=(0,)):
    """Every TCP connection to server_addr ("127.0.0.1:PORT") is complete in
    the viewer's pairing: the client's connect is paired with the server's
    accept, every data call that moved bytes is paired, and the bytes each
    side sent are the bytes the other received. Connections that show only
    the server's accept must number one of untraced_clients (the tests' own
    probes, made untraced). Returns the connections with both ends."""
    conns, linked = connections(events)
    mine = [c for c in conns.values()
            if any(e.get("peer") == server_addr or e.get("addr") == server_addr
                   for e in c.connects)
            or any(e.get("local") == server_addr for e in c.accepts)]
    server_only = [c for c in mine if c.accepts and not c.connects]
    check(len(server_only) in untraced_clients,
          "%d connections to %s show only the server's accept (expected %s): the client's "
          "connect is missing or not paired" % (len(server_only), server_addr,
                                                 " or ".join(map(str, untraced_clients))),
          [e for c in server_only[:4] for e in c.accepts])
    # Connections the server never accepted: a benchmark's spare one, its
    # handshake never completed (a SYN dropped by a full accept queue) or
    # left in the accept queue, closed by the client at the end. No byte
    # may have moved on them; the tests count the connections that served
    # requests, so a lost accept record still shows.
    never = [c for c in mine if c.connects and not c.accepts and not c.data]
    mine = [c for c in mine if c not in server_only and c not in never]
    if expect_conns is not None:
        check_eq(len(mine), expect_conns, "%s to %s in the viewer's pairing" % (what, server_addr))
    for c in mine:
        check(c.connects and c.accepts, "c%s: both ends (connect and accept) in the trace"
              % c.id, (c.connects + c.accepts)[:4])
        check(len(c.accepts) == 1, "c%s: one accept" % c.id, c.accepts)
        pair_ok = any(e["seq"] in linked for e in c.connects) and c.accepts[0]["seq"] in linked
        check(pair_ok, "c%s: connect and accept paired" % c.id, c.connects + c.accepts)
        unpaired = [e for e in c.data if e["seq"] not in linked]
        check(not unpaired, "c%s: %d data calls not paired with the other side"
              % (c.id, len(unpaired)), unpaired[:6])
        check_eq(c.sent["client"], c.received["server"],
                 "c%s: bytes the client sent vs the server received" % c.id, c.data[:6])
        check_eq(c.sent["server"], c.received["client"],
                 "c%s: bytes the server sent vs the client received" % c.id, c.data[:6])
    return mine


def check_files_clean(trace, allow_killed=()):
    """Every file of a trace: a header first, every line a record, no NUL
    inside; an end record unless its pid is in allow_killed."""
    check(trace.files, "no trace file in %s" % trace.dir)
    for f in trace.files:
        f.check_clean(ended=f.pid not in allow_killed)


def first_record(path):
    """The first record of a trace file (its header), or None."""
    if sttest.tracebin.is_binary(path):
        with open(path, "rb") as f:
            data = f.read(1 << 20)
        got = sttest.tracebin.parse_frame(data, sttest.tracebin.PROLOGUE_LEN) \
            if len(data) > sttest.tracebin.PROLOGUE_LEN else None
        if not got or got[1][:1] != b"\x01":
            return None
        first = got[1][1:]
    else:
        with open(path, "rb") as f:
            first = f.readline()
    try:
        return json.loads(first)
    except ValueError:
        return None


def headers(trace_dir):
    """{path: header} of every trace file of a directory, reading only the
    first line of each (a large trace need not be read whole for that)."""
    out = {}
    for name in sorted(os.listdir(trace_dir)) if os.path.isdir(trace_dir) else []:
        if not sttest.is_trace_name(name):
            continue
        path = os.path.join(trace_dir, name)
        out[path] = first_record(path)
    return out


def file_of_pid(trace_dir, pid, prog=None):
    """The path of the one trace file of pid (and prog)."""
    found = [p for p, h in headers(trace_dir).items()
             if h and h.get("pid") == pid and (prog is None or h.get("prog") == prog)]
    check(len(found) == 1, "expected one trace file of pid %s in %s, found %s"
          % (pid, trace_dir, found))
    return found[0]
