"""Expectations: the retry/no-retry samples under samples/scenarios/retry.scn
give the documented verdicts and exit statuses (socktrace run -s), the same
verdict from a recorded trace (socktrace assert), and reports CI systems
read (socktrace report: Markdown, JUnit XML valid against the schema)."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import sttest
from sttest import check, check_eq, sample

TOOL = os.environ.get("SOCKTRACE_TOOL", "")
SRC = os.environ.get("SOCKTRACE_SOURCE_ROOT", "")
SCENARIO = os.path.join(SRC, "samples", "scenarios", "retry.scn")
SERVICE_CHECK = os.path.join(SRC, "samples", "ci", "service-check.sh")
RUN_SCENARIO = os.path.join(SRC, "samples", "ci", "run-scenario.sh")
XSD = os.path.join(SRC, "tests", "integration", "junit.xsd")
EXIT_EXPECTATIONS = 122


def tool(sb, args, env=None, timeout=None):
    full = {k: v for k, v in os.environ.items()
            if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")}
    full["NO_COLOR"] = "1"
    full.update(env or {})
    return subprocess.run([TOOL] + args, cwd=sb.dir, env=full, capture_output=True, text=True,
                          timeout=timeout or sttest.RUN_TIMEOUT_S)


def run_sample(sb, client, out, scenario=SCENARIO):
    return tool(sb, ["run", "-o", out, "-s", scenario, "--", SERVICE_CHECK, sample(client)])


def write(sb, name, text):
    path = os.path.join(sb.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def results(stderr):
    """PASS/FAIL lines of a verdict, keyed by what they checked."""
    out = {}
    for line in stderr.splitlines():
        if line.startswith(("PASS  ", "FAIL  ")):
            out[line.split("  ", 2)[2]] = line[:4]
    return out


def test_retrying_client_passes(sb):
    check(os.path.exists(SCENARIO), "the sample scenario: %s" % SCENARIO)
    r = run_sample(sb, "fetch_retry", "tr")
    check_eq(r.returncode, 0, "fetch_retry under retry.scn: %s" % r.stderr)
    check_eq(r.stdout, "echo: hello\n", "the client got its answer")
    check("all 6 checks passed" in r.stderr, "the verdict: %s" % r.stderr)
    got = results(r.stderr)
    check_eq(set(got.values()), {"PASS"}, "every check passes")
    check(any(k.startswith("rule acts: connect prog=fetch_*") for k in got),
          "the rule's own check is listed: %s" % got)
    check(r.stderr.count("attempt") == 3, "three refusals, three retries: %s" % r.stderr)


def test_giving_up_client_fails(sb):
    r = run_sample(sb, "fetch_once", "tr")
    check_eq(r.returncode, EXIT_EXPECTATIONS, "fetch_once under retry.scn: %s" % r.stderr)
    check("fetch_once: giving up" in r.stderr, "the client's own message is kept")
    got = results(r.stderr)
    want = {
        "expect connect prog=fetch_* count>=4": "FAIL",
        "expect connect prog=fetch_* succeeds": "FAIL",
        "expect connect prog=fetch_* recovery<5s": "FAIL",
        "expect recv prog=fetch_* bytes>=12": "FAIL",
        "expect send,recv prog=fetch_* never=ECONNRESET,EPIPE": "PASS",
    }
    for name, verdict in want.items():
        check_eq(got.get(name), verdict, name)
    check("expected: calls >= 4" in r.stderr and "seen:     1 call\n" in r.stderr,
          "expected vs seen: %s" % r.stderr)
    check("last: connect ECONNREFUSED" in r.stderr, "why succeeds failed")
    check("4 of 6 checks failed" in r.stderr, "the count")
    check("exit status 122 (the command's own was 1)" in r.stderr, "both statuses said")


def test_command_status_kept_when_expectations_hold(sb):
    scn = write(sb, "ok.scn", "expect connect count=0\n")
    r = tool(sb, ["run", "-q", "-o", "tr", "-s", scn, "--", "sh", "-c", "exit 3"])
    check_eq(r.returncode, 3, "the command's status when every expectation holds")
    r = tool(sb, ["run", "-q", "-o", "tr2", "-s", scn, "--", "sh", "-c", "exit 0"])
    check_eq(r.returncode, 0, "and 0 for 0")


def test_rule_that_never_acts_fails_unless_optional(sb):
    scn = write(sb, "dead.scn", "connect port=1 error=ECONNREFUSED\nexpect connect count>=1\n")
    r = run_sample(sb, "fetch_retry", "tr", scn)
    check_eq(r.returncode, EXIT_EXPECTATIONS, "a rule that never acted: %s" % r.stderr)
    check("FAIL  %s:1  rule acts: connect port=1 error=ECONNREFUSED" % scn in r.stderr,
          "names the rule: %s" % r.stderr)
    check("none of 1 connect calls matched its selection words" in r.stderr,
          "and why it never acted: %s" % r.stderr)
    scn = write(sb, "opt.scn", "connect port=1 error=ECONNREFUSED optional\n"
                "expect connect count>=1\n")
    r = run_sample(sb, "fetch_retry", "tr2", scn)
    check_eq(r.returncode, 0, "the same rule marked optional: %s" % r.stderr)


def test_rules_without_expectations_only_note(sb):
    scn = write(sb, "rules.scn", "connect port=1 error=ECONNREFUSED\n")
    r = run_sample(sb, "fetch_retry", "tr", scn)
    check_eq(r.returncode, 0, "no expect line: the command's status: %s" % r.stderr)
    check("socktrace run: note: the rule at %s:1 never acted" % scn in r.stderr,
          "a note about the rule: %s" % r.stderr)


def test_bad_expect_line_runs_nothing(sb):
    scn = write(sb, "bad.scn", "# a comment\nexpect connect count>=x\n")
    marker = os.path.join(sb.dir, "ran")
    r = tool(sb, ["run", "-q", "-o", "tr", "-s", scn, "--", "touch", marker])
    check_eq(r.returncode, 2, "a bad expect line is a usage error")
    check("%s:2:23: count: 'x' is not a count" % scn in r.stderr, "FILE:LINE:COL: %s" % r.stderr)
    check(not os.path.exists(marker), "nothing was run")
    r = tool(sb, ["check", scn])
    check_eq(r.returncode, 1, "socktrace check finds it too")
    r = tool(sb, ["run", "-q", "-o", "tr", "-f", "expect connect count=1", "--", "true"])
    check_eq(r.returncode, 2, "an expect line in -f")
    check("expect lines belong in a scenario file" in r.stderr, "says where they go: %s" % r.stderr)


def test_assert_recorded_trace(sb):
    run_sample(sb, "fetch_retry", "good")
    run_sample(sb, "fetch_once", "bad")
    r = tool(sb, ["assert", SCENARIO, "good"])
    check_eq(r.returncode, 0, "assert over the passing run: %s%s" % (r.stdout, r.stderr))
    check("all 6 checks passed" in r.stdout, "verdict on stdout: %r" % r.stdout)
    r = tool(sb, ["assert", SCENARIO, "bad"])
    check_eq(r.returncode, 1, "assert over the failing run")
    check_eq(results(r.stdout), results(run_sample(sb, "fetch_once", "bad2").stderr),
             "assert gives run -s's verdict")
    r = tool(sb, ["assert", "-q", SCENARIO, "bad"])
    check(r.stdout.count("FAIL") == 4 and "PASS" not in r.stdout, "-q: failures only: %s" % r.stdout)
    r = tool(sb, ["assert", SCENARIO, "no-such-trace"])
    check_eq(r.returncode, 3, "an unreadable trace")
    r = tool(sb, ["assert", write(sb, "empty.scn", "# nothing\n"), "good"])
    check_eq(r.returncode, 2, "a scenario with nothing to check")
    check("nothing to check" in r.stderr, "says so: %s" % r.stderr)


def check_junit(sb, path, tests, failures):
    root = ET.parse(path).getroot()
    check_eq(root.tag, "testsuites", "root element")
    suites = root.findall("testsuite")
    check_eq(len(suites), 1, "one test suite")
    suite = suites[0]
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    check_eq((int(root.get("tests")), int(root.get("failures"))), (tests, failures),
             "testsuites counts")
    check_eq((int(suite.get("tests")), int(suite.get("failures")), int(suite.get("errors"))),
             (tests, failures, 0), "testsuite counts")
    check_eq((len(cases), len(failed)), (tests, failures), "test cases and failures in the file")
    names = [c.get("name") for c in cases]
    check_eq(len(set(names)), len(names), "test case names are unique: %s" % names)
    for c in failed:
        f = c.find("failure")
        check(f.get("message", "").startswith("expected ") and "seen" in (f.text or ""),
              "a failure says what was expected and seen: %s" % ET.tostring(c))
    if shutil.which("xmllint"):
        r = subprocess.run(["xmllint", "--noout", "--schema", XSD, path], capture_output=True,
                           text=True)
        check_eq(r.returncode, 0, "junit.xml against the JUnit schema: %s" % r.stderr)
    return cases


def test_report_junit(sb):
    run_sample(sb, "fetch_once", "bad")
    out = os.path.join(sb.dir, "junit.xml")
    r = tool(sb, ["report", "--scenario", SCENARIO, "--format=junit", "-o", out, "bad"])
    check_eq(r.returncode, 0, "report writes whatever the verdict: %s" % r.stderr)
    cases = check_junit(sb, out, 6, 4)
    check(any("retry.scn:19 expect connect prog=fetch_* succeeds" in c.get("name") for c in cases),
          "a test case is named by its line: %s" % [c.get("name") for c in cases])
    r = tool(sb, ["report", "--format=junit", "bad"])
    check_eq(r.returncode, 2, "junit needs a scenario")
    r = tool(sb, ["report", "--scenario", SCENARIO, "--format=xml", "bad"])
    check_eq(r.returncode, 2, "an unknown format")


def test_report_markdown(sb):
    run_sample(sb, "fetch_once", "bad")
    r = tool(sb, ["report", "--scenario", SCENARIO, "--format=markdown", "bad"])
    check_eq(r.returncode, 0, "markdown report: %s" % r.stderr)
    md = r.stdout
    check("❌ 4 of 6 checks failed" in md, "the verdict heading: %s" % md[:300])
    rows = [l for l in md.splitlines() if l.startswith("| ❌") or l.startswith("| ✅")]
    check_eq(len(rows), 6, "one table row per check")
    check(rows[0].startswith("| ❌"), "failures first")
    check("| `" in rows[0] and "expected" not in rows[0].split("|")[3], "row cells: %s" % rows[0])
    check("```text\n" in md and "connect" in md and "ECONNREFUSED:1" in md, "the stats table")
    mermaid = md.split("```mermaid\n", 1)
    check(len(mermaid) == 2 and mermaid[1].startswith("sequenceDiagram"), "a Mermaid diagram")
    diagram = mermaid[1].split("```", 1)[0]
    check("connect(" in diagram and "ECONNREFUSED" in diagram,
          "the diagram shows the refused connect: %s" % diagram)
    check("tcp_server" not in diagram or "participant" in diagram, "only participants involved")
    r = tool(sb, ["report", "--format=markdown", "bad"])
    check_eq(r.returncode, 0, "markdown without a scenario")
    check("## socktrace report" in r.stdout and "```mermaid" in r.stdout, "figures only")


def test_ci_script_end_to_end(sb):
    build = os.path.dirname(os.path.dirname(TOOL))
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("SOCKTRACE_")}
    summary = os.path.join(sb.dir, "summary.md")
    env.update({"REPORT_DIR": os.path.join(sb.dir, "rep"),
                "GITHUB_STEP_SUMMARY": summary})
    for client, status, failures in (("fetch_retry", 0, 0), ("fetch_once", 122, 4)):
        r = subprocess.run([RUN_SCENARIO, build, client], cwd=sb.dir, env=env,
                           capture_output=True, text=True, timeout=sttest.RUN_TIMEOUT_S)
        check_eq(r.returncode, status, "run-scenario.sh %s: %s" % (client, r.stderr))
        # The sample's own variable is no SOCKTRACE_ name the shim warns of.
        check("unknown variable" not in r.stderr, "no warning: %s" % r.stderr)
        check_junit(sb, os.path.join(sb.dir, "rep", "junit.xml"), 6, failures)
    with open(summary) as f:
        text = f.read()
    check("✅ all 6 checks passed" in text and "❌ 4 of 6 checks failed" in text,
          "both runs appended to the job summary")


if __name__ == "__main__":
    sttest.main()
