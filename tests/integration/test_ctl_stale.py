"""What `socktrace ctl` and the tidy of `socktrace run` may delete or cut,
and where the shim may make its control file.

Clean-up must never touch the file of a process that is alive: not one in
another pid namespace (its pid means nothing here, or another process),
not one that is making its file right now, not a file that socktrace did
not make. It must still remove the files of processes that really ended,
here or in a container. The control directory is checked as the trace
directory is, by the same code, at start-up and again in a fork child.

Most cases need root: another pid namespace (unshare), another user's
directory (nobody)."""

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

import sttest
from sttest import check, check_eq, prog

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_ctl import Listener, ctl, ctl_dir, listing, outcomes, start_loop, stop, wait_for  # noqa: E402

TOOL = os.environ.get("SOCKTRACE_TOOL", "")
NOBODY = 65534
# struct st_ctl_ident, at this offset in page 0 (preload/core/ctlfile.h):
# magic[16], version, file_size, pid, ppid, uid, flags.
IDENT_OFF = 64 + 128 * 16
IDENT = struct.Struct("=16sIIiiII")


def need_root():
    if os.geteuid() != 0:
        sttest.skip("needs root")


def need_unshare():
    need_root()
    if not shutil.which("unshare"):
        sttest.skip("unshare is not installed (util-linux)")


def free_pid():
    """A pid no process has here (from the top of the range: the least
    likely to be given out while the test runs)."""
    with open("/proc/sys/kernel/pid_max") as f:
        top = int(f.read())
    for pid in range(min(top, 1 << 22) - 2, 300, -1):
        if not os.path.exists("/proc/%d" % pid):
            return pid
    sttest.skip("no free pid")


def host_pid(ns_pid, ancestor):
    """The pid here of the process that is ns_pid in a namespace below
    ancestor (the unshare process)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/status" % name) as f:
                nspid = [line.split()[1:] for line in f if line.startswith("NSpid:")][0]
        except (OSError, IndexError):
            continue
        if len(nspid) > 1 and int(nspid[-1]) == ns_pid and int(name) != ancestor:
            return int(name)
    return None


def spawn_in_pid_namespace(sb, argv, ns_pid, env):
    """Starts argv under the shim as pid ns_pid of a new pid namespace
    (and a /proc of its own); only argv is under the shim."""
    e = sb.env(traced=False, extra=env)
    e["ST_SHIM"] = sttest.SHIM
    script = ('echo %d > /proc/sys/kernel/ns_last_pid || exit 99; '
              'LD_PRELOAD="$ST_SHIM" "$@" & wait' % (ns_pid - 1))
    full = ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh"]
    proc = subprocess.Popen(full + [str(a) for a in argv], env=e, cwd=sb.dir,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.early_out = b""
    proc.argv = full
    sb.procs.append(proc)
    return proc


def ctl_image(sb, lis):
    """The bytes of a real control file, from a process that then ends."""
    proc, pid = start_loop(sb, lis.port, interval_ms=50, extra={"SOCKTRACE_OUT": "off"})
    path = os.path.join(ctl_dir(sb), "%d.ctl" % pid)
    wait_for("its file", lambda: os.path.exists(path))
    with open(path, "rb") as f:
        data = f.read()
    stop(sb, proc)
    os.unlink(path)  # SIGTERM: the process could not remove it
    return data


def with_ident(data, **kw):
    fields = dict(zip(("magic", "version", "file_size", "pid", "ppid", "uid", "flags"),
                      IDENT.unpack_from(data, IDENT_OFF)))
    fields.update(kw)
    b = bytearray(data)
    IDENT.pack_into(b, IDENT_OFF, *[fields[k] for k in ("magic", "version", "file_size", "pid",
                                                      "ppid", "uid", "flags")])
    return bytes(b)


def write_file(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, data)
    os.close(fd)


def test_other_pid_namespace(sb):
    """A process in a container (another pid namespace) that shares the
    control directory: its pid does not exist here. Its file stays while
    it runs, and goes once it has ended."""
    need_unshare()
    lis = Listener()
    os.mkdir(ctl_dir(sb), 0o700)
    ns_pid = free_pid()
    proc = spawn_in_pid_namespace(sb, [prog("connect_loop"), lis.port, 20],
                                  ns_pid, {"SOCKTRACE_CTL": ctl_dir(sb), "SOCKTRACE_OUT": "off"})
    got = int(sb.read_line(proc, r"^ready (\d+)$").group(1))
    check_eq(got, ns_pid, "the pid in the namespace")
    path = os.path.join(ctl_dir(sb), "%d.ctl" % ns_pid)
    wait_for("its control file", lambda: os.path.exists(path))
    check(not os.path.exists("/proc/%d" % ns_pid), "pid %d is free here" % ns_pid)

    p = ctl(sb, "--list")
    check("removed" not in p.stderr, "--list removed a live process's file: %r" % p.stderr)
    check(os.path.exists(path), "the live process's control file is still there")
    check(str(ns_pid) not in p.stdout, "a pid of another namespace is not listed: %r" % p.stdout)
    ctl(sb, "--all", "--clear", expect_rc=None)
    check(os.path.exists(path), "the file is still there after --all")

    # Ended (killed: it cannot remove its file itself): now it goes.
    hp = host_pid(ns_pid, proc.pid)
    check(hp, "the process's pid here")
    os.kill(hp, signal.SIGKILL)
    sb.finish(proc, check_rc=False)
    check(os.path.exists(path), "a killed process leaves its file")
    p = ctl(sb, "--list")
    check("removed 1 control file" in p.stderr, "--list reports the cleaning: %r" % p.stderr)
    check(not os.path.exists(path), "the ended process's file is removed")


def test_same_pid_other_namespace(sb):
    """A process starting in a container whose pid there is the pid of a
    live process's file (here or in another container): the shim does
    not replace that file; the new process goes without one, quietly."""
    need_unshare()
    import fcntl
    lis = Listener()
    image = ctl_image(sb, lis)
    ns_pid = free_pid()
    path = os.path.join(ctl_dir(sb), "%d.ctl" % ns_pid)
    write_file(path, with_ident(image, pid=ns_pid))
    fd = os.open(path, os.O_RDWR)
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 0, 1, 0))
    ino = os.fstat(fd).st_ino
    try:
        proc = spawn_in_pid_namespace(sb, [prog("connect_loop"), lis.port, 10, 5], ns_pid,
                                      {"SOCKTRACE_CTL": ctl_dir(sb), "SOCKTRACE_OUT": "off"})
        res = sb.finish(proc)
        check_eq(outcomes(res, ns_pid), ["ok"] * 5, "the program's outcomes")
        check_eq(res.err, "", "messages")
        check(os.path.exists(path) and os.stat(path).st_ino == ino,
              "the live process's file was replaced by another namespace's process")
    finally:
        os.close(fd)


def test_file_being_made(sb):
    """A live process that has made its file but not mapped it yet (between
    the shim's open and its mmap, or a fork child making its own): the
    file is not removed. Here this test is that process: it holds the
    file open, locked as the shim does, and never maps it."""
    lis = Listener()
    image = ctl_image(sb, lis)
    path = os.path.join(ctl_dir(sb), "%d.ctl" % os.getpid())
    write_file(path, with_ident(image, pid=os.getpid(), ppid=os.getppid()))
    import fcntl
    fd = os.open(path, os.O_RDWR)
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 0, 1, 0))
    try:
        p = ctl(sb, "--list")
        check("removed" not in p.stderr, "--list removed a file being made: %r" % p.stderr)
        check(os.path.exists(path), "the file being made is still there")
        ctl(sb, str(os.getpid()), "--clear", expect_rc=None)
        check(os.path.exists(path), "still there after ctl PID")
    finally:
        os.close(fd)
    # Its maker gone (the descriptor closed, nothing maps it): removed.
    p = ctl(sb, "--list")
    check("removed 1 control file" in p.stderr, "--list reports the cleaning: %r" % p.stderr)
    check(not os.path.exists(path), "the file is removed once nobody has it")


def test_files_not_ours(sb):
    """Names of control files in the directory, of pids that no process
    has, but not control files of this socktrace: never deleted. A link
    is not followed, and what it points to stays."""
    lis = Listener()
    image = ctl_image(sb, lis)
    d = ctl_dir(sb)
    pid = free_pid()
    names = {}
    names["text"] = "%d.ctl" % pid
    write_file(os.path.join(d, names["text"]), b"someone's notes\n")
    names["empty"] = "%d.ctl" % (pid - 1)
    write_file(os.path.join(d, names["empty"]), b"")
    names["version"] = "%d.ctl" % (pid - 2)
    write_file(os.path.join(d, names["version"]), with_ident(image, version=99))
    precious = os.path.join(sb.dir, "precious")
    write_file(precious, b"precious\n")
    names["link"] = "%d.ctl" % (pid - 3)
    os.symlink(precious, os.path.join(d, names["link"]))
    for n in range(4):
        check(not os.path.exists("/proc/%d" % (pid - n)), "pid %d is free" % (pid - n))

    p = ctl(sb, "--list")
    check("removed" not in p.stderr, "--list removed files: %r" % p.stderr)
    check_eq(sorted(os.listdir(d)), sorted(names.values()), "files left in the directory")
    check("%s: not a control file of this version of socktrace; left alone" % names["version"]
          in p.stderr, "another version is reported: %r" % p.stderr)
    check(names["text"] not in p.stderr and names["empty"] not in p.stderr,
          "files that are not ours at all are not talked about: %r" % p.stderr)
    with open(precious, "rb") as f:
        check_eq(f.read(), b"precious\n", "the file behind the link")


def test_ended_files_removed(sb):
    """Clean-up stays useful: a process that exec'ed a program without the
    shim (alive, its pid its own, but no longer under the shim), and the
    file of an ended process made by a shim that did not lock it."""
    lis = Listener()
    image = ctl_image(sb, lis)
    d = ctl_dir(sb)
    env = {"SOCKTRACE_CTL": d, "SOCKTRACE_OUT": "off"}
    proc = sb.spawn(["sh", "-c", 'echo ready $$; read x; exec env -u LD_PRELOAD sleep 30'],
                    env=env, stdin=subprocess.PIPE)
    pid = int(sb.read_line(proc, r"^ready (\d+)$").group(1))
    path = os.path.join(d, "%d.ctl" % pid)
    wait_for("the shell's file", lambda: os.path.exists(path))
    proc.stdin.write(b"\n")
    proc.stdin.flush()
    wait_for("sleep without the shim",
             lambda: open("/proc/%d/comm" % pid).read().strip() == "sleep")
    old = os.path.join(d, "%d.ctl" % free_pid())
    write_file(old, with_ident(image, flags=0))
    p = ctl(sb, "--list")
    check("removed 2 control files" in p.stderr, "--list reports the cleaning: %r" % p.stderr)
    check_eq(os.listdir(d), [], "files left")
    proc.kill()
    sb.finish(proc, check_rc=False)


FORKER = """
import os, sys, time
print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    if os.fork() == 0:
        print("child", os.getpid(), flush=True)
        time.sleep(30)
        os._exit(0)
"""


def test_fork_child_checks_the_directory(sb):
    """The directory changes after start-up (made open to others, given to
    another user, replaced by another user's link): a fork child makes its
    file only where the start-up check would have."""
    need_root()
    d = ctl_dir(sb)
    os.mkdir(d, 0o700)
    proc = sb.spawn([sys.executable, "-c", FORKER], env={"SOCKTRACE_CTL": d,
                                                          "SOCKTRACE_OUT": "off"},
                    stdin=subprocess.PIPE)
    parent = int(sb.read_line(proc, r"^ready (\d+)$").group(1))
    wait_for("the parent's file", lambda: os.path.exists(os.path.join(d, "%d.ctl" % parent)))

    def fork_child():
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        return int(sb.read_line(proc, r"^child (?!%s\b)(\d+)$" % "\\b|".join(seen)).group(1))

    seen = ["0"]
    # Safe: the child has its file.
    child = fork_child()
    seen.append(str(child))
    wait_for("the child's file", lambda: os.path.exists(os.path.join(d, "%d.ctl" % child)))

    real = d + ".real"
    for what in ("mode 0777", "owned by nobody", "a link owned by nobody"):
        if what == "mode 0777":
            os.chmod(d, 0o777)
        elif what == "owned by nobody":
            os.chown(d, NOBODY, NOBODY)
        else:
            os.rename(d, real)
            os.symlink(real, d)
            os.lchown(d, NOBODY, NOBODY)
        child = fork_child()
        seen.append(str(child))
        time.sleep(0.3)
        where = real if os.path.exists(real) else d
        check("%d.ctl" % child not in os.listdir(where),
              "a fork child made its control file in a directory %s" % what)
        if what == "mode 0777":
            os.chmod(d, 0o700)
        elif what == "owned by nobody":
            os.chown(d, 0, 0)
    for pid in seen[1:]:
        os.kill(int(pid), signal.SIGKILL)
    proc.kill()
    sb.finish(proc, check_rc=False)


def test_directory_checks_match_traces(sb):
    """At start-up the control directory passes the trace directory's
    checks, and only those: each directory used as both is used for both
    or for neither, and `socktrace ctl --dir` says "not used" for the same
    ones. The default ($XDG_RUNTIME_DIR/socktrace) is made mode 0700."""
    need_root()
    lis = Listener()
    cases = []

    def make(name, mode=0o700, owner=None):
        path = os.path.join(sb.dir, name)
        os.mkdir(path)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner, owner)
        return path

    cases.append(("open to all, not sticky", make("open", 0o777), False))
    cases.append(("sticky, open to all", make("sticky", 0o1777), False))
    cases.append(("group-writable", make("group", 0o770), False))
    cases.append(("another user's", make("nobodys", 0o755, NOBODY), False))
    link = os.path.join(sb.dir, "their-link")
    os.symlink(make("target"), link)
    os.lchown(link, NOBODY, NOBODY)
    cases.append(("another user's link", link, False))
    cases.append(("readable by others", make("readable", 0o755), True))
    my_link = os.path.join(sb.dir, "my-link")
    os.symlink(make("my-target"), my_link)
    cases.append(("our own link", my_link, True))

    for what, d, safe in cases:
        proc, pid = start_loop(sb, lis.port, interval_ms=100,
                               extra={"SOCKTRACE_CTL": d, "SOCKTRACE_OUT": d})
        made = os.path.exists(os.path.join(d, "%d.ctl" % pid))
        sb.read_line(proc, r"^%d 1 " % pid)  # a call made: the trace file too
        res = stop(sb, proc)
        traced = any(sttest.is_trace_name(n) for n in os.listdir(d))
        lines = [line for line in res.err.splitlines() if line.startswith("socktrace[")]
        check_eq((made, traced), (safe, safe), "control file and trace in a directory %s "
                 "(messages: %r)" % (what, lines))
        if not safe:
            check_eq(len(lines), 2, "a message for each of the two uses: %r" % lines)
            lines.sort(key=lambda line: "cannot reach" in line)
            check(d in lines[1] and "`socktrace ctl` cannot reach this process" in lines[1],
                  "the control directory's message: %r" % lines)
            check_eq(lines[0].split(d, 1)[1].split(":")[0], lines[1].split(d, 1)[1].split(":")[0],
                     "the same reason for both: %r" % lines)
        else:
            check_eq(lines, [], "messages for a directory %s" % what)
        p = subprocess.run([TOOL, "ctl", "--list", "--dir", d], env=sb.env(traced=False),
                           capture_output=True, text=True, timeout=10)
        check_eq("not used" in p.stderr, not safe, "socktrace ctl --dir on a directory %s: %r"
                 % (what, p.stderr))

    # The default: $XDG_RUNTIME_DIR/socktrace, made private.
    xdg = make("xdg")
    proc, pid = start_loop(sb, lis.port, interval_ms=100, extra={"SOCKTRACE_CTL": "",
                                                                 "XDG_RUNTIME_DIR": xdg})
    d = os.path.join(xdg, "socktrace")
    wait_for("the default directory", lambda: os.path.exists(os.path.join(d, "%d.ctl" % pid)))
    check_eq(oct(os.stat(d).st_mode & 0o7777), oct(0o700), "mode of the default directory")
    env = sb.env(traced=False, extra={"XDG_RUNTIME_DIR": xdg})
    p = subprocess.run([TOOL, "ctl", "--list"], env=env, capture_output=True, text=True,
                       timeout=10)
    check(re.search(r"^%d  connect_loop" % pid, p.stdout, re.M), "--list finds it: %r" % p.stdout)
    res = stop(sb, proc)
    check_eq(res.err, "", "messages with the default directory")


def test_tidy_spares_live_traces(sb):
    """`socktrace run` tidies the trace directory when its command ends:
    it trims the padding a killed writer left. A writer in another pid
    namespace whose pid does not exist here is alive: its file is not cut
    (cutting a file under its writer's mapping kills it with SIGBUS)."""
    need_unshare()
    lis = Listener()
    os.makedirs(sb.out)
    ns_pid = free_pid()
    proc = spawn_in_pid_namespace(sb, [prog("connect_loop"), lis.port, 20],
                                  ns_pid, {"SOCKTRACE_OUT": sb.out, "SOCKTRACE_CTL": "off"})
    sb.read_line(proc, r"^%d 3 ok$" % ns_pid)
    name = [n for n in os.listdir(sb.out) if sttest.is_trace_name(n)][0]
    path = os.path.join(sb.out, name)
    size = os.path.getsize(path)

    def tidy():
        lib = {k: v for k, v in os.environ.items() if k == "SOCKTRACE_LIB"}
        p = subprocess.run([TOOL, "run", "-q", "-o", sb.out, "--", "true"],
                           env=sb.env(traced=False, extra=lib), capture_output=True, text=True,
                           timeout=20)
        check_eq(p.returncode, 0, "socktrace run: %s" % p.stderr)

    tidy()
    check(os.path.getsize(path) >= size, "the live writer's trace was cut from %d to %d bytes"
          % (size, os.path.getsize(path)))
    line = sb.read_line(proc, r"^%d (\d+) ok$" % ns_pid).group(1)
    sb.read_line(proc, r"^%d %d ok$" % (ns_pid, int(line) + 3))
    check(proc.poll() is None, "the writer still runs")

    # Killed, it leaves its padding: the next tidy trims it.
    os.kill(host_pid(ns_pid, proc.pid), signal.SIGKILL)
    sb.finish(proc, check_rc=False)
    with open(path, "rb") as f:
        check(f.read().endswith(b"\0"), "a killed writer leaves padding")
    tidy()
    with open(path, "rb") as f:
        check(not f.read().endswith(b"\0" * 64), "the killed writer's padding is trimmed")


if __name__ == "__main__":
    sttest.main()
