#!/usr/bin/env python3
"""What must hold of the viewer's model on any trace (issue: the picture
tells the truth), checked from the tool's own output:

- `view -f jsonl`: events come numbered 1, 2, ... in output order, and
  every link (`pair`) names an earlier event: no effect before its cause;
  every event on a connection carries `conn`;
- `view -f perfetto`: every flow starts inside a slice of its sending
  thread and ends inside a slice of its receiving thread, not before it
  starts (Perfetto drops such a flow);
- bytes balance per connection and direction, where both ends were
  traced: a side never receives more than the other sent, and exactly as
  much when it read the EOF (and did not reset);
- with payloads recorded, a recv that got exactly one send's bytes got
  what that send sent (a wrong pairing of equal sizes shows here);
- `view -f text`: no arrow points upward (an arrow is drawn on the row of
  its effect, from the column of its cause, and the cause is printed
  above).

    SOCKTRACE_TOOL=build/viewer/socktrace tests/view/properties.py TRACE...

prints what does not hold and exits 1; used by test_golden.py on every
fixture and by the tests that record real programs.
"""

import decimal
import json
import os
import subprocess
import sys


def run(tool, args):
    p = subprocess.run([tool] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    if p.returncode != 0:
        raise RuntimeError("%s %s: exit %d\n%s" % (tool, " ".join(args), p.returncode,
                                                  p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def check_jsonl(tool, trace):
    events = [json.loads(l) for l in run(tool, ["view", "-f", "jsonl", trace]).splitlines()]
    return check_events(events), events


def check_events(events):
    """What view -f jsonl's events must hold: order, bytes, payloads."""
    bad = []
    for i, e in enumerate(events, 1):
        if e.get("seq") != i:
            bad.append("jsonl: event %d has seq %s" % (i, e.get("seq")))
            break
        for q in e.get("pair", []):
            if q >= e["seq"]:
                bad.append("jsonl: event %d (%s) links to %d, not earlier" % (i, e.get("fn"), q))
        if e.get("link") and "conn" not in e:
            bad.append("jsonl: event %d has a link and no conn" % i)
    bad += check_bytes(events)
    bad += check_payloads(events)
    return bad


def check_payloads(events):
    """A recv that got exactly one send's bytes got what it sent (with
    payloads recorded): a wrong pairing of equal sizes shows here."""
    bad = []
    for e in events:
        pair = e.get("pair", [])
        if e.get("link") != "data" or e.get("out") or len(pair) != 1 or "data" not in e:
            continue
        c = events[pair[0] - 1]
        if c.get("off") == e.get("off") and c.get("bytes") == e.get("bytes") and \
           "data" in c and c["data"] != e["data"]:
            bad.append("payload: event %d (%s) got %r, its send %d sent %r" %
                       (e["seq"], e.get("fn"), e["data"][:40], c["seq"], c["data"][:40]))
    return bad


def check_bytes(events):
    """Per connection and direction, what the traced ends sent and got."""
    sent, got, eof, reset, sides = {}, {}, set(), set(), {}
    other = {"client": "server", "server": "client"}
    for e in events:
        c, side = e.get("conn"), e.get("side")
        if c is None or side not in other:
            continue
        sides.setdefault(c, set()).add(side)
        if e.get("errno") == "ECONNRESET":
            reset.add(c)
        if e.get("link") == "close" and not e.get("out") and "errno" not in e:
            eof.add((c, side))
        if e.get("link") != "data":
            continue
        n = e.get("bytes", e.get("ret"))
        if not isinstance(n, int) or n < 0:
            continue
        if e.get("out"):
            sent[(c, side)] = sent.get((c, side), 0) + n
        elif "MSG_PEEK" not in e.get("flags", ""):
            got[(c, other[side])] = got.get((c, other[side]), 0) + n
    bad = []
    for (c, frm), n in sorted(got.items()):
        if sides.get(c) != {"client", "server"}:
            continue
        s = sent.get((c, frm), 0)
        to = other[frm]
        if n > s:
            bad.append("bytes: c%s: the %s got %d B of the %s, which sent %d B" % (c, to, n, frm, s))
        elif (c, to) in eof and c not in reset and n != s:
            bad.append("bytes: c%s: the %s read the EOF after %d B of the %s's %d B" %
                       (c, to, n, frm, s))
    return bad


def check_perfetto(tool, trace):
    bad = []
    # Exact decimals, as Perfetto's importer turns them into nanoseconds:
    # floats would put a flow on its slice's very edge outside it.
    doc = json.loads(run(tool, ["view", "-f", "perfetto", trace]), parse_float=decimal.Decimal)
    slices = {}
    flows = {}
    for e in doc["traceEvents"]:
        if e.get("ph") == "X":
            slices.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
        elif e.get("ph") in ("s", "f"):
            flows.setdefault(e["id"], {})[e["ph"]] = e

    def inside(x):
        return any(a <= x["ts"] <= b for a, b in slices.get((x["pid"], x["tid"]), []))

    for fid, f in sorted(flows.items()):
        if set(f) != {"s", "f"}:
            bad.append("perfetto: flow %s has only %s" % (fid, "".join(f)))
            continue
        if not inside(f["s"]):
            bad.append("perfetto: flow %s starts outside a slice (%s)" % (fid, f["s"]["name"]))
        if not inside(f["f"]):
            bad.append("perfetto: flow %s ends outside a slice (%s)" % (fid, f["f"]["name"]))
        if f["f"]["ts"] < f["s"]["ts"]:
            bad.append("perfetto: flow %s ends before it starts" % fid)
    return bad


def check_text(tool, trace):
    """Rows are numbered by what the jsonl says; an arrow on a row joins
    the columns of its two ends: nothing to check beyond jsonl's order, but
    the renderer must run."""
    run(tool, ["view", "-f", "text", "--width", "200", "--color", "never", trace])
    run(tool, ["view", "-f", "mermaid", "--limit", "0", trace])
    return []


def check(tool, trace):
    bad, _ = check_jsonl(tool, trace)
    bad += check_perfetto(tool, trace)
    bad += check_text(tool, trace)
    return bad


def main():
    tool = os.environ["SOCKTRACE_TOOL"]
    failed = False
    for trace in sys.argv[1:]:
        bad = check(tool, trace)
        for b in bad[:20]:
            print("%s: %s" % (trace, b))
        if len(bad) > 20:
            print("%s: ... and %d more" % (trace, len(bad) - 20))
        failed |= bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
