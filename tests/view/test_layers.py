#!/usr/bin/env python3
"""The viewer's layers (viewer/meson.build): each file includes the tool's
headers by their folder ("model/pairing.h"), and only from its own layer
or one below it:

    util < read < model < render, stats < verdict < cmd

(render and stats are side by side: neither includes the other). main.c
is above them all. Fails naming FILE:LINE and the include that breaks it.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VIEWER = os.path.join(HERE, "..", "..", "viewer")
RANK = {"util": 0, "read": 1, "model": 2, "render": 3, "stats": 3, "verdict": 4, "cmd": 5}


def main():
    bad = []
    headers = {}
    for layer in RANK:
        for f in os.listdir(os.path.join(VIEWER, layer)):
            if f.endswith(".h"):
                headers[f] = layer
    for root, _, files in os.walk(VIEWER):
        layer = os.path.relpath(root, VIEWER)
        rank = RANK.get(layer, 99)  # main.c: anything
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            for n, line in enumerate(open(path), 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                inc = m.group(1)
                where = "viewer/%s:%d" % (os.path.relpath(path, VIEWER), n)
                if "/" not in inc:
                    if inc in headers:
                        bad.append("%s: include \"%s/%s\", by its folder" % (where, headers[inc], inc))
                    continue  # the core's headers (preload/core)
                folder = inc.split("/", 1)[0]
                if folder not in RANK:
                    bad.append("%s: \"%s\" is in no layer" % (where, inc))
                elif folder != layer and RANK[folder] >= rank:
                    bad.append("%s: %s includes \"%s\", of a layer not below it" % (where, layer, inc))
    for b in bad:
        print(b)
    print("%d include(s) break the layers" % len(bad) if bad else "the layers hold")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
