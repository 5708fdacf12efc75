#!/usr/bin/env python3
"""Golden-file tests of `socktrace view` and `socktrace stats`.

Renders the recorded traces in fixtures/ (see record_fixtures.py) in every
format and with the main options, and compares the output, byte for byte,
with golden/CASE (and its standard error with golden/CASE.stderr, which
must be empty when that file is absent).

    SOCKTRACE_TOOL=build/viewer/socktrace tests/view/test_golden.py [--regen] [CASE...]

--regen writes the goldens instead of comparing (review the diff before
committing). Run from anywhere: paths in messages are relative to this
directory.
"""

import difflib
import os
import subprocess
import sys

import properties

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
# --addr2line none: the fixtures' stack frames name modules of the machine
# that recorded them; file:line from this machine's copies (its libc, say)
# would make the output depend on where the test runs.
VIEW = ["view", "--width", "120", "--color", "never", "--addr2line", "none"]
TEXT = VIEW + ["-f", "text"]

FORMATS = [("text", "txt"), ("html", "html"), ("mermaid", "mmd"), ("perfetto", "json"),
           ("jsonl", "jsonl")]
FIXTURES = ["tcp", "tcp3", "udp", "refused", "faults", "killed", "curls", "forking",
            "threaded", "unixfork", "peek", "retry", "ahead"]


def cases():
    out = []
    for fx in FIXTURES:
        for fmt, ext in FORMATS:
            out.append(("%s.%s" % (fx, ext), VIEW + ["-f", fmt, "fixtures/" + fx]))
        out.append(("%s.stats.txt" % fx, ["stats", "fixtures/" + fx]))
    out += [
        # Options on the two-client trace.
        ("tcp3.ascii.txt", TEXT + ["--ascii", "fixtures/tcp3"]),
        ("tcp3.narrow.txt", ["view", "-f", "text", "--width", "60", "--color", "never",
                             "fixtures/tcp3"]),
        ("tcp3.pid.txt", TEXT + ["--pid", "1003", "fixtures/tcp3"]),
        ("tcp3.conn.txt", TEXT + ["--conn", "c2", "fixtures/tcp3"]),
        ("tcp3.addr.jsonl", VIEW + ["-f", "jsonl", "--conn", "127.0.0.1:40001", "fixtures/tcp3"]),
        ("tcp3.fn.mmd", VIEW + ["-f", "mermaid", "--fn", "connect,accept,send,recv",
                                "fixtures/tcp3"]),
        ("tcp3.until.txt", TEXT + ["--until", "0.052", "fixtures/tcp3"]),
        ("tcp3.since.txt", TEXT + ["--since", "54ms", "fixtures/tcp3"]),
        ("tcp3.limit.html", VIEW + ["-f", "html", "--limit", "10", "fixtures/tcp3"]),
        ("tcp3.color.txt", ["view", "-f", "text", "--width", "120", "--color", "always",
                            "fixtures/tcp3"]),
        ("faults.errors.txt", TEXT + ["--errors", "fixtures/faults"]),
        ("faults.errors.stats.txt", ["stats", "--errors", "fixtures/faults"]),
        ("tcp3.stats.pid.txt", ["stats", "--pid", "1002", "fixtures/tcp3"]),
        # Call stacks (the faults fixture's refused connect has one).
        ("faults.stacks.txt", TEXT + ["--stacks", "fixtures/faults"]),
        ("faults.stacks.narrow.txt", ["view", "-f", "text", "--width", "60", "--color", "never",
                                      "--addr2line", "none", "--stacks", "fixtures/faults"]),
        ("faults.stacks.errors.txt", TEXT + ["--stacks", "--errors", "--ascii", "--color",
                                             "always", "fixtures/faults"]),
        ("faults.stacks.none.txt", TEXT + ["--stacks", "--pid", "1001", "fixtures/faults"]),
        ("faults.by-caller.stats.txt", ["stats", "--by-caller", "--addr2line", "none",
                                        "fixtures/faults"]),
        ("faults.by-caller.errors.stats.txt", ["stats", "--by-caller", "--errors",
                                               "--addr2line", "none", "fixtures/faults"]),
        ("tcp.by-caller.stats.txt", ["stats", "--by-caller", "fixtures/tcp"]),
        # One side's file alone: the other is a remote endpoint (a column,
        # a Perfetto track with the flows ending there).
        ("tcp.client-only.txt", TEXT + ["fixtures/tcp/tcp_client.1002.jsonl"]),
        ("tcp.client-only.json", VIEW + ["-f", "perfetto", "fixtures/tcp/tcp_client.1002.jsonl"]),
        ("tcp.server-only.json", VIEW + ["-f", "perfetto", "fixtures/tcp/tcp_server.1001.jsonl"]),
        # Verdicts over connects in progress (retry-timeout.scn).
        ("retry.assert.txt", ["assert", "--color", "never", "retry-timeout.scn", "fixtures/retry"]),
        ("retry.errors.txt", TEXT + ["--errors", "fixtures/retry"]),
        ("curls.errors.stats.txt", ["stats", "--errors", "fixtures/curls"]),
        ("curls.stats.json", ["stats", "--json", "fixtures/curls"]),
        ("unixfork.stats.json", ["stats", "--json", "fixtures/unixfork"]),
        # Reports: a healthy run draws no failure diagram; a run with
        # rules says how to replay it and how often each rule acted.
        ("tcp.report.md", ["report", "-f", "markdown", "fixtures/tcp"]),
        ("retry.report.md", ["report", "-f", "markdown", "fixtures/retry"]),
    ]
    return out


ASSETS = os.path.join(HERE, "..", "..", "viewer", "render", "html")


def without_assets(page):
    """An HTML page with the explorer's stylesheet and script, which it must
    embed byte for byte, replaced by their names: the goldens hold what the
    tool writes of the trace, and the page's code is tested in a browser
    (test_html_explorer.py)."""
    for name in ("explorer.css", "explorer.js"):
        code = open(os.path.join(ASSETS, name), "rb").read()
        if page.count(code) != 1:
            return page + b"\n<!-- " + name.encode() + b" not embedded whole -->\n"
        page = page.replace(code, b"/* " + name.encode() + b" */\n")
    return page


def run(args):
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.pop("COLUMNS", None)
    p = subprocess.run([TOOL] + args, cwd=HERE, env=env, capture_output=True, timeout=60)
    out = p.stdout
    if "html" in args and p.returncode == 0:
        out = without_assets(out)
    return p.returncode, out, p.stderr


def compare(name, what, got, path):
    if not os.path.exists(path):
        if got:
            print("%s: unexpected %s:\n%s" % (name, what, got.decode(errors="replace")))
            return False
        return True
    want = open(path, "rb").read()
    if got == want:
        return True
    diff = difflib.unified_diff(want.decode(errors="replace").splitlines(True),
                                got.decode(errors="replace").splitlines(True),
                                "golden/" + os.path.basename(path), "output")
    print("%s: %s differs from %s:" % (name, what, path))
    sys.stdout.writelines(list(diff)[:80])
    return False


def main():
    regen = "--regen" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not TOOL:
        sys.exit("test_golden: set SOCKTRACE_TOOL to build/viewer/socktrace")
    golden = os.path.join(HERE, "golden")
    os.makedirs(golden, exist_ok=True)
    failed = 0
    for name, args in cases():
        if only and name not in only:
            continue
        rc, out, err = run(args)
        out_path = os.path.join(golden, name)
        err_path = out_path + ".stderr"
        if rc != 0:
            print("%s: socktrace %s exited %d\n%s" % (name, " ".join(args), rc,
                                                      err.decode(errors="replace")))
            failed += 1
            continue
        if regen:
            open(out_path, "wb").write(out)
            if err:
                open(err_path, "wb").write(err)
            elif os.path.exists(err_path):
                os.unlink(err_path)
            continue
        ok = compare(name, "output", out, out_path) & compare(name, "standard error", err,
                                                               err_path)
        if not ok:
            failed += 1
    # What must hold on any trace (properties.py), on every fixture.
    if not regen and not only:
        for fx in FIXTURES:
            for b in properties.check(TOOL, os.path.join(HERE, "fixtures", fx)):
                print("fixtures/%s: %s" % (fx, b))
                failed += 1
    if regen:
        print("goldens written to %s: review `git diff` before committing" % golden)
    elif failed:
        print("%d golden case(s) failed; if the change is intended, regenerate:\n"
              "  SOCKTRACE_TOOL=build/viewer/socktrace tests/view/test_golden.py --regen" % failed)
    else:
        print("all %d golden cases match" % len(cases()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
