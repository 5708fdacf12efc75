"""The shell examples of README.md and docs/*.md, run as written against an
installed copy, their output compared with what the page shows.

Marking an example (docs/design.md, "Runnable examples", says the same for
writers). An HTML comment on the line right before a ```sh fence makes the
block runnable; GitHub shows neither the comment nor anything of it:

    <!-- runnable -->
    ```sh
    socktrace check /usr/local/share/socktrace/scenarios/retry.scn
    ```
    <!-- output -->
    ```text
    /usr/local/share/socktrace/scenarios/retry.scn:16: connect ...
    ...
    ```

  <!-- runnable [name=NAME] [status=N] [timeout=S] -->
        the next fence (```sh, ```bash or ```shell) is run by
        `bash -euo pipefail` in a fresh, empty temporary directory; it
        must end with status N (default 0) within S seconds (default 60).
        Everything it started is killed when it ends.
  <!-- output -->
        the next fence is the standard output and error (merged, as on a
        terminal) of the nearest runnable block above it in the same file;
  <!-- output of NAME -->
        the same for the block named NAME, wherever it is in the file (the
        README's first diagram is the output of a recipe further down).
  <!-- output unordered -->, <!-- output of NAME unordered -->
        the same lines in any order: for what two processes print side by
        side, or a diagram whose rows of two processes swap from run to
        run as their calls race.
  <!-- runnable later: WHY -->
        not run (it needs a change not made yet); listed in the test's
        output so that it is not forgotten.

An expected output matches when, line by line, it equals what the block
printed once both are normalised (below). A line that is only `...`
stands for any number of lines, none included (unordered: the page's
lines are among those printed). Blank lines at either end do not count.

What varies from run to run and is normalised away, in both texts:
  - durations (`12.4us`, `213.4ms`, `1.5 s`, `0.007080s`) -> DUR, and any
    other decimal number (the time column, `0.051210`) -> NUM;
  - numbers of 4 digits or more (pids, ports, byte counts of pages whose
    headers hold the date, inode numbers) -> N, and every number after
    `pid`, `tid`, `ppid`, `port` or `.` in a trace file name -> N;
  - dates and times (`2026-12-07`, `20:32:04`, HTTP dates),
    and trace directory names `run-YYYYmmdd-HHMMSS-PID`;
  - runs of spaces and of the horizontal lines of the diagram
    (`─`, `═`, `╌`), which widen and narrow with the numbers in them,
    count as one, a lane's `│` as a space, and spaces next to an arrow's
    ends (`├ ┤ ◀ ▶`) not at all; trailing spaces do not count;
  - the staging directory in front of installed paths, and the block's
    own directory, which prints as /tmp/demo (record a page's outputs
    there: mkdir /tmp/demo && cd /tmp/demo).
Counts under 1000 (calls, connections, checks, exit statuses) are kept:
an example whose counts vary from run to run must say `...` there.

How a block runs, as a user of an installed copy would run it:
  - the build is installed once into a DESTDIR (`meson install --destdir
    TMP --no-rebuild`, as tests/install/test_install.py does);
  - PATH is the staged bindir, then /usr/bin:/bin (so `socktrace` is the
    installed tool, `python3` the system's); LD_LIBRARY_PATH the staged
    libdir, so the bare `LD_PRELOAD=libsocktrace.so` resolves as it does
    after `ldconfig`; MANPATH the staged mandir; no SOCKTRACE_* variable
    and no LD_PRELOAD from the caller; LANG=C.UTF-8, no COLUMNS; an
    XDG_RUNTIME_DIR of its own (so `socktrace ctl` sees only the block's
    processes);
  - paths under /usr/local/ in a block (the default prefix: the installed
    scenarios, /usr/local/share/socktrace/scenarios/) are rewritten to the
    staged copy of the configured prefix;
  - the port 8000 (the examples' `python3 -m http.server 8000`) is
    rewritten to a port free at that moment, also of 4 digits (a request
    names it: its length is in the outputs), so that runs side by side do
    not collide; the samples/ of the source tree are not reachable: an
    example uses what is installed, and programs of the system;
  - a block that names curl, jq or python3 is skipped, saying which Debian
    package is missing, when that program is not installed.

Exit status: 0 when every runnable block passed (or some skipped), 1 when
one failed or a marker is malformed, 77 when every block skipped.

Environment (tests/docs/meson.build): SOCKTRACE_BUILD_ROOT,
SOCKTRACE_SOURCE_ROOT, SOCKTRACE_PREFIX, SOCKTRACE_BINDIR,
SOCKTRACE_LIBDIR, SOCKTRACE_MANDIR. `test_examples.py [FILE[:LINE]...]`
runs only those files' blocks (or the block whose fence is on LINE);
--show prints what each block printed, as a page shows it; --record runs
each in /tmp/demo (emptied first) with the port as written, to make the
outputs a page shows;
SOCKTRACE_KEEP=1 keeps each block's directory.
"""

import collections
import difflib
import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sttest  # noqa: E402  (kill_descendants, the subreaper)

BUILD = os.environ.get("SOCKTRACE_BUILD_ROOT", "")
SOURCE = os.environ.get("SOCKTRACE_SOURCE_ROOT",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC_PREFIX = "/usr/local/"
DOC_PORT = "8000"
# The directory the pages' outputs were recorded in; a block's own prints so.
DEMO_DIR = "/tmp/demo"
# The programs of the system an example may use, and their Debian package.
PROGRAMS = {"curl": "curl", "jq": "jq", "python3": "python3"}
SHELLS = ("sh", "bash", "shell")

MARK_RUN = re.compile(r"^<!--\s*runnable((?:\s+[a-z]+=\S+)*)\s*-->$")
MARK_LATER = re.compile(r"^<!--\s*runnable later:\s*(.*?)\s*-->$")
MARK_OUT = re.compile(r"^<!--\s*output(?:\s+of\s+([\w-]+))?(\s+unordered)?\s*-->$")
MARK_ANY = re.compile(r"^<!--\s*(run|out)")  # typos too: an unknown marker fails
# A fence indented by 4 or more is text of an indented code block (as the
# example in docs/design.md), not a fence; so is a marker there.
FENCE = re.compile(r"^( {0,3})(```+|~~~+)\s*([^`\s]*)(.*)$")


class Block:
    def __init__(self, path, line, info, text, mark):
        self.path, self.line, self.info, self.text, self.mark = path, line, info, text, mark
        self.name = None
        self.status = 0
        self.timeout = 60
        self.later = None
        self.runnable = False
        self.output = []  # the blocks of its expected output
        self.unordered = False  # (an output block) its lines in any order

    def where(self):
        return "%s:%d" % (os.path.relpath(self.path, SOURCE), self.line)


def parse(path):
    """The fenced blocks of a Markdown file, with what the line before each
    marks. Returns (blocks, errors)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, errors = [], []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            stripped = lines[i].strip()
            if MARK_ANY.match(stripped) and not lines[i].startswith("    "):
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                if not FENCE.match(nxt):
                    errors.append("%s:%d: %s is not right before a fence"
                                  % (os.path.relpath(path, SOURCE), i + 1, stripped))
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3)
        mark = lines[i - 1].strip() if i > 0 and not lines[i - 1].startswith("    ") else ""
        start = i
        body = []
        i += 1
        while i < len(lines):
            close = lines[i]
            if close.startswith(indent) and close[len(indent):].rstrip() == fence[0] * len(fence) \
                    or close.strip() == fence:
                break
            body.append(close[len(indent):] if close.startswith(indent) else close.lstrip())
            i += 1
        blocks.append(Block(path, start + 1, info, "\n".join(body) + "\n",
                            mark if MARK_ANY.match(mark) else ""))
        i += 1
    return blocks, errors


def collect(paths):
    """Runnable blocks (with their expected outputs), the blocks marked
    for later, the unmarked shell blocks, and marker errors."""
    runnable, later, plain, errors = [], [], [], []
    for path in paths:
        blocks, errs = parse(path)
        errors += errs
        named, last = {}, None
        pending_outputs = []
        for b in blocks:
            m_run, m_later, m_out = MARK_RUN.match(b.mark), MARK_LATER.match(b.mark), MARK_OUT.match(b.mark)
            if b.mark and not (m_run or m_later or m_out):
                errors.append("%s: unknown marker %s" % (b.where(), b.mark))
                continue
            if m_run or m_later:
                if b.info not in SHELLS:
                    errors.append("%s: a runnable block must be ```sh, not ```%s" % (b.where(), b.info))
                    continue
            if m_run:
                b.runnable = True
                for opt in m_run.group(1).split():
                    key, _, value = opt.partition("=")
                    if key == "name":
                        b.name = value
                        if value in named:
                            errors.append("%s: a second block named %s" % (b.where(), value))
                        named[value] = b
                    elif key == "status" and value.isdigit():
                        b.status = int(value)
                    elif key == "timeout" and value.isdigit():
                        b.timeout = int(value)
                    else:
                        errors.append("%s: unknown option %s in %s" % (b.where(), opt, b.mark))
                runnable.append(b)
                last = b
            elif m_later:
                b.later = m_later.group(1)
                later.append(b)
                last = None
            elif m_out:
                b.unordered = bool(m_out.group(2))
                if m_out.group(1):
                    pending_outputs.append((m_out.group(1), b))
                elif last is None:
                    errors.append("%s: <!-- output --> with no runnable block before it" % b.where())
                else:
                    last.output.append(b)
            elif b.info in SHELLS:
                plain.append(b)
        for name, b in pending_outputs:
            if name not in named:
                errors.append("%s: output of %s: no runnable block is named so" % (b.where(), name))
            else:
                named[name].output.append(b)
    return runnable, later, plain, errors


# --- normalising -------------------------------------------------------------

_DUR = r"\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|m|h|min)\b"
NORMALISE = [
    # trace directories and files named by time and pid
    (re.compile(r"\brun-\d{8}-\d{6}-\d+"), "run-DATE-TIME-PID"),
    (re.compile(r"\b([A-Za-z0-9_-]+)\.\d+(?:-\d+)?\.(trace|jsonl|ctl)\b"), r"\1.N.\2"),
    # dates and times of day
    (re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "HTTPDATE"),
    (re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d:\d\d(?:\.\d+)?Z?)?"), "DATE"),
    (re.compile(r"\b\d\d:\d\d:\d\d\b"), "TIME"),
    # addresses keep their host, lose their port
    (re.compile(r"(?<![\w.])((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:.]+\]):\d+\b"), r"\1:N"),
    # durations, then other decimals (the time column)
    (re.compile(r"(?<![\w.])" + _DUR), "DUR"),
    (re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])"), "NUM"),
    # pids, tids, ports by their word; then any long number
    (re.compile(r"\b(pid|tid|ppid|port|pids?)([ =:]+)\d+"), r"\1\2N"),
    (re.compile(r"(?<![\w.])\d{4,}\b"), "N"),
    # the diagram's lines and the tables' padding
    (re.compile(r"─+"), "─"), (re.compile(r"═+"), "═"), (re.compile(r"╌+"), "╌"),
    (re.compile(r"│"), " "),
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r" ?([├┤◀▶]) ?"), r"\1"),
]


def normalise(text, destdir=""):
    out = []
    for line in text.split("\n"):
        if destdir:
            line = line.replace(destdir, "")
        for rx, repl in NORMALISE:
            line = rx.sub(repl, line)
        out.append(line.strip())
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


def matches_unordered(want, got):
    """The same lines in any order; with a `...`, want's lines are among
    got's."""
    w = collections.Counter(line for line in want if line != "...")
    g = collections.Counter(got)
    if "..." in want:
        return not (w - g)
    return w == g


def matches(want, got):
    """want's lines against got's, `...` standing for any lines."""
    memo = {}

    def at(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(want):
            r = j == len(got)
        elif want[i] == "...":
            r = any(at(i + 1, k) for k in range(j, len(got) + 1))
        else:
            r = j < len(got) and want[i] == got[j] and at(i + 1, j + 1)
        memo[key] = r
        return r

    sys.setrecursionlimit(max(10000, 4 * (len(want) + len(got))))
    return at(0, 0)


def self_test():
    """The normaliser and the matcher on made-up lines."""
    a = normalise("0.051210  │ [connect(5, 127.0.0.1:40123)] 93.1us ═══ c1 ══▶\n"
                  "curl.4242.trace  pid 812  run-20261207-203204-3841")
    b = normalise("0.000001  │   [connect(5, 127.0.0.1:8000)] 1.5ms ═ c1 ═══════▶  \n"
                  "curl.99999.trace  pid 4  run-20270101-000000-7")
    assert a == b, (a, b)
    assert normalise("exit status 122") == ["exit status 122"]
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a"], ["a", "b"])
    assert matches_unordered(["b", "a"], ["a", "b"])
    assert matches_unordered(["b", "..."], ["a", "b"])
    assert not matches_unordered(["b", "b"], ["a", "b"])


# --- running -----------------------------------------------------------------

def conf(name):
    value = os.environ.get("SOCKTRACE_" + name, "")
    if not value.startswith("/"):
        raise SystemExit("SOCKTRACE_%s is not set (run through meson test -C build --suite docs)" % name)
    return value


def install():
    """The build, installed into a DESTDIR (tests/install/test_install.py's
    way). Returns the DESTDIR."""
    if not BUILD or not os.path.isdir(BUILD):
        raise SystemExit("SOCKTRACE_BUILD_ROOT is not set (run through meson test)")
    d = tempfile.mkdtemp(prefix="socktrace-docs-install.")
    # --no-rebuild: meson test has built what the install needs.
    r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit("meson install --destdir failed:\n" + r.stdout[-3000:])
    return d


def free_port():
    """A port free now, of as many digits as the pages' 8000: an HTTP
    request names it, and its length is in the outputs."""
    for port in random.sample(range(8001, 10000), 500):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return str(port)
    raise SystemExit("no free port between 8001 and 9999")


def environment(destdir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SOCKTRACE_") and k not in ("LD_PRELOAD", "COLUMNS", "PAGER")}
    env.update({
        "PATH": destdir + conf("BINDIR") + ":/usr/bin:/bin",
        "LD_LIBRARY_PATH": destdir + conf("LIBDIR"),
        "MANPATH": destdir + conf("MANDIR"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    })
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    return env


def missing_program(block, env):
    for prog, package in PROGRAMS.items():
        if re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(prog), block.text) \
                and not shutil.which(prog, path=env["PATH"]):
            return "%s not installed (Debian package %s)" % (prog, package)
    return None


def run_block(block, destdir, env, keep, show=False, record=False):
    """Runs one block; returns (ok, message). record: in DEMO_DIR, with the
    port as written, to make a page's outputs."""
    text = block.text.replace(DOC_PREFIX, destdir + conf("PREFIX").rstrip("/") + "/")
    if not record:
        text = re.sub(r"(?<![\w.])%s(?![\w.])" % DOC_PORT, free_port(), text)
    work = tempfile.mkdtemp(prefix="socktrace-docs.")
    cwd = os.path.join(work, "cwd")
    if record:
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        cwd = DEMO_DIR
    os.mkdir(cwd)
    # A session of its own: socktrace ctl's control files are those of
    # this block's processes only, not of other tests running meanwhile.
    runtime = os.path.join(work, "run")
    os.mkdir(runtime, 0o700)
    env = dict(env, XDG_RUNTIME_DIR=runtime)
    script = os.path.join(work, "block.sh")
    with open(script, "w") as f:
        f.write(text)
    started = time.monotonic()
    proc = subprocess.Popen(["bash", "-euo", "pipefail", script], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=block.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    finally:
        # What it left running: its process group, then anything that left it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        sttest.kill_descendants()
    out = out.decode("utf-8", "replace")
    for d in {os.path.realpath(cwd), cwd}:
        out = out.replace(d, DEMO_DIR)
    if show:
        print("--- %s printed (status %s) ---\n%s--- end ---" % (
            block.where(), proc.returncode, out.replace(destdir, "")))
    took = time.monotonic() - started
    problems = []
    if timed_out:
        problems.append("did not end within %d s (killed)" % block.timeout)
    elif proc.returncode != block.status:
        problems.append("exit status %d, expected %d" % (proc.returncode, block.status))
    got = normalise(out, destdir)
    for ob in block.output:
        want = normalise(ob.text, destdir)
        if ob.unordered:
            ok = matches_unordered(want, got)
            a, b = sorted(want), sorted(got)
        else:
            ok = matches(want, got)
            a, b = want, got
        if not ok:
            diff = difflib.unified_diff(a, b, "%s (the page, normalised%s)"
                                        % (ob.where(), ", sorted" if ob.unordered else ""),
                                        "what it printed", lineterm="", n=2)
            problems.append("its output differs from the page's:\n" + "\n".join(diff))
    if problems or keep:
        kept = "directory kept: %s" % cwd
    else:
        kept = ""
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        return False, "%.1f s; %s\n%s\n--- the block (as run) ---\n%s--- what it printed ---\n%s" % (
            took, "\n".join(problems), kept, text, out)
    return True, "%.1f s%s" % (took, "; " + kept if kept else "")


def doc_files():
    return [os.path.join(SOURCE, "README.md")] + sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md")))


def main():
    self_test()
    only = sys.argv[1:]
    show = "--show" in only or "--record" in only
    record = "--record" in only
    only = [o for o in only if o not in ("--show", "--record")]
    paths = doc_files()
    runnable, later, plain, errors = collect(paths)
    for e in errors:
        print("FAIL  marker: %s" % e)
    if not runnable:
        print("FAIL  no runnable block in %s" % ", ".join(os.path.relpath(p, SOURCE) for p in paths))
        return 1
    if only:
        def wanted(b):
            for o in only:
                f, _, line = o.partition(":")
                if os.path.realpath(f) == os.path.realpath(b.path) or \
                        os.path.relpath(b.path, SOURCE) == f:
                    if not line or int(line) == b.line:
                        return True
            return False
        runnable = [b for b in runnable if wanted(b)]
    sttest._become_subreaper()
    destdir = install()
    keep = os.environ.get("SOCKTRACE_KEEP") == "1"
    env = environment(destdir)
    failed = skipped = passed = 0
    try:
        for b in runnable:
            why = missing_program(b, env)
            if why:
                skipped += 1
                print("SKIP  %s: %s" % (b.where(), why))
                continue
            ok, msg = run_block(b, destdir, env, keep, show, record)
            if ok:
                passed += 1
                print("ok    %s (%s%s)" % (b.where(), msg,
                                            ", output compared" if b.output else ""))
            else:
                failed += 1
                print("FAIL  %s: %s" % (b.where(), msg))
            sys.stdout.flush()
    finally:
        shutil.rmtree(destdir, ignore_errors=True)
    for b in later:
        print("later %s: %s" % (b.where(), b.later))
    print("%d runnable blocks: %d passed, %d failed, %d skipped; %d marked for later; "
          "%d shell blocks not marked" % (len(runnable), passed, failed, skipped, len(later), len(plain)))
    if failed or errors:
        return 1
    return 77 if skipped and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
