#!/usr/bin/env python3
"""Call stacks in `socktrace view` and `socktrace stats`, on a trace
recorded now: tests/integration/progs/callers.c run under
`socktrace run --backtrace`, built with debug information (callers_fp:
-g -O0) and without (callers_nodebug: -O2 -g0).

- `view -f text --stacks` shows each frame with callers.c:LINE, the lines
  being those of the source; without --stacks the diagram is the same,
  frame lines left out;
- the HTML page's records carry "src" (file:line) on their frames;
- `stats --by-caller` counts the two refused connects at db_connect, the
  innermost frame in the program (not at health_check or retry_path);
- without debug information: function names, no file:line; without
  addr2line (not in PATH, or --addr2line none): module+offset, exit 0;
- with a stand-in addr2line (fake_addr2line.py): one run per module, each
  distinct offset asked once, inlined levels shown, nonsense or no answer
  taken gracefully.

    SOCKTRACE_TOOL=build/viewer/socktrace SOCKTRACE_CALLERS_FP=... \\
    SOCKTRACE_CALLERS_NODEBUG=... SOCKTRACE_CALLERS_SRC=.../callers.c \\
        tests/view/test_stacks.py

Exits 77 (skipped) when the shim was built without call stacks.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ.get("SOCKTRACE_TOOL", ""))
FP = os.environ.get("SOCKTRACE_CALLERS_FP", "")
NODEBUG = os.environ.get("SOCKTRACE_CALLERS_NODEBUG", "")
SRC = os.environ.get("SOCKTRACE_CALLERS_SRC",
                     os.path.join(HERE, "..", "integration", "progs", "callers.c"))
HAVE_A2L = shutil.which("addr2line") is not None
failures = []


class Skip(Exception):
    pass


def expect(cond, what, detail=""):
    if not cond:
        failures.append(what + ("\n    " + detail.strip().replace("\n", "\n    ")
                                if detail else ""))
    return cond


def tool(*args, env=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.pop("COLUMNS", None)
    e.update(env or {})
    p = subprocess.run([TOOL] + list(args), capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def source_lines():
    """The lines of callers.c the frames must name."""
    lines = open(SRC).read().split("\n")

    def find(pattern, after=None):
        start = 0
        if after:
            start = next(i for i, l in enumerate(lines) if after in l)
        return next(i + 1 for i in range(start, len(lines)) if pattern in lines[i])

    return {
        "connect": find("r = connect(fd"),
        "health_check": find("db_connect();", "static int health_check"),
        "retry_path": find("db_connect();", "static int retry_path"),
        "send_request": find("send(pair[0]"),
        "read_reply": find("recv(pair[1]"),
    }


def record(prog, tmp, name):
    out = os.path.join(tmp, name)
    rc, _, err = tool("run", "-q", "-o", out, "--backtrace", "--", prog, "plain")
    if rc != 0:
        raise AssertionError("socktrace run --backtrace %s exited %d: %s" % (prog, rc, err))
    rc, text, err = tool("cat", out)
    if rc != 0:
        raise AssertionError("socktrace cat %s exited %d: %s" % (out, rc, err))
    events = [json.loads(line) for line in text.splitlines() if line]
    if not any("stack" in e for e in events):
        raise Skip("no call stacks in the trace: shim built without libunwind?")
    return out, events


def stack_rows(text):
    """The frame lines of view --stacks output: "#N func  where", the
    functions an "(inlined)" frame was inlined into, "... more frames"."""
    rows, prev = [], ""
    for l in text.split("\n"):
        if l[:10].strip() == "" and (re.search(r"#\d+ ", l) or "more frame" in l or
                                     (prev.endswith("(inlined)") and prev in rows[-1:])):
            rows.append(l)
        prev = l
    return rows


def without_stack_rows(text):
    rows = set(stack_rows(text))
    return "\n".join(l for l in text.split("\n") if l not in rows)


def by_caller_rows(text):
    """{(caller, call): (count, errors, the rest)} of stats --by-caller."""
    rows = {}
    lines = text.split("\n")
    head = next((i for i, l in enumerate(lines) if l.startswith("caller ")), None)
    if head is None:
        return rows
    call_col = lines[head].index(" call ") + 1
    for l in lines[head + 1:]:
        if not l.strip():
            break
        caller = l[:call_col].strip()
        fields = l[call_col:].split()
        rows[(caller, fields[0])] = (int(fields[1]), int(fields[2]), " ".join(fields[3:]))
    return rows


def test_debug_info(tmp, lines):
    trace, events = record(FP, tmp, "fp")
    if not HAVE_A2L:
        print("addr2line (binutils) is not installed: file:line checks skipped")
        return trace, events
    rc, text, err = tool("view", "-f", "text", "--color", "never", "-w", "160", "--stacks",
                         trace)
    expect(rc == 0 and err == "", "view --stacks exits 0 quietly", err)
    rows = stack_rows(text)
    want = "#0 db_connect  callers.c:%d" % lines["connect"]
    expect(sum(want in r for r in rows) == 2, "both connects' innermost frame: " + want, text)
    for fn in ("health_check", "retry_path"):
        w = "#1 %s  callers.c:%d" % (fn, lines[fn])
        expect(any(w in r for r in rows), "a connect called from " + w, text)
    for fn, call in (("send_request", "send"), ("read_reply", "recv")):
        w = "#0 %s  callers.c:%d" % (fn, lines[fn])
        expect(any(w in r for r in rows), "%s's caller: %s" % (call, w), text)
    for r in rows:
        expect(len(r) <= 160, "frame lines fit the width", r)

    # Without --stacks: the same diagram, without the frame lines.
    rc, plain, _ = tool("view", "-f", "text", "--color", "never", "-w", "160", trace)
    expect(rc == 0 and "#0 " not in plain, "no frames without --stacks", plain)
    expect(without_stack_rows(text) == plain, "--stacks only adds frame lines",
           "\n".join(text.split("\n")[:20]))

    # Narrow: every line still fits.
    rc, narrow, _ = tool("view", "-f", "text", "--color", "never", "-w", "50", "--stacks", trace)
    expect(rc == 0, "narrow view exits 0")
    for r in stack_rows(narrow):
        expect(len(r) <= 50, "frame lines fit 50 columns", r)
    expect(any("callers.c:%d" % lines["connect"] in r for r in stack_rows(narrow)),
           "the line number survives narrowing", narrow)

    # HTML: frames carry file:line for the page's stack panel.
    rc, html, err = tool("view", "-f", "html", trace)
    expect(rc == 0 and err == "", "view -f html exits 0 quietly", err)
    expect(re.search(r'"src":"[^"]*callers\.c:%d","src_func":"db_connect"' % lines["connect"],
                     html) is not None, "HTML: db_connect's frame has src callers.c:%d"
           % lines["connect"])
    expect('"src":"' in html and "inlined in" in html, "HTML: the stack panel shows src")
    clicked = click_first_connect(tmp, html)
    if clicked is not None:
        expect(re.search(r"<li>db_connect  \S*callers\.c:%d  \S*callers_fp\+0x[0-9a-f]+</li>"
                         % lines["connect"], clicked) is not None,
               "Chromium: the clicked connect's stack shows db_connect callers.c:%d"
               % lines["connect"], clicked[:3000])
    rc, html_none, _ = tool("view", "-f", "html", "--addr2line", "none", trace)
    expect('"src":' not in html_none and '"inlined":' not in html_none,
           "HTML with --addr2line none: frames as recorded")

    # stats --by-caller: the innermost frame in the program is db_connect.
    rc, st, err = tool("stats", "--by-caller", trace)
    expect(rc == 0 and err == "", "stats --by-caller exits 0 quietly", err)
    rows = by_caller_rows(st)
    key = ("db_connect  callers.c:%d" % lines["connect"], "connect")
    expect(key in rows and rows[key][:2] == (2, 2) and "ECONNREFUSED:2" in rows[key][2],
           "db_connect connect: 2 calls, 2 ECONNREFUSED", st)
    expect(("send_request  callers.c:%d" % lines["send_request"], "send") in rows,
           "send_request's send", st)
    expect(("read_reply  callers.c:%d" % lines["read_reply"], "recv") in rows,
           "read_reply's recv", st)
    expect(not any(c.startswith(("health_check", "retry_path")) for c, _ in rows),
           "health_check and retry_path are not the innermost frames in the program", st)
    rc, st, _ = tool("stats", "--by-caller", "--fn", "connect", trace)
    rows = by_caller_rows(st)
    expect(list(rows) == [key], "--fn connect: only db_connect's connects", st)

    # No addr2line in PATH: said once, then modules and offsets.
    rc, text2, err = tool("view", "-f", "text", "--color", "never", "-w", "160", "--stacks",
                          trace, env={"PATH": "/nonexistent"})
    expect(rc == 0 and "addr2line not found" in err and err.count("\n") == 1,
           "missing addr2line: exit 0, said once", err)
    rows = stack_rows(text2)
    expect(any(re.search(r"#0 db_connect\+0x[0-9a-f]+  callers_fp\+0x[0-9a-f]+", r)
               for r in rows) and "callers.c:" not in text2,
           "missing addr2line: function+offset and module+offset", text2)
    rc, text3, err = tool("view", "-f", "text", "--color", "never", "-w", "160", "--stacks",
                          "--addr2line", "none", trace)
    expect(rc == 0 and err == "" and text3 == text2, "--addr2line none: the same, quietly", err)
    rc, st, err = tool("stats", "--by-caller", trace, env={"PATH": "/nonexistent"})
    rows = by_caller_rows(st)
    expect(rc == 0 and any(c.startswith("db_connect+0x") and call == "connect" and
                           v[:2] == (2, 2) for (c, call), v in rows.items()),
           "stats --by-caller without addr2line: db_connect+0x.. connect 2", st)
    return trace, events


def test_no_debug_info(tmp, lines):
    _ = lines
    trace, _ = record(NODEBUG, tmp, "nodebug")
    rc, text, err = tool("view", "-f", "text", "--color", "never", "-w", "160", "--stacks",
                         trace)
    expect(rc == 0 and err == "", "view --stacks exits 0 quietly (no debug info)", err)
    rows = stack_rows(text)
    expect(any(re.search(r"#0 db_connect\+0x[0-9a-f]+  callers_nodebug\+0x", r) for r in rows),
           "no debug info: db_connect+offset and module+offset", text)
    expect(any("health_check" in r for r in rows) and any("retry_path" in r for r in rows),
           "no debug info: the callers are named", text)
    expect("callers.c" not in text, "no debug info: no file:line", text)
    rc, st, err = tool("stats", "--by-caller", trace)
    rows = by_caller_rows(st)
    expect(rc == 0 and any(re.fullmatch(r"db_connect\+0x[0-9a-f]+", c) and call == "connect"
                           and v[:2] == (2, 2) for (c, call), v in rows.items()),
           "no debug info: stats --by-caller db_connect+0x.. connect 2", st)
    expect("callers.c" not in st, "no debug info: stats without file:line", st)


CHROMIUM = "/usr/bin/chromium"

# Clicks the first connect that has a stack once the page is loaded (the
# explorer's own selection, window.socktrace, as a click on its box does).
CLICK = ("<script>(function(){var D=window.socktrace.data;"
         "for(var i=0;i<D.rec.length;i++){if(D.rec[i].fn==='connect'&&D.rec[i].stack){"
         "window.socktrace.selectEvent(D.ev[i][0]);break;}}})();</script>")


def click_first_connect(tmp, html):
    """The details panel after a click on a connect in headless Chromium
    (None without Chromium)."""
    if not os.path.exists(CHROMIUM):
        print("Chromium not installed: the click check is skipped")
        return None
    page = os.path.join(tmp, "click.html")
    with open(page, "w") as f:
        f.write(html.replace("</body>", CLICK + "</body>"))
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run",
                        "--user-data-dir=" + os.path.join(tmp, "profile"), "--dump-dom",
                        "file://" + page], capture_output=True, timeout=120)
    dom = p.stdout.decode(errors="replace")
    m = re.search(r'<section id="details">(.*?)</section>', dom, re.S)
    expect(p.returncode == 0 and m is not None, "Chromium dumps the page",
           p.stderr.decode(errors="replace")[-1000:])
    return m.group(1) if m else ""


def fake(tmp):
    path = os.path.join(tmp, "fake-addr2line")
    shutil.copy(os.path.join(HERE, "fake_addr2line.py"), path)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def test_fake_addr2line(tmp, trace, events):
    a2l = fake(tmp)
    log = os.path.join(tmp, "a2l.log")
    # What the trace asks: distinct offsets per module that is a file here.
    wanted = {}
    for e in events:
        for f in e.get("stack", []):
            if "module" in f and "offset" in f and os.path.isfile(f["module"]):
                wanted.setdefault(f["module"], set()).add(int(f["offset"], 16))
    expect(len(wanted) >= 2, "frames in the program and in libc", str(wanted))
    for what, args in (("view text", ["view", "-f", "text", "-w", "160", "--color", "never",
                                      "--stacks"]),
                       ("view html", ["view", "-f", "html"]),
                       ("stats", ["stats", "--by-caller"])):
        if os.path.exists(log):
            os.unlink(log)
        rc, out, err = tool(*(args + ["--addr2line", a2l, trace]), env={"FAKE_A2L_LOG": log})
        expect(rc == 0 and err == "", what + " with a stand-in addr2line exits 0", err)
        runs = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
        modules = [r["argv"][r["argv"].index("-e") + 1] for r in runs]
        expect(sorted(modules) == sorted(set(modules)), what + ": one run per module", modules)
        for r in runs:
            expect(all(a in r["argv"] for a in ("-f", "-C", "-i")),
                   what + ": -f -C -i", r["argv"])
            expect(len(r["addrs"]) == len(set(r["addrs"])), what + ": each offset asked once",
                   str(r["addrs"]))
        if what == "stats":
            continue  # only the call sites
        got = {m: set(int(a, 16) for a in r["addrs"]) for m, r in zip(modules, runs)}
        expect(got == wanted, what + ": every frame's offset, in one batch per module",
               "%s\n%s" % (got, wanted))
        if what == "view text":
            rows = stack_rows(out)
            expect(any(re.search(r"#0 fake_[0-9a-f]+  callers_fp\.c:\d+", r) for r in rows),
                   "stand-in names and lines shown", out)
            expect(any(re.search(r"#\d+ fake_[0-9a-f]+  \S+\.c:\d+ \(inlined\)$", r)
                       for r in rows) and
                   any(re.search(r"   outer_[0-9a-f]+  outer\.c:7$", r) for r in rows),
                   "inlined levels shown", out)
        else:
            expect(re.search(r'"src":"\\/fake\\/src\\/callers_fp\.c:\d+","src_func":"fake_', out)
                   is not None and '"inlined":[{"func":"outer_' in out,
                   "HTML: stand-in src, src_func and inlined", out[-3000:])

    # Answers that make no sense, or none: frames as recorded, exit 0.
    rc, plain, _ = tool("view", "-f", "text", "-w", "160", "--color", "never", "--stacks",
                        "--addr2line", "none", trace)
    for mode in ("exit", "garbage", "unknown"):
        rc, out, err = tool("view", "-f", "text", "-w", "160", "--color", "never", "--stacks",
                            "--addr2line", a2l, trace, env={"FAKE_A2L_MODE": mode})
        expect(rc == 0 and err == "" and out == plain,
               "stand-in addr2line %s: frames as recorded" % mode, err + out[:2000])
        rc, st, err = tool("stats", "--by-caller", "--addr2line", a2l, trace,
                           env={"FAKE_A2L_MODE": mode})
        expect(rc == 0 and "db_connect+0x" in st, "stats with addr2line %s" % mode, st)
    rc, out, err = tool("view", "-f", "text", "-w", "160", "--color", "never", "--stacks",
                        "--addr2line", a2l, trace, env={"FAKE_A2L_MODE": "partial"})
    rows = stack_rows(out)
    expect(rc == 0 and any("fake_" in r for r in rows) and
           any(re.search(r"  callers_fp\+0x", r) for r in rows),
           "stand-in addr2line answering one address: that one resolved, the rest not", out)


def main():
    if not TOOL or not FP or not NODEBUG:
        sys.exit("test_stacks: set SOCKTRACE_TOOL, SOCKTRACE_CALLERS_FP and "
                 "SOCKTRACE_CALLERS_NODEBUG")
    tmp = tempfile.mkdtemp(prefix="socktrace-view-stacks-")
    try:
        lines = source_lines()
        trace, events = test_debug_info(tmp, lines)
        test_no_debug_info(tmp, lines)
        test_fake_addr2line(tmp, trace, events)
    except Skip as e:
        print("skipped: %s" % e)
        return 77
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    print("%d failure(s)" % len(failures) if failures else "all stack checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
