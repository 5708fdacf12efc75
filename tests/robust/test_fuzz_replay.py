"""The fuzz targets (fuzz/fuzz_rules.c, fuzz/fuzz_trace.c) replayed over
their seed corpus and over every input a fuzzer ever found a problem with
(fuzz/regressions/NAME/: each one a regression test), by the driver that
stands in for libFuzzer, so that every build runs them, whatever the
compiler. Under valgrind's memcheck when it is installed (Debian package
valgrind): an invalid read or write, or a definite leak, fails the test
as ASan would in the fuzzing build.

Fuzzing itself: tests/robust/run-fuzz.sh DIR SECONDS (clang)."""

import os
import shutil
import subprocess

import rtest
from rtest import check, check_eq

SRC = os.path.dirname(os.path.abspath(__file__))


def inputs(name):
    dirs = []
    for sub in ("corpus", "regressions"):
        d = os.path.join(SRC, "fuzz", sub, name)
        if os.path.isdir(d) and [f for f in os.listdir(d) if not f.startswith(".")]:
            dirs.append(d)
    return dirs


def replay(sb, name, env_var):
    binary = os.environ.get(env_var, "")
    check(binary and os.access(binary, os.X_OK), "%s is not set or not built: %r"
          % (env_var, binary))
    dirs = inputs(name)
    check(dirs, "no seed corpus for %s" % name)
    count = sum(len([f for f in os.listdir(d) if not f.startswith(".")]) for d in dirs)
    argv = [binary] + dirs
    valgrind = shutil.which("valgrind")
    if valgrind:
        argv = [valgrind, "-q", "--error-exitcode=99", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--track-origins=yes"] + argv
    else:
        print("      valgrind is not installed (Debian package valgrind): replaying "
              "without it")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=100, cwd=sb.dir)
    ran = [line for line in r.stdout.splitlines() if line.startswith("ok ")]
    check(r.returncode == 0, "fuzz_%s replay: status %d (99: valgrind found an error); "
          "the input after the last 'ok' is the culprit\n  last ok: %s\n  stderr: %s"
          % (name, r.returncode, ran[-1:] or "(none)", r.stderr[-3000:]))
    check_eq(len(ran), count, "inputs replayed for fuzz_%s" % name)
    print("      fuzz_%s: %d inputs replayed%s" % (name, count, " under valgrind" if valgrind
                                                    else ""))


def test_rules_corpus_and_regressions(sb):
    replay(sb, "rules", "SOCKTRACE_FUZZ_RULES_REPLAY")


def test_trace_corpus_and_regressions(sb):
    replay(sb, "trace", "SOCKTRACE_FUZZ_TRACE_REPLAY")


if __name__ == "__main__":
    rtest.main()
