#!/usr/bin/env python3
"""`socktrace view --format perfetto` against the Trace Event format (the
JSON that ui.perfetto.dev and chrome://tracing read), on every fixture:

- valid JSON: an object with `traceEvents`, a known `displayTimeUnit`;
- each event has the keys its `ph` needs: complete slices (X) `ts`, `dur`
  (not negative), `pid`, `tid`, `name`; instants (i) a scope `s`; async
  slices (b/e) `id`, `cat`, `name`, `ts`, `pid`; flows (s/f) `id`, `cat`,
  `name`, `ts`, `pid`, `tid`, and `bp: "e"` on the end (bound to the
  enclosing slice, not the next one); metadata (M) a known name, `pid`,
  `tid` for a thread's, `args.name` a non-empty string, once per track;
- slices of one thread nest (Perfetto drops one that overlaps another
  partly);
- flows: each id exactly one start and one end, same name, the start not
  after the end, each inside a slice of its thread;
- async slices: each (cat, id) exactly one "b" and one "e", same name and
  track, the end not before the begin; one per connection that has a call
  shown (category `conn`, id the connection's number, its name starting
  `cN`, args with the bytes each way and how it ended);
- every call on a connection says which in its name (`send c3`);
- every track used has a name; interpreters are named by their script.

    SOCKTRACE_TOOL=build/viewer/socktrace tests/view/test_perfetto_format.py
"""

import decimal
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
FIXTURES = sorted(d for d in os.listdir(os.path.join(HERE, "fixtures"))
                  if os.path.isdir(os.path.join(HERE, "fixtures", d)))
METADATA = {"process_name", "thread_name", "process_sort_index", "thread_sort_index",
            "process_labels"}
NUM = (int, decimal.Decimal)


def perfetto(args):
    p = subprocess.run([TOOL, "view", "-f", "perfetto"] + args, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("socktrace view -f perfetto %s: exit %d\n%s" %
                             (" ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    # Exact decimals, as Perfetto turns microseconds into nanoseconds.
    return json.loads(p.stdout, parse_float=decimal.Decimal)


def need(e, keys, types, bad, what):
    for k in keys:
        if k not in e:
            bad.append("%s: no %r: %s" % (what, k, e))
            return False
        if k in types and not isinstance(e[k], types[k]):
            bad.append("%s: %r is %r: %s" % (what, k, e[k], e))
            return False
    return True


TYPES = {"ts": NUM, "dur": NUM, "pid": int, "tid": int, "name": str, "cat": str, "id": int}


def check(doc):
    """What does not hold of one document, as messages."""
    bad = []
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["not an object with a traceEvents list"]
    if doc.get("displayTimeUnit", "ms") not in ("ms", "ns"):
        bad.append("displayTimeUnit %r" % doc["displayTimeUnit"])
    slices, flows, asyncs = {}, {}, {}
    procs, threads, used = set(), set(), set()
    for e in doc["traceEvents"]:
        ph = e.get("ph")
        if ph == "X":
            if need(e, ["ts", "dur", "pid", "tid", "name"], TYPES, bad, "X"):
                if e["dur"] < 0:
                    bad.append("X with a negative dur: %s" % e)
                slices.setdefault((e["pid"], e["tid"]), []).append(e)
                used.add((e["pid"], e["tid"]))
        elif ph == "i":
            if need(e, ["ts", "pid", "tid", "name"], TYPES, bad, "i") and \
               e.get("s", "t") not in ("g", "p", "t"):
                bad.append("i with scope %r: %s" % (e.get("s"), e))
        elif ph in ("b", "e"):
            if need(e, ["id", "cat", "name", "ts", "pid"], TYPES, bad, ph):
                asyncs.setdefault((e["cat"], e["id"]), []).append(e)
        elif ph in ("s", "f"):
            if need(e, ["id", "cat", "name", "ts", "pid", "tid"], TYPES, bad, ph):
                flows.setdefault(e["id"], []).append(e)
                if ph == "f" and e.get("bp") != "e":
                    bad.append("flow end without bp \"e\" (it would bind to the next "
                               "slice, not its own): %s" % e)
        elif ph == "M":
            if e.get("name") not in METADATA:
                bad.append("metadata %r" % e.get("name"))
                continue
            if not need(e, ["pid"], TYPES, bad, "M"):
                continue
            args = e.get("args")
            if e["name"].endswith("_name"):
                if not isinstance(args, dict) or not isinstance(args.get("name"), str) or \
                   not args["name"]:
                    bad.append("metadata without a name: %s" % e)
                    continue
            if e["name"] == "process_name":
                if e["pid"] in procs:
                    bad.append("process %d named twice" % e["pid"])
                procs.add(e["pid"])
            elif e["name"] == "thread_name":
                if not need(e, ["tid"], TYPES, bad, "thread_name"):
                    continue
                if (e["pid"], e["tid"]) in threads:
                    bad.append("thread %d/%d named twice" % (e["pid"], e["tid"]))
                threads.add((e["pid"], e["tid"]))
        else:
            bad.append("event with ph %r: %s" % (ph, e))

    # Slices of one thread nest.
    for track, v in slices.items():
        v.sort(key=lambda x: (x["ts"], -x["dur"]))
        open_ends = []
        for x in v:
            while open_ends and open_ends[-1] <= x["ts"]:
                open_ends.pop()
            end = x["ts"] + x["dur"]
            if open_ends and end > open_ends[-1]:
                bad.append("slice %r on %s overlaps the one before partly" % (x["name"], track))
            open_ends.append(end)

    def inside(x):
        return any(s["ts"] <= x["ts"] <= s["ts"] + s["dur"]
                   for s in slices.get((x["pid"], x["tid"]), []))

    for fid, v in sorted(flows.items()):
        phs = sorted(x["ph"] for x in v)
        if phs != ["f", "s"]:
            bad.append("flow %d has %s, not one s and one f" % (fid, "".join(phs)))
            continue
        s, f = (v[0], v[1]) if v[0]["ph"] == "s" else (v[1], v[0])
        if s["name"] != f["name"] or s["cat"] != f["cat"]:
            bad.append("flow %d: its ends differ in name or cat" % fid)
        if f["ts"] < s["ts"]:
            bad.append("flow %d ends before it starts" % fid)
        if not inside(s):
            bad.append("flow %d starts outside a slice of %d/%d" % (fid, s["pid"], s["tid"]))
        if not inside(f):
            bad.append("flow %d ends outside a slice of %d/%d" % (fid, f["pid"], f["tid"]))

    conns = set()
    for (cat, aid), v in sorted(asyncs.items()):
        phs = sorted(x["ph"] for x in v)
        if phs != ["b", "e"]:
            bad.append("async %s/%d has %s, not one b and one e" % (cat, aid, "".join(phs)))
            continue
        b, e = (v[0], v[1]) if v[0]["ph"] == "b" else (v[1], v[0])
        if b["name"] != e["name"] or b["pid"] != e["pid"] or b.get("tid") != e.get("tid"):
            bad.append("async %s/%d: begin and end differ in name or track" % (cat, aid))
        if e["ts"] < b["ts"]:
            bad.append("async %s/%d ends before it begins" % (cat, aid))
        used.add((b["pid"], b.get("tid", b["pid"])))
        if cat == "conn":
            conns.add(aid)
            if not b["name"].startswith("c%d " % aid):
                bad.append("connection %d named %r" % (aid, b["name"]))
            args = b.get("args", {})
            if not any(k.endswith("_bytes") for k in args) or "ended" not in args:
                bad.append("connection %d without bytes or how it ended: %s" % (aid, args))

    # Every call on a connection says which; every connection with a call
    # (other than a wake-up socketpair that carried nothing) has its slice.
    on_conn = {}
    for v in slices.values():
        for x in v:
            conn = x.get("args", {}).get("conn")
            if conn is None:
                continue
            on_conn.setdefault(conn, []).append(x)
            if not re.search(r"(^| )c%d( |$)" % conn, x["name"]):
                bad.append("slice %r on connection %d does not name it" % (x["name"], conn))
    for conn in sorted(set(on_conn) - conns):
        v = on_conn[conn]
        idle = len({x["pid"] for x in v}) == 1 and \
            not any(x["args"].get("bytes", 0) > 0 for x in v)
        if not idle:
            bad.append("connection %d has calls and no async slice" % conn)
    for pid, tid in sorted(used):
        if pid not in procs:
            bad.append("process %d has no name" % pid)
    return bad, conns, on_conn, procs, doc


def process_names(doc):
    return [e["args"]["name"] for e in doc["traceEvents"]
            if e.get("ph") == "M" and e.get("name") == "process_name"]


def main():
    if not TOOL:
        sys.exit("test_perfetto_format: set SOCKTRACE_TOOL to build/viewer/socktrace")
    failed = 0
    cases = [(fx, [os.path.join(HERE, "fixtures", fx)]) for fx in FIXTURES]
    cases += [
        # One side alone: the other is a remote endpoint's track.
        ("tcp client only", [os.path.join(HERE, "fixtures", "tcp", "tcp_client.1002.jsonl")]),
        ("tcp server only", [os.path.join(HERE, "fixtures", "tcp", "tcp_server.1001.jsonl")]),
        # A filter: only the connections it shows get a slice.
        ("tcp3 --conn c2", ["--conn", "c2", os.path.join(HERE, "fixtures", "tcp3")]),
    ]
    for name, args in cases:
        bad, conns, on_conn, _, doc = check(perfetto(args))
        # Connections with a call shown and their slices: the same, but
        # for a process's idle socketpair.
        extra = conns - set(on_conn)
        if extra:
            bad.append("async slices of connections with no call shown: %s" % sorted(extra))
        if name == "tcp3 --conn c2" and conns != {2}:
            bad.append("--conn c2: connection slices %s" % sorted(conns))
        for b in bad[:20]:
            print("%s: %s" % (name, b))
        if bad:
            failed += 1
        else:
            print("%s: ok (%d events, %d connections)" % (name, len(doc["traceEvents"]),
                                                          len(conns)))
    # Interpreters by their script, as in the other views.
    names = process_names(perfetto([os.path.join(HERE, "fixtures", "forking")]))
    if not any(n.startswith("echo_server.py ") for n in names) or \
       any(n.startswith("python") for n in names):
        print("forking: processes named %s, not by their script" % names)
        failed += 1
    # The connection slice says who talked to whom and how it went.
    doc = perfetto([os.path.join(HERE, "fixtures", "tcp")])
    b = [e for e in doc["traceEvents"] if e.get("ph") == "b" and e.get("cat") == "conn"]
    want = "c1 tcp_client 1002 -> tcp_server 1001 127.0.0.1:7000"
    if len(b) != 1 or b[0]["name"] != want or \
       b[0]["args"].get("client_to_server_bytes") != 23 or \
       b[0]["args"].get("server_to_client_bytes") != 29:
        print("tcp: connection slice %s, expected %r with 23 B and 29 B" % (b, want))
        failed += 1
    if failed:
        print("%d case(s) failed" % failed)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
