"""ThreadSanitizer reports of one run, for tests/robust/run-tsan.sh:
symbolized here, after the run, and held against the suppression file.

    python3 tsan_filter.py STDERR_FILE SUPPRESSIONS MODULE_PATH...

Why here and not by TSan: TSan symbolizes a report while the program
runs, with libbacktrace, which calls close() and open() of the C library,
and those are the shim's hooks: TSan then sees the shim's fd table again
inside its own report, starts a second report and deadlocks on its own
lock (gcc 12's libtsan). So run-tsan.sh runs with TSAN_OPTIONS=symbolize=0
and this script names the frames (MODULE+0xOFFSET) with addr2line.

MODULE_PATH: the files the frames may name (the program, the shim); other
libraries are found with `ldconfig -p`.

Suppressions, one a line: KIND:FUNCTION or KIND:FILE:FUNCTION, where KIND
is race, deadlock (lock-order-inversion), signal, mutex, thread or any;
FUNCTION a function name (fnmatch glob) and FILE a source file's base
name. A report is suppressed when a frame of any of its stacks (inlined
frames included) matches. '#' starts a comment; every entry must say why.

Prints each report that is not suppressed, symbolized, and a summary line;
exit status 0 when none is left, 1 otherwise, 2 on bad input.
"""

import fnmatch
import os
import re
import subprocess
import sys

FRAME = re.compile(r"^(\s*#\d+ )(.*?)\((.+)\+(0x[0-9a-f]+)\)\s*$")
KINDS = [("data race", "race"), ("lock-order-inversion", "deadlock"),
         ("signal", "signal"), ("mutex", "mutex"), ("thread leak", "thread")]


def split_reports(text):
    """Each report: its lines, from "WARNING: ThreadSanitizer" to the line
    of = signs that ends it."""
    reports, cur = [], None
    for line in text.splitlines():
        if "WARNING: ThreadSanitizer:" in line:
            cur = [line]
            reports.append(cur)
        elif cur is not None:
            if line.startswith("=================="):
                cur = None
            else:
                cur.append(line)
    return reports


def kind_of(report):
    head = report[0].split("WARNING: ThreadSanitizer:", 1)[1]
    for words, kind in KINDS:
        if words in head:
            return kind
    return "other"


def load_suppressions(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(":")
            if len(parts) not in (2, 3) or not all(parts):
                sys.exit("%s:%d: expected KIND:FUNCTION or KIND:FILE:FUNCTION, got %r"
                         % (path, n, line))
            kind, func = parts[0], parts[-1]
            src = parts[1] if len(parts) == 3 else None
            if kind not in [k for _, k in KINDS] + ["any"]:
                sys.exit("%s:%d: unknown kind %r" % (path, n, kind))
            rules.append((kind, src, func, "%s:%d" % (path, n), line))
    return rules


class Symbolizer:
    def __init__(self, paths):
        self.paths = {os.path.basename(p): p for p in paths}
        self.ldconfig = None
        self.cache = {}

    def path_of(self, module):
        if module.startswith("/"):
            return module
        if module in self.paths:
            return self.paths[module]
        if self.ldconfig is None:
            self.ldconfig = {}
            try:
                out = subprocess.run(["ldconfig", "-p"], capture_output=True,
                                     text=True).stdout
            except OSError:
                out = ""
            for m in re.finditer(r"^\s*(\S+) \(.*x86-64.*\) => (\S+)$", out, re.M):
                self.ldconfig.setdefault(m.group(1), m.group(2))
        return self.ldconfig.get(module)

    def prefetch(self, frames):
        """frames: (module, offset) pairs; one addr2line per module."""
        by_module = {}
        for module, off in frames:
            if (module, off) not in self.cache:
                by_module.setdefault(module, set()).add(off)
        for module, offs in by_module.items():
            path = self.path_of(module)
            offs = sorted(offs)
            for off in offs:
                self.cache[(module, off)] = []
            if not path or not os.path.exists(path):
                continue
            # A frame is a return address (but the first, close enough):
            # the call instruction is the byte before.
            addrs = ["0x%x" % max(int(o, 16) - 1, 0) for o in offs]
            try:
                out = subprocess.run(["addr2line", "-a", "-f", "-i", "-C", "-e", path] + addrs,
                                     capture_output=True, text=True, timeout=120).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            chunks = re.split(r"^0x[0-9a-f]+\n", out, flags=re.M)[1:]
            for off, chunk in zip(offs, chunks):
                lines = chunk.splitlines()
                funcs = []
                for i in range(0, len(lines) - 1, 2):
                    func, where = lines[i], lines[i + 1]
                    if func != "??":
                        funcs.append((func, os.path.basename(where.split(":")[0]),
                                      where.replace(os.getcwd() + "/", "")))
                self.cache[(module, off)] = funcs

    def frames(self, module, off):
        return self.cache.get((module, off), [])


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: tsan_filter.py STDERR_FILE SUPPRESSIONS [MODULE_PATH...]")
    with open(sys.argv[1], errors="replace") as f:
        reports = split_reports(f.read())
    rules = load_suppressions(sys.argv[2])
    sym = Symbolizer(sys.argv[3:])
    sym.prefetch([(m.group(3), m.group(4)) for r in reports for line in r
                  for m in [FRAME.match(line)] if m])
    left, suppressed = 0, {}
    for report in reports:
        kind = kind_of(report)
        funcs = [fr for line in report for m in [FRAME.match(line)] if m
                 for fr in sym.frames(m.group(3), m.group(4))]
        hit = None
        for rkind, src, pat, where, text in rules:
            if rkind not in ("any", kind):
                continue
            if any(fnmatch.fnmatchcase(func, pat) and (src is None or src == file)
                   for func, file, _ in funcs):
                hit = (where, text)
                break
        if hit:
            suppressed[hit] = suppressed.get(hit, 0) + 1
            continue
        left += 1
        for line in report:
            m = FRAME.match(line)
            names = sym.frames(m.group(3), m.group(4)) if m else []
            if m and names:
                shown = " / ".join("%s %s" % (func, where) for func, _, where in names)
                print("%s%s (%s+%s)" % (m.group(1), shown, m.group(3), m.group(4)))
            else:
                print(line)
        print()
    for (where, text), n in sorted(suppressed.items()):
        print("suppressed %d report%s by %s (%s)" % (n, "" if n == 1 else "s", text, where))
    print("%d ThreadSanitizer report%s, %d suppressed, %d left"
          % (len(reports), "" if len(reports) == 1 else "s", len(reports) - left, left))
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
