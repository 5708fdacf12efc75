"""fork and vfork while other threads are inside the shim.

tests/integration/test_threads.py forks 20 times, one child at a time,
from the main thread while 4 threads record on socketpairs. Here, what it
does not cover:

- fork_storm: 16 threads on TCP connections (endpoints kept by the shim),
  240 forks, up to 8 children alive at once, forks also taken from two of
  the busy worker threads; every child starts a thread of its own and both
  of its threads make socket calls. No child may deadlock, each has its
  own complete file, the parent's file has every call of every thread and
  nothing of the children's. Once more with call stacks recorded
  (SOCKTRACE_BACKTRACE), where a fork can land while another thread is
  inside the unwinder.
- vfork_threads: vfork + exec, posix_spawn and vfork + a failing exec from
  a program whose 8 other threads are hammering the shim: the children run
  on the parent's memory until they exec; the parent's trace must hold
  its own records only, and every child that ran its program must have
  its own file.
"""

import re

import rtest
import sttest
from rtest import StreamStats, check, check_eq, file_of_pid, headers, rprog

FORK_THREADS = 16
FORKS = 200
CHILD_CALLS = ["socketpair", "send", "recv", "close", "close"]


def thread_counts(out):
    return {int(m.group(2)): int(m.group(3))
            for m in re.finditer(r"^thread (\d+) tid (\d+) calls (\d+)$", out, re.M)}


def check_fork_storm(sb, extra_env=None, timeout_s=20):
    res = sb.run([rprog("fork_storm"), FORK_THREADS, FORKS, timeout_s],
                 env=extra_env, check_rc=False, timeout=150)
    stuck = re.findall(r"^deadlocked (\d+)$", res.out, re.M)
    failed = re.findall(r"^failed (\d+) (\d+)$", res.out, re.M)
    check(not stuck, "%d forked children deadlocked (killed after %d s; pids %s): a lock "
          "held by another thread at the fork stays held in the child\n%s"
          % (len(stuck), timeout_s, stuck[:5], res.explain()))
    check(not failed, "forked children failed: %s\n%s" % (failed[:5], res.explain()))
    check_eq(res.returncode, 0, "fork_storm's status\n" + res.explain())
    children = [int(p) for p in re.findall(r"^child (\d+)$", res.out, re.M)]
    check_eq(len(children), FORKS + 2 * (FORKS // 10), "children that succeeded")
    counts = thread_counts(res.out)
    check_eq(len(counts), FORK_THREADS, "worker threads that reported")

    # The parent's file is large: counted in one pass, not kept.
    pf = StreamStats(file_of_pid(sb.out, res.pid))
    pf.check_parses()
    check_eq(pf.end["dropped"], 0, "records dropped in the parent")
    check_eq(dict(pf.pids), {res.pid: sum(pf.by_fn.values())},
             "pids of the call records in the parent's file")
    check_eq(pf.after_end, 0, "records after the parent's end record")
    # Each worker: socket, connect (and, under the accept lock, accept),
    # then send/recv pairs: the calls counted by the program are all there.
    for tid, calls in counts.items():
        got = pf.by_tid_fn[(tid, "send")] + pf.by_tid_fn[(tid, "recv")]
        check_eq(got, calls, "send+recv records of worker tid %d" % tid)
    check_eq(pf.by_fn["accept"], FORK_THREADS, "accepts in the parent")
    check_eq(pf.ts_disorder, {}, "threads whose records go back in time")

    by_pid = {h["pid"]: path for path, h in headers(sb.out).items() if h}
    missing = [pid for pid in children if pid not in by_pid]
    check(not missing, "%d children left no trace file: %s" % (len(missing), missing[:10]))
    for pid in children:
        cf = sttest.TraceFile(by_pid[pid])
        cf.check_clean()
        check_eq(cf.ppid, res.pid, "child %d's ppid" % pid, [cf.header])
        calls = cf.calls()
        tids = sorted({e["tid"] for e in calls})
        check_eq(len(tids), 2, "child %d: threads that made calls" % pid, calls)
        for tid in tids:
            check_eq([e["fn"] for e in calls if e["tid"] == tid], CHILD_CALLS,
                     "child %d, tid %d: its calls" % (pid, tid), calls)
        check(all(e["pid"] == pid for e in calls), "child %d: records carry its pid" % pid,
              calls)
        check_eq(cf.end["reason"], "exit", "child %d's end reason" % pid, [cf.end])
        check_eq(cf.end["dropped"], 0, "child %d's dropped records" % pid, [cf.end])
    check_eq(len(by_pid), 1 + len(children), "trace files (parent and children)")


def test_fork_storm(sb):
    check_fork_storm(sb)


def test_fork_storm_with_stacks(sb):
    """The same with SOCKTRACE_BACKTRACE=4: a fork can land while another
    thread holds a lock of the unwinder."""
    probe = sb.run([rprog("envprobe")], out=sb.dir + "/probe",
                   env={"SOCKTRACE_BACKTRACE": "4"})
    tf = sb.trace(sb.dir + "/probe").file(pid=probe.pid)
    if tf.header.get("backtrace") != 4:
        rtest.skip("this shim records no call stacks (built without libunwind-dev, or "
                   "libunwind8 missing): %s" % probe.err.strip())
    check_fork_storm(sb, {"SOCKTRACE_BACKTRACE": "4"}, timeout_s=5)


def test_vfork_exec_from_threads(sb):
    spawns = 90
    res = sb.run([rprog("vfork_threads"), 8, spawns, rprog("child_sock")], timeout=60)
    spawned = [(int(p), kind) for p, kind in
               re.findall(r"^spawned (\d+) (\S+)$", res.out, re.M)]
    check_eq(len(spawned), spawns, "spawns made")
    got = re.findall(r"^got hello from (\d+)$", res.out, re.M)
    ran = [pid for pid, kind in spawned if kind != "vfork-fail"]
    check_eq(sorted(int(p) for p in got), sorted(ran),
             "the children that ran child_sock each wrote to their socket")
    counts = thread_counts(res.out)
    check_eq(len(counts), 8, "worker threads that reported")

    pf = StreamStats(file_of_pid(sb.out, res.pid))
    pf.check_parses()
    check_eq(dict(pf.pids), {res.pid: sum(pf.by_fn.values())},
             "pids of the call records in the parent's file (a vfork child's record "
             "would carry its own pid)")
    check_eq(pf.kinds["exec"], 0, "exec records in the parent's file")
    check_eq(pf.kinds["end"], 1, "end records in the parent's file")
    check_eq(pf.after_end, 0, "records after the parent's end record")
    check_eq((pf.end["reason"], pf.end["dropped"]), ("exit", 0), "the parent's end record")
    for tid, calls in counts.items():
        got = pf.by_tid_fn[(tid, "send")] + pf.by_tid_fn[(tid, "recv")]
        check_eq(got, calls, "send+recv records of worker tid %d" % tid)
    # The main thread's own calls, spawn after spawn: a socketpair, and a
    # recv that returns the child's message (or 0 after a failed exec).
    check_eq(pf.by_tid_fn[(res.pid, "socketpair")], spawns, "the main thread's socketpairs")
    check_eq(pf.by_tid_fn[(res.pid, "recv")], spawns, "the main thread's recvs")
    check_eq(pf.by_tid_fn[(res.pid, "close")], 2 * spawns, "the main thread's closes")
    check_eq(pf.by_tid_fn[(res.pid, "dup2")], 0, "dup2 records in the parent")

    by_pid = {h["pid"]: sttest.TraceFile(path) for path, h in headers(sb.out).items()
              if h and h.get("pid") != res.pid}
    for pid in ran:
        cf = by_pid.get(pid)
        check(cf is not None, "child_sock %d left no trace file" % pid)
        cf.check_clean()
        check_eq(cf.prog, "child_sock", "child %d's program" % pid, [cf.header])
        check_eq(cf.ppid, res.pid, "child %d's ppid" % pid, [cf.header])
        writes = cf.calls(fn="write")
        check(len(writes) == 1 and writes[0]["bytes"] == len("hello from %d" % pid),
              "child %d: its write on the inherited socket" % pid, cf.records)
    # The failed execs ran in children that never had a file of their own.
    failed = [pid for pid, kind in spawned if kind == "vfork-fail"]
    leftovers = [pid for pid in failed if pid in by_pid]
    check(not leftovers, "children whose exec failed left files", [by_pid[p].header
                                                                   for p in leftovers[:3]])
    check_eq(len(by_pid), len(ran), "trace files besides the parent's (each child_sock)")


if __name__ == "__main__":
    rtest.main()
