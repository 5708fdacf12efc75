"""The shim's start-up against programs that make it awkward: hooks called
from another library's constructor, before the shim's own constructor
ran; a program that overwrites its argument and environment strings (a
process title) before its first socket call. Settings and arguments
must have been copied at start-up."""

import os

import sttest
from sttest import check, check_eq, prog

ARGS = ["first-arg", "second arg with spaces"]


def check_retitled(sb, name, first_line=""):
    out = os.path.join(sb.dir, "elsewhere")
    res = sb.run([prog(name)] + ARGS, out=out, env={"SOCKTRACE_PAYLOAD": "64"})
    check_eq(res.out, first_line + "title set\ndone\n", "what the program printed")
    check_eq(sb.trace().files, [], "files in the sandbox's default trace directory")
    trace = sb.trace(out)
    trace.check_clean()
    tf = trace.file(pid=res.pid)
    check_eq(tf.header["argv"], [prog(name)] + ARGS, "header argv (before the retitle)",
             [tf.header])
    check_eq(tf.header["payload"], 64, "header payload", [tf.header])
    check_eq(tf.name, "%s.%d%s" % (name, res.pid, sttest.SUFFIX), "file name (program name kept)")
    sends = tf.calls(fn="send", bytes=21)
    check(sends and sends[-1].get("data") == "payload after retitle",
          "the payload of the send after the retitle", sends or tf.calls())
    return tf


def test_retitle(sb):
    check_retitled(sb, "retitle")


def test_hooks_before_shim_constructor(sb):
    tf = check_retitled(sb, "early", "constructor ok\n")
    calls = tf.calls()
    check_eq([e["fn"] for e in calls[:4]], ["socketpair", "send", "close", "close"],
             "the library constructor's calls, first", calls[:5])
    check_eq(calls[1].get("data"), "ctor", "payload of the constructor's send", calls[1:2])
    check(calls[0]["ts"] < tf.header["clock"]["mono"], "constructor calls before the header "
          "was written (the file is made on the first record)", calls[:1] + [tf.header])


if __name__ == "__main__":
    sttest.main()
