#!/usr/bin/env python3
"""`socktrace view -f html` in a real browser, used as a person would: Debian's
headless Chromium driven by playwright-core (browser/explorer_check.mjs)
loads the page of a fixture, types a connection into the filter (only its
events stay), clicks the connection in the list (it is highlighted and
scrolled to), presses n, n, p (its events in order, each shown in the
details), scrolls (the column header and the time column stay in sight,
the side panel covers no column), opens a link to an event, and takes a
screenshot, whose pixels must show the connections' colours, the injected
fault and the refusal. Then the same on a generated trace of 100,000
events, which must open (from navigation to the drawn page) within 3 s, the
best of three loads, and draw its last event after a jump to the end.

Exits 77 (skipped) when /usr/bin/chromium (Debian package chromium) or the
npm packages of browser/ (`npm ci --prefix tests/view/browser`) are not
installed."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(os.environ["SOCKTRACE_TOOL"]) if os.environ.get("SOCKTRACE_TOOL") else ""
CHROMIUM = "/usr/bin/chromium"
BROWSER = os.path.join(HERE, "browser")
BIG_EVENTS = int(os.environ.get("SOCKTRACE_HTML_BIG_EVENTS", "100000"))
OPEN_BOUND_MS = 3000
failures = []


def expect(ok, what, detail=""):
    print("%s  %s%s" % ("ok  " if ok else "FAIL", what, ("\n      " + str(detail)) if not ok and detail else ""))
    if not ok:
        failures.append(what)


def render(args, out):
    p = subprocess.run([TOOL, "view", "-f", "html", "-o", out] + args, capture_output=True,
                       timeout=300)
    if p.returncode != 0:
        sys.exit("socktrace view failed: %s" % p.stderr.decode(errors="replace"))


def drive(page, shot, conn=None):
    cmd = ["node", os.path.join(BROWSER, "explorer_check.mjs"), page, shot]
    if conn:
        cmd.append(str(conn))
    p = subprocess.run(cmd, capture_output=True, timeout=600, cwd=BROWSER)
    if p.returncode != 0:
        sys.exit("the browser script failed: %s" % p.stderr.decode(errors="replace")[-3000:])
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def png_colours(path):
    """The colours of a PNG's pixels (8-bit RGB or RGBA, not interlaced, as
    Chromium writes them), with how many pixels have each."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG kind"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    prev, counts, i = bytearray(stride), {}, 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            rgb = bytes(line[x:x + 3])
            counts[rgb] = counts.get(rgb, 0) + 1
        prev = line
    return counts


def near(counts, hexcol, tol=24):
    want = bytes.fromhex(hexcol.lstrip("#"))
    return sum(n for rgb, n in counts.items()
               if all(abs(rgb[k] - want[k]) <= tol for k in range(3)))


def check_common(name, r, multi_lane):
    expect(not r["errors"], name + ": no script errors", r["errors"])
    expect(0 < r["dom_events"] < 200, name + ": only the rows on screen are in the DOM (%d of %d)"
           % (r["dom_events"], r["events"]))
    expect(not r["errno_cut"], name + ": every failure drawn shows its errno whole", r["errno_cut"])
    expect(not r["result_cut"]["bad"], name + ": labels are shortened, never in their result (%d "
           "shortened on screen)" % r["result_cut"]["shortened"], r["result_cut"]["bad"][:5])
    expect(r["heads_over_boxes"], name + ": arrowheads and labels are drawn over the boxes")
    f = r.get("filter")
    if f:
        expect(f["shown"] == f["want"] and f["others"] == 0 and f["drawn"] > 0,
               name + ": typing c%d in the filter leaves only its events" % r["conn"], f)
        expect(f["listed"] == 1, name + ": ... and only it in the connection list", f)
        expect(r["unfiltered"] == r["events"], name + ": clearing the filter shows all again")
        c = r["click"]
        expect(c["hash"] == "#c%d" % r["conn"] and c["row_selected"], name + ": a click on c%d selects it"
               % r["conn"], c)
        expect(c["drawn"] > 0 and c["highlighted"] == c["drawn"] and c["on_screen"] > 0 and
               c["others_lit"] == 0, name + ": ... highlights its events and scrolls to them", c)
        k = r["keys"]
        expect(k["first"] == 0 and k["second"] == 1 and k["back"] == 0 and k["details"],
               name + ": n, n, p step through its events in order", k)
    h = r["header"]
    expect(abs(h["bottom"] - h["scroll_top"]) <= 2 and h["height"] > 30 and h["names"],
           name + ": the column header is in sight after scrolling", h)
    expect(h["gut_left"] == 0 and h["times"] > 0, name + ": so is the time column", h)
    if multi_lane:
        expect(h["scrolled_left"] > 0, name + ": the diagram scrolls sideways", h)
    expect(not h["panel_overlaps"], name + ": the side panel covers no column", h)
    fr = r["fragment"]
    expect(fr["drawn"] and fr["current"] and fr["on_screen"] and fr["details"],
           name + ": a link to #e%d opens on that event" % fr["seq"], fr)
    expect(r["last_drawn"], name + ": a jump to the end draws the last event")


def main():
    if not os.path.exists(CHROMIUM):
        print("skip: %s not installed (Debian package chromium)" % CHROMIUM)
        return 77
    if not os.path.isdir(os.path.join(BROWSER, "node_modules", "playwright-core")) or \
            not shutil.which("node"):
        print("skip: playwright-core not installed (npm ci --prefix tests/view/browser; "
              "Debian package nodejs)")
        return 77
    tmp = tempfile.mkdtemp(prefix="socktrace-explorer-")
    try:
        # One client refused by an injected fault, another served.
        page = os.path.join(tmp, "faults.html")
        render(["--gap", "5ms", os.path.join(HERE, "fixtures", "faults")], page)
        r = drive(page, os.path.join(tmp, "faults.png"), 2)
        check_common("faults", r, False)
        expect(r["gaps"] == ["--- 51.3ms ---", "--- 6.06ms ---"],
               "faults: the pauses (the server waits, then between the clients) are marked "
               "with their lengths", r["gaps"])
        # 57 ms of pauses at 10 px/ms, and no gap rows.
        expect(r["prop"]["proportional"] >= r["prop"]["compact"] + 400 and r["prop"]["rows"] == 25,
               "faults: the proportional axis spreads the rows out by the time between them",
               r["prop"])
        colours = png_colours(os.path.join(tmp, "faults.png"))
        expect(near(colours, "#1f77b4") > 20 and near(colours, "#2ca02c") > 20,
               "faults: the screenshot shows c1 and c2 in their colours")
        expect(near(colours, "#aa00aa", 30) > 20, "faults: ... the injected fault's box")
        expect(near(colours, "#cc2222", 30) > 20, "faults: ... and the refusal's red")

        # Six curls at once against a Python server: lanes and interpreters.
        page = os.path.join(tmp, "curls.html")
        render([os.path.join(HERE, "fixtures", "curls")], page)
        r = drive(page, os.path.join(tmp, "curls.png"))
        check_common("curls", r, True)
        expect(r["result_cut"]["shortened"] > 0, "curls: some labels on screen are shortened")
        expect(r["header"]["names"][0] == "http.server",
               "curls: python3 -m http.server is named by its module", r["header"]["names"])

        # A long run, drawn whole.
        big = os.path.join(tmp, "big")
        gen = subprocess.run([sys.executable, os.path.join(HERE, "gen_big_trace.py"), big,
                              str(BIG_EVENTS), "2000"], check=True, capture_output=True)
        events = int(gen.stdout.split()[0])
        page = os.path.join(tmp, "big.html")
        render(["-n", "0", big], page)
        size = os.path.getsize(page)
        r = drive(page, os.path.join(tmp, "big.png"), 77)
        check_common("big", r, False)
        expect(r["events"] == events, "big: all %d events are in the page" % events, r["events"])
        print("big: %d events, page %.1f MiB (%.0f bytes per event), opened in %.0f ms, "
              "filter %.0f ms, jump to the end %.0f ms"
              % (events, size / 1048576, size / max(1, events), r["load_ms"], r["filter_ms"],
                 r["scroll_ms"]))
        expect(r["load_ms"] < OPEN_BOUND_MS, "big: the page opens within %d ms (best of three: %.0f)"
               % (OPEN_BOUND_MS, r["load_ms"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
