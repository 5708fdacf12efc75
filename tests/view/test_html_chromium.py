#!/usr/bin/env python3
"""`socktrace view --format html` in a real browser: headless Chromium loads
the page from a file (no network), runs its script, and the dumped DOM
must hold the SVG diagram with one element per event and the script's
mark that it parsed the embedded records. Then the same with a few
thousand events, which must load quickly. Skipped (77) without
/usr/bin/chromium (Debian package `chromium`)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
CHROMIUM = "/usr/bin/chromium"


def dump_dom(html_path, profile):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--user-data-dir=" + profile, "--dump-dom", "file://" + html_path]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    if p.returncode != 0:
        sys.exit("chromium failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return p.stdout.decode(), time.monotonic() - t0


def render(args, out):
    p = subprocess.run([TOOL, "view", "-f", "html", "-o", out] + args, capture_output=True,
                       timeout=120)
    if p.returncode != 0:
        sys.exit("socktrace view failed: %s" % p.stderr.decode(errors="replace"))


def check(dom, events, what):
    assert '<svg id="flow"' in dom, what + ": no SVG diagram"
    n = len(re.findall(r'<g class="ev[ "]', dom))
    assert n == events, "%s: %d event elements, expected %d" % (what, n, events)
    m = re.search(r'data-ready="(\d+)"', dom)
    assert m and int(m.group(1)) == events, what + ": the page's script did not run"
    assert "http://" not in dom.replace('xmlns="http://www.w3.org/2000/svg"', ""), \
        what + ": the page refers to the network"


def main():
    if not os.path.exists(CHROMIUM):
        print("skip: %s not installed (apt-get install chromium)" % CHROMIUM)
        return 77
    tmp = tempfile.mkdtemp(prefix="socktrace-html-")
    try:
        page = os.path.join(tmp, "faults.html")
        render([os.path.join(HERE, "fixtures", "faults")], page)
        dom, _ = dump_dom(page, os.path.join(tmp, "profile1"))
        check(dom, 25, "faults")
        assert 'class="ev err fault"' in dom, "the injected fault is not marked"
        assert "stack" in dom, "the recorded stack is not in the page"

        # Thousands of events: a generated trace, drawn whole.
        big = os.path.join(tmp, "big")
        gen = subprocess.run([sys.executable, os.path.join(HERE, "gen_big_trace.py"), big, "4000",
                              "20"], check=True, capture_output=True)
        events = int(gen.stdout.split()[0])
        page = os.path.join(tmp, "big.html")
        render(["--limit", "0", big], page)
        dom, took = dump_dom(page, os.path.join(tmp, "profile2"))
        check(dom, events, "big")
        print("%d events: page of %d KiB loaded in %.1f s" % (events, os.path.getsize(page) // 1024,
                                                             took))
        assert took < 60, "the page took %.1f s to load" % took
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
