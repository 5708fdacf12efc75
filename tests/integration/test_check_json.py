"""Checking rules without a file (socktrace check -f RULE, check - from a
pipe, mixed with files), the JSON scripts read (check --json, assert
--json, stats --json), the usage errors of check, assert, stats and report
in the one style of the tool ("did you mean", exit 2), and the shim's
pointer at socktrace check when it refuses a bad rule."""

import json
import os
import subprocess

import sttest
from sttest import check, check_eq, sample

TOOL = os.environ.get("SOCKTRACE_TOOL", "")
SRC = os.environ.get("SOCKTRACE_SOURCE_ROOT", "")
SERVICE_CHECK = os.path.join(SRC, "samples", "ci", "service-check.sh")

GOOD = "connect port=80 error=ECONNREFUSED"
BAD = "connect prot=80 error=ECONNREFUSED"  # 'prot' at column 9


def tool(sb, args, stdin=None):
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")}
    env["NO_COLOR"] = "1"
    return subprocess.run([TOOL] + args, cwd=sb.dir, env=env, capture_output=True, text=True,
                          input=stdin, timeout=sttest.RUN_TIMEOUT_S)


def write(sb, name, text):
    path = os.path.join(sb.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def usage_error(r, cmd, words, what):
    """Exit 2, "socktrace CMD: ..." with every word, the Try line, short."""
    check_eq(r.returncode, 2, "%s: exit status (stderr %r)" % (what, r.stderr))
    lines = r.stderr.strip().split("\n")
    check(lines[0].startswith("socktrace %s: " % cmd), "%s: prefix in %r" % (what, r.stderr))
    for w in words:
        check(w in lines[0], "%s: %r in %r" % (what, w, lines[0]))
    check_eq(lines[-1], "Try 'socktrace %s --help'." % cmd, "%s: the last line" % what)
    check(len(lines) <= 3, "%s: a short message, not the whole usage: %r" % (what, r.stderr))
    check_eq(r.stdout, "", "%s: nothing on stdout" % what)


def test_check_inline_rules(sb):
    r = tool(sb, ["check", "-f", GOOD])
    check_eq(r.returncode, 0, "check -f with a good rule: %s" % r.stderr)
    check_eq(r.stdout, "SOCKTRACE_FAULTS:1: %s\n" % GOOD, "named as the shim names it")
    r = tool(sb, ["check", "-f", GOOD, "-f", BAD])
    check_eq(r.returncode, 1, "a bad second rule: %s" % r.stderr)
    check("SOCKTRACE_FAULTS:2:9: unknown key 'prot'; did you mean 'port'?" in r.stderr,
          "FILE:LINE:COL of the second -f: %r" % r.stderr)
    # ';' separates rules within one -f, as in SOCKTRACE_FAULTS and run -f.
    r = tool(sb, ["check", "--fault", "recv reset;" + BAD])
    check_eq(r.returncode, 1, "a bad rule after ';'")
    check("SOCKTRACE_FAULTS:2:9: unknown key 'prot'" in r.stderr, "counted from 1: %r" % r.stderr)
    r = tool(sb, ["check", "-f", "expect connect count=1"])
    check_eq(r.returncode, 1, "an expect line in -f")
    check("expect lines belong in a scenario file" in r.stderr, "says where: %r" % r.stderr)
    r = tool(sb, ["check", "-q", "-f", GOOD])
    check_eq((r.returncode, r.stdout), (0, ""), "-q: nothing for a good rule")


def test_check_stdin(sb):
    text = "# from a pipe\n%s\nexpect connect count>=1 succeeds\n" % GOOD
    r = tool(sb, ["check", "-"], stdin=text)
    check_eq(r.returncode, 0, "check - : %s" % r.stderr)
    check_eq(r.stdout, "stdin:2: %s\nstdin:3: expect connect count>=1 succeeds\n" % GOOD,
             "rules and expect lines named stdin:LINE")
    r = tool(sb, ["check", "-"], stdin="recv reset\n" + BAD + "\n")
    check_eq(r.returncode, 1, "a bad rule on stdin")
    check("stdin:2:9: unknown key 'prot'; did you mean 'port'?" in r.stderr,
          "stdin:LINE:COL: %r" % r.stderr)
    r = tool(sb, ["check", "-", "-"], stdin="")
    usage_error(r, "check", ["standard input", "twice"], "- twice")
    r = tool(sb, ["check"])
    usage_error(r, "check", ["nothing to check", "-f RULE"], "no argument")


def test_check_mixed(sb):
    a = write(sb, "a.scn", "recv reset\n")
    b = write(sb, "b.scn", "send delay=1s\n")
    r = tool(sb, ["check", a, "-f", GOOD, "-", b], stdin="expect connect count=0\n")
    check_eq(r.returncode, 0, "files, - and -f: %s" % r.stderr)
    check_eq(r.stdout.splitlines(),
             ["%s:1: recv reset" % a, "stdin:1: expect connect count=0",
              "%s:1: send delay=1s" % b, "SOCKTRACE_FAULTS:1: %s" % GOOD],
             "files in the order given, then the -f rules")
    r = tool(sb, ["check", a, "-f", BAD, "-"], stdin="recv reset\n")
    check_eq(r.returncode, 1, "one bad -f among good files")
    check("SOCKTRACE_FAULTS:1:9:" in r.stderr, "the bad one named: %r" % r.stderr)
    check("%s:1: recv reset" % a in r.stdout and "stdin:1: recv reset" in r.stdout,
          "the good ones still listed: %r" % r.stdout)


def test_check_json(sb):
    f = write(sb, "f.scn", "recv reset\n\n" + BAD + "\nexpect connect count>=1 succeeds\n")
    ok = write(sb, "ok.scn", GOOD + " optional\n")
    missing = os.path.join(sb.dir, "missing.scn")
    r = tool(sb, ["check", "--json", f, ok, missing, "-f", "connect error=ECONREFUSED"])
    check_eq(r.returncode, 1, "exit status with errors: %s" % r.stderr)
    doc = json.loads(r.stdout)  # stdout holds the document and nothing else
    check_eq(doc["valid"], False, "valid")
    names = [x["name"] for x in doc["files"]]
    check_eq(names, [f, ok, missing, "SOCKTRACE_FAULTS"], "one entry per input, in order")
    first = doc["files"][0]
    check_eq(sorted(first), ["errors", "expects", "name", "rules", "valid"], "keys of a file")
    check_eq(first["valid"], False, "f.scn is not valid")
    check_eq(first["errors"], [{"origin": "%s:3:9" % f, "line": 3, "col": 9,
                                "message": "unknown key 'prot'; did you mean 'port'?",
                                "suggestion": "port"}], "the error in its parts")
    check_eq(first["rules"], [{"origin": "%s:1" % f, "line": 1, "text": "recv reset",
                               "optional": False}], "the rule that parsed")
    check_eq(first["expects"], [{"origin": "%s:4" % f, "line": 4,
                                 "text": "expect connect count>=1 succeeds",
                                 "conditions": ["count>=1", "succeeds"]}], "the expect line")
    check_eq(doc["files"][1]["valid"], True, "ok.scn is valid")
    check_eq(doc["files"][1]["rules"][0]["optional"], True, "optional")
    check_eq(doc["files"][1]["errors"], [], "no errors")
    err = doc["files"][2]["errors"]
    check(len(err) == 1 and "line" not in err[0] and "cannot open" in err[0]["message"]
          and err[0]["origin"] == missing, "a file that cannot be opened: %r" % err)
    err = doc["files"][3]["errors"]
    check_eq((err[0]["origin"], err[0]["suggestion"]),
             ("SOCKTRACE_FAULTS:1:15", "ECONNREFUSED"), "an errno suggested")
    check("%s:3:9: unknown key 'prot'" % f in r.stderr, "errors on stderr too: %r" % r.stderr)
    # -q: the document alone, nothing on stderr.
    r = tool(sb, ["check", "--json", "-q", f])
    check_eq((r.returncode, r.stderr), (1, ""), "--json -q: silent stderr")
    check_eq(json.loads(r.stdout)["files"][0]["errors"][0]["suggestion"], "port", "same data")
    # Valid: exit 0, and keys sorted (a stable text for diffs).
    r = tool(sb, ["check", "--json", ok])
    check_eq(r.returncode, 0, "a valid file: %s" % r.stderr)
    doc = json.loads(r.stdout)
    check_eq(doc["valid"], True, "valid")
    check_eq(r.stdout, json.dumps(doc, indent=2, sort_keys=True) + "\n", "sorted keys")
    # A suggestion for an expect line's condition too.
    r = tool(sb, ["check", "--json", "-q", "-"], stdin="expect connect cont>=1\n")
    e = json.loads(r.stdout)["files"][0]["errors"][0]
    check_eq((e["origin"], e["suggestion"]), ("stdin:1:16", "count"), "a condition suggested")
    r = tool(sb, ["check", "--json", "-q", "-f", "connect error=EBOGUS"])
    e = json.loads(r.stdout)["files"][0]["errors"][0]
    check("suggestion" not in e, "no suggestion when there is none: %r" % e)


def record(sb, scenario, out):
    """A trace of fetch_once (gives up after one refusal) under scenario."""
    r = tool(sb, ["run", "-q", "-o", out, "-s", scenario, "--", SERVICE_CHECK,
                  sample("fetch_once")])
    check(os.path.isdir(os.path.join(sb.dir, out)), "a trace was recorded: %s" % r.stderr)
    return r


def test_assert_json(sb):
    scn = write(sb, "one.scn", "connect prog=fetch_* error=ECONNREFUSED when=1..3\n"
                "expect connect prog=fetch_* count>=1\n"
                "expect connect prog=fetch_* succeeds\n")
    record(sb, scn, "tr")
    r = tool(sb, ["assert", "--json", scn, "tr"])
    check_eq(r.returncode, 1, "a check failed: exit 1 as without --json: %s" % r.stderr)
    doc = json.loads(r.stdout)
    check_eq(r.stdout, json.dumps(doc, indent=2, sort_keys=True) + "\n", "sorted keys")
    check_eq({k: doc[k] for k in ("pass", "checks", "passed", "failed", "summary", "scenario",
                                  "traces")},
             {"pass": False, "checks": 3, "passed": 2, "failed": 1,
              "summary": "1 of 3 checks failed", "scenario": scn, "traces": ["tr"]}, "summary")
    check(doc["events"] > 0 and doc["span_ns"] > 0, "events and span: %r" % doc)
    res = {x["text"]: x for x in doc["results"]}
    count = res.get("expect connect prog=fetch_* count>=1")
    check(count is not None, "the passing check by its text: %r" % list(res))
    check_eq({k: count[k] for k in ("kind", "origin", "file", "line", "condition", "pass",
                                    "expected", "seen", "value", "unit")},
             {"kind": "expect", "origin": "%s:2" % scn, "file": scn, "line": 2,
              "condition": "count>=1", "pass": True, "expected": "calls >= 1",
              "seen": "1 call", "value": 1, "unit": "calls"}, "the passing check")
    check(count["connections"] and count["connections"][0].startswith("c"), "its connections")
    succ = res["expect connect prog=fetch_* succeeds"]
    check_eq((succ["pass"], succ["value"], succ["unit"]), (False, None, None), "the failing one")
    check("last: connect ECONNREFUSED" in succ["seen"], "what was seen: %r" % succ["seen"])
    rule = res["rule acts: connect prog=fetch_* when=1..3 error=ECONNREFUSED"]
    check_eq({k: rule[k] for k in ("kind", "line", "pass", "value", "unit", "optional")},
             {"kind": "rule", "line": 1, "pass": True, "value": 1, "unit": "acts",
              "optional": False}, "the rule's own check")
    check(rule["selected"] >= 1 and rule["calls"] >= 1, "its counts: %r" % rule)
    # The same verdict as the text.
    text = tool(sb, ["assert", scn, "tr"])
    check_eq(text.returncode, 1, "text: exit 1")
    check("1 of 3 checks failed" in text.stdout, "text summary: %r" % text.stdout)
    # All passing: exit 0.
    good = write(sb, "good.scn", "expect connect prog=fetch_* count>=1\n")
    r = tool(sb, ["assert", "--json", good, "tr"])
    check_eq(r.returncode, 0, "all pass: %s" % r.stderr)
    check_eq(json.loads(r.stdout)["pass"], True, "pass")
    # Unreadable trace: exit 3 as without --json, nothing on stdout.
    r = tool(sb, ["assert", "--json", good, "no-such-trace"])
    check_eq((r.returncode, r.stdout), (3, ""), "unreadable trace")


def test_stats_json(sb):
    scn = write(sb, "one.scn", "connect prog=fetch_* error=ECONNREFUSED when=1\n")
    record(sb, scn, "tr")
    r = tool(sb, ["stats", "--json", "tr"])
    check_eq(r.returncode, 0, "stats --json: %s" % r.stderr)
    doc = json.loads(r.stdout)
    check_eq(sorted(doc), ["by_call", "by_caller", "by_program", "by_server", "calls",
                           "connections", "endings", "processes", "socketpairs", "totals",
                           "warnings"], "the keys of stats --json")
    check_eq(doc["by_caller"], None, "by_caller without --by-caller")
    total = doc["totals"]
    check_eq(total["count"], sum(c["count"] for c in doc["by_call"]), "totals: count")
    check_eq(total["faults"], 1, "totals: the fault")
    check_eq(total["count"], doc["calls"], "totals: every call")
    connect = [c for c in doc["by_call"] if c["call"] == "connect"]
    check(connect and connect[0]["errno"].get("ECONNREFUSED") == 1, "by errno: %r" % connect)
    check(doc["by_server"] and doc["by_server"][0]["address"].startswith("127.0.0.1:"),
          "per server address: %r" % doc["by_server"])
    progs = {p["program"] for p in doc["by_program"]}
    check("fetch_once" in progs, "per program: %r" % progs)
    check_eq(sum(doc["endings"].values()),
             len([c for c in doc["connections"] if not c["socketpair"]]), "endings")
    check_eq(r.stdout, json.dumps(doc, indent=1, sort_keys=True) + "\n", "sorted keys")
    r = tool(sb, ["stats", "--json", "--by-caller", "--addr2line", "none", "tr"])
    check_eq(r.returncode, 0, "--by-caller --json: %s" % r.stderr)
    callers = json.loads(r.stdout)["by_caller"]
    check(callers and {"caller", "call", "count", "function", "location", "stack"} <= set(callers[0]),
          "rows of the caller table: %r" % callers[:1])
    h = tool(sb, ["stats", "--help"])
    check(h.returncode == 0 and "--json" in h.stdout and "by_server" in h.stdout,
          "--help describes --json")


def test_usage_errors(sb):
    usage_error(tool(sb, ["stats", "--by-calller"]), "stats",
                ["unknown option '--by-calller'", "did you mean '--by-caller'?"], "stats")
    usage_error(tool(sb, ["check", "--jsn", "x.scn"]), "check",
                ["did you mean '--json'?"], "check")
    usage_error(tool(sb, ["check", "-f"]), "check", ["'-f' needs a value"], "check -f")
    usage_error(tool(sb, ["assert", "--quiett", "x.scn"]), "assert",
                ["did you mean '--quiet'?"], "assert")
    usage_error(tool(sb, ["assert"]), "assert", ["no scenario given"], "assert alone")
    usage_error(tool(sb, ["assert", "--color", "sometimes", "x.scn"]), "assert",
                ["--color takes auto, always or never"], "assert --color")
    usage_error(tool(sb, ["report", "--formt=junit"]), "report",
                ["did you mean '--format'?"], "report")
    usage_error(tool(sb, ["report", "--format=xml"]), "report",
                ["--format takes markdown or junit, not 'xml'"], "report --format=xml")
    usage_error(tool(sb, ["report", "--format=junit"]), "report", ["--scenario"],
                "report junit without a scenario")
    usage_error(tool(sb, ["report"]), "report", ["--format"], "report without --format")
    for cmd in ("check", "assert", "stats", "report"):
        r = tool(sb, [cmd, "--help"])
        check(r.returncode == 0 and r.stdout.startswith("usage: socktrace " + cmd)
              and r.stderr == "", "%s --help on stdout, exit 0" % cmd)
        if cmd != "report":
            check("--json" in r.stdout, "%s --help documents --json" % cmd)


def test_shim_points_at_check(sb):
    """The shim refuses a bad rule (status 125) and says how to check one
    without running; the command it names reports the same error."""
    marker = os.path.join(sb.dir, "ran")
    res = sb.run(["touch", marker], env={"SOCKTRACE_FAULTS": BAD}, check_rc=False)
    check_eq(res.returncode, 125, "a bad rule in SOCKTRACE_FAULTS\n" + res.explain())
    lines = res.err.strip().split("\n")
    check("SOCKTRACE_FAULTS:1:9: unknown key 'prot'; did you mean 'port'?" in lines[0],
          "the error: %r" % lines)
    check("touch does not start" in lines[-1] and
          "check rules without running: socktrace check -f 'RULE' (or socktrace check FILE)"
          in lines[-1], "the pointer, on the last line: %r" % lines[-1])
    check(len(lines) == 2, "short: one line per error, one to end: %r" % lines)
    check(not os.path.exists(marker), "the program did not run")
    r = tool(sb, ["check", "-f", BAD])
    check(lines[0].split(": ", 1)[1] in r.stderr, "check -f says the same: %r / %r"
          % (lines[0], r.stderr))
    scn = write(sb, "bad.scn", BAD + "\n")
    res = sb.run(["touch", marker], env={"SOCKTRACE_SCENARIO": scn}, check_rc=False)
    check_eq(res.returncode, 125, "a bad rule in SOCKTRACE_SCENARIO")
    check("socktrace check -f 'RULE' (or socktrace check FILE)" in res.err,
          "the pointer for a scenario too: %r" % res.err)
    check_eq(res.out, "", "nothing on stdout")


if __name__ == "__main__":
    sttest.main()
