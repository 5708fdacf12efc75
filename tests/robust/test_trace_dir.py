"""Trace directories that are not what they should be: not writable, not
creatable, full, or with symlinks planted by another user. In each case
the program runs exactly as without the shim, the shim says once what is
wrong, and it never writes through a link into someone else's file or
directory. Files are created mode 0600 (less what the umask takes), the
directory 0700.

Some cases need root (to run the program as another user, or to mount a
small tmpfs in a private mount namespace with unshare from util-linux):
they skip without it."""

import json
import os
import re
import resource
import shutil
import subprocess

import rtest
import sttest
from rtest import check, check_eq, rprog, shim_lines

NOBODY = 65534


def need_root():
    if os.geteuid() != 0:
        rtest.skip("needs root (to act as another user or mount a tmpfs)")


def probe(sb, out, env=None, preexec_fn=None, argv_extra=(), shim=None, stdin=None):
    e = dict(env or {})
    if shim:
        e["LD_PRELOAD"] = shim
    p = sb.spawn([rprog("envprobe")] + list(argv_extra), out=out, env=e,
                 preexec_fn=preexec_fn, stdin=stdin)
    return p


def finish_probe(sb, p):
    res = sb.finish(p, check_rc=False)
    check_eq(res.returncode, 0, "envprobe's status\n" + res.explain())
    check(res.out.endswith("ok\n"), "the program ran to its end: %r" % res.out)
    others = [line for line in res.err.split("\n")[:-1] if not line.startswith("socktrace[")]
    check_eq(others, [], "stderr lines that are not the shim's")
    return res, shim_lines(res.err)


def as_nobody_setup(sb):
    """A copy of envprobe and of the shim that user nobody can read, in a
    directory it can enter."""
    need_root()
    pub = os.path.join(sb.dir, "pub")
    os.mkdir(pub)
    os.chmod(sb.dir, 0o755)
    os.chmod(pub, 0o755)
    prog = shutil.copy(rprog("envprobe"), os.path.join(pub, "envprobe"))
    shim = shutil.copy(sttest.SHIM, os.path.join(pub, "libsocktrace.so"))
    os.chmod(prog, 0o755)
    os.chmod(shim, 0o755)
    return prog, shim


def become_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def run_as_nobody(sb, prog, shim, out):
    env = sb.env(out=out)
    env["LD_PRELOAD"] = shim
    r = subprocess.run([prog], env=env, cwd="/", capture_output=True, timeout=20,
                       preexec_fn=become_nobody)
    return r.returncode, r.stdout.decode(), r.stderr.decode("utf-8", "replace")


def test_directory_not_writable(sb):
    """Run as user nobody, the trace directory root's and mode 0755: the
    file cannot be created. One message naming it; the program is
    unaffected; no file. The same program and shim, as nobody, in a
    directory nobody may write, is traced (so the shim was loaded)."""
    prog, shim = as_nobody_setup(sb)
    ok_dir = os.path.join(sb.dir, "pub", "nobodys")
    os.mkdir(ok_dir, 0o700)
    os.chown(ok_dir, NOBODY, NOBODY)
    rc, out, err = run_as_nobody(sb, prog, shim, ok_dir)
    check_eq((rc, out.splitlines()[-1:], err), (0, ["ok"], ""), "envprobe as nobody, traced")
    check_eq(len([n for n in os.listdir(ok_dir) if sttest.is_trace_name(n)]), 1,
             "the control run as nobody was traced")

    locked = os.path.join(sb.dir, "pub", "roots")
    os.mkdir(locked, 0o755)
    rc, out, err = run_as_nobody(sb, prog, shim, locked)
    check_eq(rc, 0, "envprobe's status as nobody with an unwritable trace directory: %s" % err)
    check_eq(out.splitlines()[-1:], ["ok"], "the program ran to its end")
    lines = shim_lines(err)
    check_eq(len(lines), 1, "messages from the shim: %r" % err)
    check(locked in lines[0] and "Permission denied" in lines[0],
          "the message names the directory and the reason: %r" % lines[0])
    check_eq(os.listdir(locked), [], "files in the unwritable directory")


def test_directory_cannot_be_created(sb):
    """SOCKTRACE_OUT below a regular file: the directory cannot exist."""
    blocker = os.path.join(sb.dir, "a-file")
    with open(blocker, "w") as f:
        f.write("not a directory\n")
    res, lines = finish_probe(sb, probe(sb, os.path.join(blocker, "trace")))
    check_eq(len(lines), 1, "messages from the shim: %r" % lines)
    check(blocker in lines[0] and "Not a directory" in lines[0],
          "the message names the path and the reason: %r" % lines[0])


def private_tmpfs_run(sb, size, argv, out_name="trace", extra_env=None):
    """Runs argv traced into a tmpfs of `size` mounted in a private mount
    namespace (unshare -m), then copies the trace out. Returns (status,
    stdout, stderr, directory with the copied trace)."""
    need_root()
    if not shutil.which("unshare"):
        rtest.skip("unshare is not installed (Debian package util-linux)")
    mnt = os.path.join(sb.dir, "mnt")
    copy = os.path.join(sb.dir, "copied")
    os.mkdir(mnt)
    os.mkdir(copy)
    env = sb.env(traced=False)
    env.update(extra_env or {})
    env["ST_SHIM"] = sttest.SHIM
    env["ST_OUT"] = os.path.join(mnt, out_name)
    script = ('mount -t tmpfs -o size=%s tmpfs "$1" || exit 99; shift; '
              'env LD_PRELOAD="$ST_SHIM" SOCKTRACE_OUT="$ST_OUT" "$@"; rc=$?; '
              'cp -a "$ST_OUT"/. "%s"/ 2>/dev/null; df -k "%s" >&2; exit $rc'
              % (size, copy, mnt))
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                        mnt] + [str(a) for a in argv],
                       env=env, capture_output=True, timeout=60)
    if r.returncode == 99 or b"unshare failed" in r.stderr:
        rtest.skip("cannot mount a tmpfs in a private namespace here: %s" % r.stderr[-300:])
    return r.returncode, r.stdout.decode(), r.stderr.decode("utf-8", "replace"), copy


def stopped_trace(err, out, why, what):
    """The path of the one trace file in out, from a run whose shim said
    once on stderr (err) that tracing stopped, naming why."""
    lines = shim_lines(err)
    check(len(lines) == 1 and why in lines[0], "one message from the shim (%s): %r" % (what, lines))
    files = [n for n in os.listdir(out) if sttest.is_trace_name(n)]
    check_eq(len(files), 1, "trace files (%s)" % what)
    return os.path.join(out, files[0])


def test_disk_full_during_run(sb):
    """A 192 KiB tmpfs fills up while a program makes 8000 calls (about
    1.3 MB of records): the program makes every call and ends normally,
    the shim says once that tracing stopped and why, and the file holds
    the first calls in order, each record whole, then an end record that
    counts the records it could not write (docs/trace-format.md: end
    `dropped`, "for example on a full disk")."""
    calls = 8000
    rc, out, err, copy = private_tmpfs_run(sb, "192k", [rprog("hammer"), 1, calls])
    check_eq(rc, 0, "hammer's status on a full trace disk\n" + err)
    check("thread 0 tid" in out and "calls %d" % calls in out and out.endswith("done\n"),
          "the program made every call: %r" % out)
    st = rtest.StreamStats(stopped_trace(err, copy, "No space left on device", "full disk"))
    check(st.header is not None and not st.bad, "the file parses: %s" % st.bad[:2])
    data = st.by_fn["send"] + st.by_fn["recv"]
    check(0 < data < calls, "some but not all data calls recorded: %d" % data)
    check_eq(st.ts_disorder, {}, "records out of order")
    problems = []
    if st.cut:
        problems.append("the file ends with an incomplete record %r, as a killed process's "
                        "does" % st.cut[-1][1][:60])
    if st.nul_bytes:
        problems.append("%d NUL bytes are left in the file" % st.nul_bytes)
    if st.end is None:
        problems.append("there is no end record, so the %d records that could not be written "
                        "are counted nowhere" % (calls + 3 - data))
    elif st.end.get("dropped", 0) < calls - data:
        problems.append("the end record says dropped %s, but %d calls are missing"
                        % (st.end.get("dropped"), calls - data))
    check(not problems, "after the disk filled up: " + "; ".join(problems))


def fsize_limit(nbytes):
    """preexec_fn: `ulimit -f` of nbytes for the program."""
    def set_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return set_limit


def test_file_size_limit(sb):
    """`ulimit -f`: a write, fallocate or ftruncate past RLIMIT_FSIZE gets
    SIGXFSZ, which kills the program. Under limits of 1 KiB (less than the
    writer's first segment), 32 KiB and 1 MiB, a program making 8000
    calls ends normally, the shim says once that tracing stopped at the
    limit, and the file stays within it: a header, the first calls, an
    end record counting the rest. With tracing off, the control file
    (304 KiB) is not made either, and nothing is said. (Binary records are
    smaller: more calls, to pass 1 MiB.)"""
    calls = 8000 if sttest.FORMAT == "jsonl" else 60000
    for limit in (1 << 10, 32 << 10, 1 << 20):
        out = os.path.join(sb.dir, "trace-%d" % limit)
        res = sb.run([rprog("hammer"), 1, calls], out=out, preexec_fn=fsize_limit(limit),
                     check_rc=False)
        check_eq(res.returncode, 0, "hammer's status under ulimit -f %d\n%s"
                 % (limit, res.explain()))
        path = stopped_trace(res.err, out, "file size limit", "ulimit -f %d" % limit)
        check(os.path.getsize(path) <= limit,
              "the file (%d bytes) within the limit %d" % (os.path.getsize(path), limit))
        st = rtest.StreamStats(path)
        check(st.header is not None and not st.bad and not st.nul_bytes,
              "the file parses under limit %d: %s" % (limit, st.bad[:2]))
        data = st.by_fn["send"] + st.by_fn["recv"]
        check(st.end is not None and st.end.get("dropped", 0) >= calls - data > 0,
              "under limit %d: %d data calls recorded, end record %r" % (limit, data, st.end))
    # No room for the header with its end record: no trace, only the
    # message, and an empty file (which readers skip and report).
    out = os.path.join(sb.dir, "trace-300")
    res = sb.run([rprog("hammer"), 1, 100], out=out, preexec_fn=fsize_limit(300),
                 check_rc=False)
    check_eq(res.returncode, 0, "hammer's status under ulimit -f 300\n" + res.explain())
    lines = shim_lines(res.err)
    check(len(lines) == 1 and "file size limit" in lines[0], "one message: %r" % lines)
    check_eq([os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)], [0],
             "sizes of the trace files under a 300-byte limit")
    res = sb.run([rprog("hammer"), 1, 100], env={"SOCKTRACE_OUT": "off"},
                 preexec_fn=fsize_limit(1 << 10), check_rc=False)
    check_eq(res.returncode, 0, "hammer's status, tracing off, ulimit -f 1024\n" + res.explain())
    check_eq(shim_lines(res.err), [], "messages from the shim with tracing off")
    # A SOCKTRACE_LOG file already at the limit: the message is lost, not
    # the program.
    log = os.path.join(sb.dir, "shim.log")
    with open(log, "w") as f:
        f.write("x" * (40 << 10))
    res = sb.run([rprog("hammer"), 1, calls], out=os.path.join(sb.dir, "trace-log"),
                 env={"SOCKTRACE_LOG": log}, preexec_fn=fsize_limit(32 << 10), check_rc=False)
    check_eq(res.returncode, 0, "hammer's status, its log file past the limit\n" + res.explain())
    check_eq(os.path.getsize(log), 40 << 10, "the log file, already past the limit")


def test_dropped_record_defines_nothing(sb):
    """In a binary trace a socket's endpoints (and strings: stack frames,
    rule texts) are defined by the first record that carries them and
    referred to by id after. A record the writer could not write defines
    nothing: the records after it must not refer to its definitions as if
    the file had them. Under `ulimit -f` below the first segment records
    are appended one by one, each if it fits: progs/intern_drop.c brings
    the room left to just under the length of a connect, which defines
    the new socket's endpoints and is dropped, while the shorter records
    after it still fit (a reference to the lost definition, about 36
    bytes, easily). `socktrace cat` reads the file with no reference to
    anything it does not define, and the socket's first record written
    after the drop carries its endpoints itself."""
    limit = 16 << 10
    out = os.path.join(sb.dir, "trace-drop")
    res = sb.run([rprog("intern_drop")], out=out, preexec_fn=fsize_limit(limit),
                 env={"SOCKTRACE_FORMAT": "binary", "SOCKTRACE_PAYLOAD": "64"},
                 check_rc=False)
    check_eq(res.returncode, 0, "intern_drop's status under ulimit -f %d\n%s"
             % (limit, res.explain()))
    check("connect" in res.out and res.out.endswith("done\n"), "its report: %r" % res.out)
    c_fd = int(re.search(r"fds a \d+ c (\d+);", res.out).group(1))
    check("connect %d: dropped" % c_fd in res.out, "the connect was dropped: %r" % res.out)
    written = re.findall(r"^(\w+) (\d+): written", res.out, re.M)
    check(written, "a record after the dropped connect was written: %r" % res.out)
    path = stopped_trace(res.err, out, "file size limit", "ulimit -f %d" % limit)
    lines, err = sttest.tracebin.cat(path)
    said = sttest.tracebin.CatReport(err)
    check_eq(said.other, [], "what socktrace cat says of the file (references to what it "
             "does not define, records it cannot use)")
    check_eq((said.cut, said.nul_holes), ([], 0), "incomplete records, NUL holes")
    recs = [json.loads(line) for line in lines]
    calls = [r for r in recs if r.get("rec") == "call"]
    check(not [r for r in calls if r["fn"] == "connect" and r["fd"] == c_fd],
          "no connect record of fd %d (it was dropped)" % c_fd)
    after = [r for r in calls if r["fd"] == c_fd and r["fn"] != "socket"]
    check_eq(len(after), len([w for w in written if int(w[1]) == c_fd]),
             "records of fd %d after its connect, as the program saw them written" % c_fd)
    for r in after:
        check("local" in r and "peer" in r,
              "fd %d's %s after the dropped connect has its endpoints: %r" % (c_fd, r["fn"], r))
    for r in calls:
        if r["fn"] in ("send", "recv", "accept"):
            check("local" in r and "peer" in r, "a %s without endpoints: %r" % (r["fn"], r))
    end = recs[-1]
    check(end.get("rec") == "end" and end.get("dropped", 0) >= 1, "the end record: %r" % end)


def test_disk_full_with_threads(sb):
    """The same with four threads writing at once: records reserved past
    the end by any thread are lost whole, counted, and the end record
    still comes right after the last record written."""
    threads, calls = 4, 3000
    rc, out, err, copy = private_tmpfs_run(sb, "192k", [rprog("hammer"), threads, calls])
    check_eq(rc, 0, "hammer's status on a full trace disk\n" + err)
    check_eq(out.count("calls %d" % calls), threads, "threads that made every call: %r" % out)
    st = rtest.StreamStats(stopped_trace(err, copy, "No space left on device", "full disk"))
    st.check_parses()
    check_eq(st.ts_disorder, {}, "records out of order within a thread")
    data = st.by_fn["send"] + st.by_fn["recv"]
    missing = threads * calls - data
    check(0 < data and missing > 0, "some but not all data calls recorded: %d" % data)
    check(st.end.get("dropped", 0) >= missing,
          "the end record counts the lost records: dropped %s, %d data calls missing"
          % (st.end.get("dropped"), missing))


def test_disk_full_from_the_start(sb):
    """A tmpfs with no room for even the first segment: one message, the
    program runs untraced."""
    rc, out, err, copy = private_tmpfs_run(sb, "16k", [rprog("envprobe")])
    check_eq(rc, 0, "envprobe's status\n" + err)
    check(out.endswith("ok\n"), "the program ran to its end: %r" % out)
    lines = shim_lines(err)
    check_eq(len(lines), 1, "messages from the shim: %r" % lines)
    check("No space left on device" in lines[0], "the message says why: %r" % lines[0])


def test_planted_file_symlinks(sb):
    """Another user plants, at the names the program's trace file will
    take, a link to a file of theirs and a dangling link. The shim must
    neither write through the first (O_NOFOLLOW|O_EXCL) nor create the
    target of the second: it takes the next free name."""
    out = sb.out
    os.mkdir(out, 0o700)
    victim = os.path.join(sb.dir, "victims-file")
    with open(victim, "w") as f:
        f.write("precious\n")
    target = os.path.join(sb.dir, "created-through-link")
    p = probe(sb, out, argv_extra=["wait"], stdin=subprocess.PIPE)
    pid = int(sb.read_line(p, r"^pid (\d+)$").group(1))
    first = os.path.join(out, "envprobe.%d%s" % (pid, sttest.SUFFIX))
    second = os.path.join(out, "envprobe.%d-2%s" % (pid, sttest.SUFFIX))
    os.symlink(victim, first)
    os.symlink(target, second)
    if os.geteuid() == 0:
        os.chown(victim, NOBODY, NOBODY)
        os.lchown(first, NOBODY, NOBODY)
        os.lchown(second, NOBODY, NOBODY)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    res, lines = finish_probe(sb, p)
    with open(victim) as f:
        check_eq(f.read(), "precious\n", "the victim's file")
    check(not os.path.lexists(target), "a file was created through the dangling link")
    check(os.path.islink(first) and os.path.islink(second), "the planted links are untouched")
    third = os.path.join(out, "envprobe.%d-3%s" % (pid, sttest.SUFFIX))
    check(os.path.isfile(third) and not os.path.islink(third),
          "the trace went to the next free name: %s" % os.listdir(out))
    st = os.stat(third)
    check_eq((st.st_uid, st.st_mode & 0o777), (os.geteuid(), 0o600), "owner and mode of the trace")
    tf = sttest.TraceFile(third)
    tf.check_clean()
    check_eq(tf.pid, pid, "the trace's pid")


def test_planted_log_symlink(sb):
    """SOCKTRACE_LOG names a link another user planted to a file of theirs:
    the shim's messages must not be appended to that file."""
    victim = os.path.join(sb.dir, "victims-log")
    with open(victim, "w") as f:
        f.write("precious\n")
    link = os.path.join(sb.dir, "socktrace.log")
    os.symlink(victim, link)
    if os.geteuid() == 0:
        os.chown(victim, NOBODY, NOBODY)
        os.lchown(link, NOBODY, NOBODY)
    # SOCKTRACE_PAYLOAD=x makes the shim speak.
    p = probe(sb, sb.out, env={"SOCKTRACE_LOG": link, "SOCKTRACE_PAYLOAD": "x"})
    res, lines = finish_probe(sb, p)
    with open(victim) as f:
        check_eq(f.read(), "precious\n", "the file behind the planted log link")
    sb.trace().file(pid=res.pid).check_clean()


def test_planted_directory_symlink(sb):
    """In a sticky, world-writable directory (like /tmp), another user
    plants the trace directory as a link to a directory of theirs. The
    shim must not create files there (the kernel refuses such links when
    fs.protected_symlinks is 1; the shim must not depend on it): one
    message, the program runs untraced. A link of our own is followed."""
    need_root()
    shared = os.path.join(sb.dir, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    theirs = os.path.join(sb.dir, "their-dir")
    os.mkdir(theirs, 0o755)
    os.chown(theirs, NOBODY, NOBODY)
    link = os.path.join(shared, "socktrace-out")
    os.symlink(theirs, link)
    os.lchown(link, NOBODY, NOBODY)

    mine = os.path.join(sb.dir, "my-dir")
    os.mkdir(mine, 0o700)
    my_link = os.path.join(sb.dir, "my-link")
    os.symlink(mine, my_link)
    res, lines = finish_probe(sb, probe(sb, my_link))
    check_eq(lines, [], "messages for a trace directory behind our own link")
    check_eq(len([n for n in os.listdir(mine) if sttest.is_trace_name(n)]), 1,
             "traced through our own link")

    try:
        with open("/proc/sys/fs/protected_symlinks") as f:
            protected = f.read().strip()
    except OSError:
        protected = "?"
    res, lines = finish_probe(sb, probe(sb, link))
    written = os.listdir(theirs)
    check_eq(written, [], "files the shim created in another user's directory through a "
             "link that user planted (fs.protected_symlinks=%s here)" % protected)
    check_eq(len(lines), 1, "messages from the shim: %r" % lines)


def test_directory_writable_by_others(sb):
    """A trace directory of ours that others may write into (group or
    world writable, sticky or not): others could plant names in it, so it
    is refused, with one message that says how to fix it."""
    for mode in (0o777, 0o1777, 0o770):
        out = os.path.join(sb.dir, "shared-%04o" % mode)
        os.mkdir(out)
        os.chmod(out, mode)
        res, lines = finish_probe(sb, probe(sb, out))
        check_eq(len(lines), 1, "messages for a directory of mode %04o: %r" % (mode, lines))
        check(out in lines[0] and "writable by other users" in lines[0] and
              "chmod go-w" in lines[0], "the message names the directory and the fix: %r"
              % lines[0])
        check_eq(os.listdir(out), [], "files written into a directory of mode %04o" % mode)


def test_directory_of_another_user(sb):
    """An existing trace directory owned by someone else (root could write
    into it anyway) is refused: one message, no file."""
    need_root()
    theirs = os.path.join(sb.dir, "theirs")
    os.mkdir(theirs, 0o700)
    os.chown(theirs, NOBODY, NOBODY)
    res, lines = finish_probe(sb, probe(sb, theirs))
    check_eq(len(lines), 1, "messages: %r" % lines)
    check(theirs in lines[0] and "uid %d" % NOBODY in lines[0],
          "the message names the directory and its owner: %r" % lines[0])
    check_eq(os.listdir(theirs), [], "files written into another user's directory")


def test_modes_and_umask(sb):
    """The directory is made 0700 and the file 0600, less what the umask
    takes away; a umask that allows more does not widen them."""
    for umask, dmode, fmode in ((0o000, 0o700, 0o600), (0o022, 0o700, 0o600),
                                (0o077, 0o700, 0o600), (0o027, 0o700, 0o600)):
        out = os.path.join(sb.dir, "t%03o" % umask, "trace")
        os.mkdir(os.path.dirname(out))
        res, lines = finish_probe(sb, probe(sb, out, preexec_fn=lambda u=umask: os.umask(u)))
        check_eq(lines, [], "messages")
        check_eq(os.stat(out).st_mode & 0o777, dmode, "directory mode with umask %03o" % umask)
        files = [n for n in os.listdir(out) if sttest.is_trace_name(n)]
        check_eq(len(files), 1, "trace files")
        check_eq(os.stat(os.path.join(out, files[0])).st_mode & 0o777, fmode,
                 "file mode with umask %03o" % umask)


if __name__ == "__main__":
    rtest.main()
