#!/usr/bin/env python3
"""`socktrace view --format mermaid` drawn by mermaid itself: the npm
package `mermaid` (tests/view/browser/node_modules, `npm ci --prefix
tests/view/browser`) in headless Chromium (/usr/bin/chromium, driven by
playwright-core), as GitHub draws a ```mermaid block, through
browser/render_mermaid.mjs. Every golden .mmd, and every fixture with
--all and with --group, must render as a sequence diagram with no error.
Then what the diagram must say and how big it may get:

- a trace of many short-lived clients of one program (generated here: a
  shell loop of curls) is grouped into one participant by default, and
  drawn far narrower than without grouping;
- a trace too long for one diagram stays under mermaid's maxTextSize
  (50,000 characters, GitHub's too) whatever --limit says, and says what
  it left out, in a note and on standard error, with how to narrow;
- rows keep each thread's order (a connection's data after its set-up);
- every message is numbered (autonumber) and names its connection; by
  default no setsockopt or getsockname, --all has them; an injected fault
  is inside a rect; a pause of --gap or more is a note with its length;
  interpreters are named by their script.

Skipped (77) when Chromium, node or the npm packages are not installed.

    SOCKTRACE_TOOL=build/viewer/socktrace tests/view/test_mermaid_render.py
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
CHROMIUM = "/usr/bin/chromium"
BROWSER = os.path.join(HERE, "browser")
HELPER = os.path.join(BROWSER, "render_mermaid.mjs")
MODULES = [os.path.join(BROWSER, "node_modules", "mermaid", "dist", "mermaid.min.js"),
           os.path.join(BROWSER, "node_modules", "playwright-core", "index.mjs")]
FIXTURES = sorted(d for d in os.listdir(os.path.join(HERE, "fixtures"))
                  if os.path.isdir(os.path.join(HERE, "fixtures", d)))
MAXTEXTSIZE = 50000
MESSAGE = re.compile(r"^    \S+?(->>|--\)|-x)\S+?: (.*)$")

HEADER = ('{"rec":"header","format":"socktrace","version":"1.3","tool":"socktrace 0.1.0",'
          '"pid":%d,"ppid":%d,"uid":0,"prog":"%s","exe":"/usr/bin/%s","argv":["%s"],'
          '"host":"gen","clock":{"mono":1000,"real":1700000000000001000},"start":%d,'
          '"payload":0}\n')
CALL = ('{"rec":"call","ts":%d,"dur":%d,"pid":%d,"tid":%d,"fn":"%s","fd":%d,"ret":%d%s,'
        '"local":"%s","peer":"%s"}\n')


def many_clients(out, clients, requests=1):
    """A server and `clients` curl processes, one after another, each with
    `requests` connections: connect, setsockopt, getsockname, a request,
    a reply, close; written as the shim writes them."""
    os.makedirs(out, exist_ok=True)
    sv = "127.0.0.1:7000"
    srv = [HEADER % (1001, 1000, "server", "server", "server", 1000)]
    srv.append(CALL % (2000, 500, 1001, 1001, "listen", 3, 0, ',"backlog":128', sv, "unspec"))
    ts = 10000
    port = 40000
    for k in range(clients):
        pid = 1002 + k
        cli = [HEADER % (pid, 1000, "curl", "curl", "curl", ts)]
        for _ in range(requests):
            port += 1
            cl = "127.0.0.1:%d" % port
            ts += 1000
            cli.append(CALL % (ts, 900, pid, pid, "connect", 5, 0, ',"addr":"%s"' % sv, cl, sv))
            srv.append(CALL % (ts + 50, 1000, 1001, 1001, "accept4", 3, 4, "", sv, cl))
            cli.append(CALL % (ts + 2000, 300, pid, pid, "setsockopt", 5, 0,
                               ',"level":"IPPROTO_TCP","opt":"TCP_NODELAY","value":1', cl, sv))
            cli.append(CALL % (ts + 2500, 300, pid, pid, "getsockname", 5, 0,
                               ',"addr":"%s"' % cl, cl, sv))
            cli.append(CALL % (ts + 3000, 500, pid, pid, "send", 5, 80,
                               ',"len":80,"bytes":80', cl, sv))
            srv.append(CALL % (ts + 3200, 500, 1001, 1001, "recv", 4, 80,
                               ',"len":65536,"bytes":80', sv, cl))
            srv.append(CALL % (ts + 4000, 500, 1001, 1001, "send", 4, 190,
                               ',"len":190,"bytes":190', sv, cl))
            cli.append(CALL % (ts + 4200, 500, pid, pid, "recv", 5, 190,
                               ',"len":102400,"bytes":190', cl, sv))
            cli.append(CALL % (ts + 5000, 800, pid, pid, "close", 5, 0, "", cl, sv))
            srv.append(CALL % (ts + 5100, 400, 1001, 1001, "recv", 4, 0,
                               ',"len":65536,"bytes":0', sv, cl))
            srv.append(CALL % (ts + 5200, 700, 1001, 1001, "close", 4, 0, "", sv, cl))
            ts += 6000
        ts += 1000
        cli.append('{"rec":"end","ts":%d,"pid":%d,"reason":"exit","dropped":0}\n' % (ts, pid))
        with open(os.path.join(out, "curl.%d.jsonl" % pid), "w") as f:
            f.writelines(cli)
    with open(os.path.join(out, "server.1001.jsonl"), "w") as f:
        f.writelines(srv)


def view(args, out):
    p = subprocess.run([TOOL, "view", "-f", "mermaid"] + args, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("socktrace view -f mermaid %s: exit %d\n%s" %
                             (" ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    with open(out, "wb") as f:
        f.write(p.stdout)
    return p.stdout.decode(), p.stderr.decode()


def render(files):
    """mermaid's verdict on each file: {path: result}."""
    p = subprocess.run(["node", HELPER] + files, capture_output=True, timeout=600)
    if p.returncode not in (0, 1):
        raise AssertionError("render_mermaid.mjs: exit %d\n%s" %
                             (p.returncode, p.stderr.decode(errors="replace")))
    got = {}
    for line in p.stdout.decode().splitlines():
        r = json.loads(line)
        got[r["file"]] = r
    return got


def participants(text):
    return [l for l in text.splitlines() if l.startswith("    participant ")]


def main():
    if not TOOL:
        sys.exit("test_mermaid_render: set SOCKTRACE_TOOL to build/viewer/socktrace")
    missing = [p for p in [CHROMIUM] + MODULES if not os.path.exists(p)]
    if not shutil.which("node"):
        missing.append("node")
    if missing:
        print("skip: %s not installed (apt-get install chromium nodejs npm; "
              "npm ci --prefix tests/view/browser)" % ", ".join(missing))
        return 77
    tmp = tempfile.mkdtemp(prefix="socktrace-mermaid-")
    bad = []
    try:
        files = sorted(glob.glob(os.path.join(HERE, "golden", "*.mmd")))
        texts = {}
        for fx in FIXTURES:
            for opt in ("--all", "--group"):
                out = os.path.join(tmp, "%s%s.mmd" % (fx, opt.replace("--", ".")))
                texts[out], _ = view([opt, os.path.join(HERE, "fixtures", fx)], out)
                files.append(out)

        # Many short-lived clients of one program.
        curls = os.path.join(tmp, "curls21")
        many_clients(curls, 21)
        grouped = os.path.join(tmp, "curls21.mmd")
        ungrouped = os.path.join(tmp, "curls21.no-group.mmd")
        texts[grouped], _ = view([curls], grouped)
        texts[ungrouped], _ = view(["--no-group", curls], ungrouped)
        files += [grouped, ungrouped]
        if len(participants(texts[grouped])) != 2:
            bad.append("curls21: %d participants by default, not 2 (the server, the curls)" %
                       len(participants(texts[grouped])))
        if "curl (21 processes)" not in texts[grouped]:
            bad.append("curls21: no participant \"curl (21 processes)\"")
        if len(participants(texts[ungrouped])) != 22:
            bad.append("curls21 --no-group: %d participants, not 22" %
                       len(participants(texts[ungrouped])))

        # Too long for one diagram, whatever --limit allows.
        big = os.path.join(tmp, "big")
        many_clients(big, 20, requests=40)
        long = os.path.join(tmp, "big.mmd")
        texts[long], err = view(["--limit", "100000", big], long)
        files.append(long)
        if len(texts[long]) > MAXTEXTSIZE:
            bad.append("big: %d characters, over mermaid's maxTextSize" % len(texts[long]))
        if not re.search(r"Note over [^\n]*: \d+ more events not drawn .*--pid, --conn, "
                         r"--since/--until", texts[long]):
            bad.append("big: no closing note of what was left out")
        if not re.search(r"\d+ events not drawn .*narrow with --pid, --conn, --since/--until",
                         err):
            bad.append("big: standard error does not say what was left out: %r" % err)
        limited = os.path.join(tmp, "tcp3.limit.mmd")
        texts[limited], err = view(["--limit", "6", os.path.join(HERE, "fixtures", "tcp3")],
                                   limited)
        files.append(limited)
        if "more events not drawn (--limit)" not in texts[limited] or \
           "over --limit 6" not in err:
            bad.append("tcp3 --limit 6: the cut is not said (stderr %r)" % err)

        # What every diagram says.
        for fx in FIXTURES:
            text, _ = view([os.path.join(HERE, "fixtures", fx)], os.path.join(tmp, fx + ".mmd"))
            if "\n    autonumber\n" not in text:
                bad.append("%s: messages not numbered (autonumber)" % fx)
            for line in text.splitlines():
                m = MESSAGE.match(line)
                if m and not re.match(r"c\d+ ", m.group(2)):
                    bad.append("%s: a message without its connection: %s" % (fx, line))
            # Each thread's order: a connection's data not before its
            # set-up (a client's send drawn above its connect's message).
            setup, data = {}, {}
            for n, line in enumerate(text.splitlines()):
                m = re.search(r": (c\d+) (?:\S+ )?(\w+)\(", line)
                if not m:
                    continue
                c, fn = m.groups()
                if fn == "connect" or fn.startswith("accept"):
                    setup.setdefault(c, n)
                elif re.match(r"(send|recv|write|read)", fn):
                    data.setdefault(c, n)
            for c in sorted(set(setup) & set(data)):
                if data[c] < setup[c]:
                    bad.append("%s: %s's data drawn before its set-up" % (fx, c))
            if re.search(r"setsockopt\(\d+, SO_|getsockname\(", text):
                bad.append("%s: setsockopt or getsockname drawn without --all" % fx)
        if "getsockname(" not in texts[os.path.join(tmp, "tcp.all.mmd")]:
            bad.append("tcp --all: getsockname not drawn")
        text, _ = view([os.path.join(HERE, "fixtures", "faults")], os.path.join(tmp, "f.mmd"))
        if not re.search("\n    rect [^\n]*\n[^\n]*\u26a1[^\n]*\n    end\n", text):
            bad.append("faults: the injected fault is not inside a rect")
        text, _ = view(["--gap", "1ms", os.path.join(HERE, "fixtures", "tcp3")],
                       os.path.join(tmp, "gap.mmd"))
        if not re.search(r"Note over P\d+,P\d+: [\d.]+(ms|s) idle", text):
            bad.append("tcp3 --gap 1ms: no pause marked")
        text, _ = view(["--gap", "0", os.path.join(HERE, "fixtures", "tcp3")],
                       os.path.join(tmp, "nogap.mmd"))
        if " idle\n" in text:
            bad.append("tcp3 --gap 0: a pause marked")
        text, _ = view([os.path.join(HERE, "fixtures", "forking")], os.path.join(tmp, "py.mmd"))
        if "as echo_server.py pid" not in text or " as python" in text:
            bad.append("forking: participants not named by their script")

        # Mermaid's own verdict, and the sizes.
        got = render(files)
        for f in files:
            r = got.get(f)
            name = os.path.relpath(f, HERE) if f.startswith(HERE) else os.path.basename(f)
            if not r:
                bad.append("%s: not rendered" % name)
            elif not r["ok"]:
                bad.append("%s: %s" % (name, r["error"]))
            elif r.get("type") != "sequence":
                bad.append("%s: rendered as %r, not a sequence diagram" % (name, r.get("type")))
        w = {f: (got.get(f) or {}).get("width") or 0 for f in files}
        print("curls21: %.0f px wide grouped, %.0f px not grouped; big: %d characters" %
              (w[grouped], w[ungrouped], len(texts[long])))
        if not w[grouped] or w[grouped] > 1600 or w[grouped] * 3 > w[ungrouped]:
            bad.append("curls21: %.0f px wide grouped (%.0f px not): not bounded" %
                       (w[grouped], w[ungrouped]))
        curls_group = os.path.join(tmp, "curls.group.mmd")
        if not w[curls_group] or w[curls_group] > 1600:
            bad.append("curls --group: %.0f px wide" % w[curls_group])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for b in bad:
        print(b)
    if bad:
        print("%d problem(s)" % len(bad))
        return 1
    print("ok: %d diagrams rendered" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
