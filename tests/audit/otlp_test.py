#!/usr/bin/env python3
"""OTLP export tests: the driver (C, through the audit facade) against the
receiver (otlp_receiver.py) on 127.0.0.1 in each mode.

usage: otlp_test.py DRIVER RECEIVER"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

DRIVER, RECEIVER = sys.argv[1], sys.argv[2]
SECRET = "s3cr3t-PLANTED-7f1c2e"
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print(f"  FAIL: {what}", flush=True)
    return cond


class Receiver:
    count = 0

    def __init__(self, tmp, mode, *extra):
        Receiver.count += 1
        self.record = os.path.join(tmp, f"record-{mode}-{Receiver.count}.jsonl")
        port_file = os.path.join(tmp, f"port-{mode}-{Receiver.count}")
        self.proc = subprocess.Popen([sys.executable, RECEIVER, "--mode", mode, "--port-file",
                                      port_file, "--record", self.record, *extra])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            if self.proc.poll() is not None:
                raise SystemExit("receiver died at start")
            time.sleep(0.02)
        else:
            raise SystemExit("receiver did not start")
        self.port = int(open(port_file).read())

    def requests(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run_driver(port, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
    env["OTEL_SERVICE_NAME"] = "cordon-test"
    env["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=test,team=sec%20ops"
    env["OTEL_EXPORTER_OTLP_HEADERS"] = f"x-api-key=hdr-{SECRET},x-tenant=t1"
    env.update(env_extra or {})
    t0 = time.monotonic()
    p = subprocess.run([DRIVER, "--secret", SECRET, *args], env=env, capture_output=True,
                       text=True, timeout=60)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        print(p.stderr)
    check(p.returncode == 0, f"driver exit status {p.returncode}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return out, p.stderr, wall


def attrs(obj):
    out = {}
    for kv in obj.get("attributes", []):
        v = kv["value"]
        (k, x), = v.items()
        out[kv["key"]] = x["values"] if k == "arrayValue" else x
    return out


def no_schema_errors(reqs):
    errs = [e for r in reqs for e in r["errors"]]
    check(not errs, f"schema errors: {errs[:5]}")


def logs_of(reqs, status=200):
    recs = []
    for r in reqs:
        if r["path"] == "/v1/logs" and r["status"] == status:
            for rl in r["body"]["resourceLogs"]:
                for sl in rl["scopeLogs"]:
                    recs.extend(sl["logRecords"])
    return recs


def spans_of(reqs, status=200):
    out = []
    for r in reqs:
        if r["path"] == "/v1/traces" and r["status"] == status:
            for rs in r["body"]["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    out.extend(ss["spans"])
    return out


def test_normal(tmp, transport="built-in"):
    print(f"normal ({transport} HTTP): 1000 events, every one exactly once, schema-valid, "
          "secrets redacted")
    rx = Receiver(tmp, "normal")
    jsonl = os.path.join(tmp, f"normal-{transport}.jsonl")
    extra = {"CORDON_OTLP_FORCE_CURL": "1"} if transport == "curl" else {}
    try:
        out, err, wall = run_driver(rx.port, "--events", "1000", "--jsonl", jsonl,
                                    env_extra=extra)
    finally:
        rx.stop()
    reqs = rx.requests()
    no_schema_errors(reqs)
    check(out["lost"] == 0, f"lost {out['lost']} events: {err.strip().splitlines()[:1]}")
    check("could not be delivered" not in err, "drop message without drops")
    logs = logs_of(reqs)
    seqs = sorted(int(l["body"]["stringValue"].split("=")[1]) for l in logs)
    check(seqs == list(range(1000)), f"log records: {len(logs)}, distinct {len(set(seqs))}")
    check(all(l["traceId"] == out["session_id"] for l in logs), "traceId is the session id")
    res = reqs[0]["body"]["resourceLogs"][0]["resource"]
    ra = attrs(res)
    check(ra.get("service.name") == "cordon-test", f"service.name {ra.get('service.name')}")
    check(ra.get("team") == "sec ops", "OTEL_RESOURCE_ATTRIBUTES percent-decoding")
    check(all(r["headers"].get("x-tenant") == "t1" for r in reqs), "OTEL_EXPORTER_OTLP_HEADERS")
    # Semantic-convention attributes, spot checks per kind.
    by_kind = {}
    for l in logs:
        by_kind.setdefault(attrs(l)["event.name"], []).append(attrs(l))
    check(set(by_kind) == {"cordon.session.start", "cordon.session.end", "cordon.process.start",
                           "cordon.process.exit", "cordon.net.allow", "cordon.net.deny",
                           "cordon.fs.violation", "cordon.policy.warning", "cordon.error"},
          f"kinds {sorted(by_kind)}")
    ps = by_kind["cordon.process.start"][0]
    check(isinstance(ps.get("process.command_args"), list), "process.command_args is an array")
    check(ps.get("process.pid") in ("4242", 4242), "process.pid")
    check(by_kind["cordon.process.exit"][0].get("process.exit.code") in ("0", 0), "exit code")
    nd = by_kind["cordon.net.deny"][0]
    check(nd.get("server.address") == "evil.example" and nd.get("server.port") in ("443", 443)
          and nd.get("network.peer.address") == "203.0.113.9"
          and nd.get("network.transport") == "tcp", f"net attributes {nd}")
    fv = by_kind["cordon.fs.violation"][0]
    check(fv.get("file.path") and fv.get("error.type") == "EACCES", f"fs attributes {fv}")
    ss = by_kind["cordon.session.start"][0]
    check(ss.get("session.id") == out["session_id"] and ss.get("gen_ai.agent.id") == "driver-agent"
          and ss.get("user.id") == str(os.getuid()), f"session attributes {ss}")
    check(ss.get("cordon.policy.digest", "").startswith("sha256:"), "policy digest")
    # Spans: root (session) and one child (the command), events on the child.
    spans = spans_of(reqs)
    check(len(spans) == 2, f"{len(spans)} spans")
    root = [s for s in spans if not s.get("parentSpanId")]
    child = [s for s in spans if s.get("parentSpanId")]
    if check(len(root) == 1 and len(child) == 1, "one root and one child span"):
        check(child[0]["parentSpanId"] == root[0]["spanId"], "child's parent is the root")
        check(all(s["traceId"] == out["session_id"] for s in spans), "span traceId")
        ev = child[0].get("events", [])
        check(len(ev) + child[0].get("droppedEventsCount", 0) == 996,
              f"span events {len(ev)} + dropped {child[0].get('droppedEventsCount')}")
        check(len(ev) <= 128, "span events are capped")
        check(int(root[0]["startTimeUnixNano"]) <= int(child[0]["startTimeUnixNano"]) and
              int(child[0]["endTimeUnixNano"]) <= int(root[0]["endTimeUnixNano"]),
              "child within root")
    # Secrets: none in any request, none in the JSON lines (but both redacted markers).
    raw = "".join(r["raw"] for r in reqs)
    check(SECRET not in raw and "hunter22" not in raw, "secret in OTLP output")
    check("[REDACTED]" in raw, "redaction marker in OTLP output")
    lines = open(jsonl).read().splitlines()
    check(len(lines) == 1000, f"jsonl has {len(lines)} lines")
    check(SECRET not in "".join(lines) and "hunter22" not in "".join(lines), "secret in jsonl")
    check(SECRET not in err, "secret on stderr")
    check("<sandbox_violations>" in err and ".bashrc" in err and "/ignored/" not in err,
          "violations block with ignoreViolations applied")
    print(f"  wall {wall * 1000:.0f} ms, close {out['close_ms']} ms, emit max {out['emit_max_us']} us")


def test_normal_curl(tmp):
    test_normal(tmp, "curl")


def test_down(tmp):
    print("down: nobody listening; bounded wall time, drops reported")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))  # bound, never listening: refused at once
    port = s.getsockname()[1]
    out, err, wall = run_driver(port, "--events", "50", "--flush-ms", "1000")
    s.close()
    check(out["lost"] > 0, "no drops counted")
    check("could not be delivered" in err, f"drop message missing: {err!r}")
    check(wall < 3.0, f"wall {wall:.2f}s")
    print(f"  wall {wall * 1000:.0f} ms; {err.strip().splitlines()[0]}")


def test_slow(tmp):
    print("slow: receiver sleeps 10 s; close waits <= flush timeout")
    rx = Receiver(tmp, "slow", "--delay", "10")
    try:
        out, err, wall = run_driver(rx.port, "--events", "50", "--flush-ms", "1000")
    finally:
        rx.stop()
    check(out["lost"] > 0, "no drops counted")
    check("could not be delivered" in err, "drop message missing")
    check(wall < 3.0 and out["close_ms"] < 2000, f"wall {wall:.2f}s close {out['close_ms']} ms")
    print(f"  wall {wall * 1000:.0f} ms")


def test_slow_in_flight(tmp):
    print("slow, request already in flight at close: still bounded by the flush timeout")
    rx = Receiver(tmp, "slow", "--delay", "10")
    try:
        out, err, wall = run_driver(rx.port, "--events", "50", "--flush-ms", "1000",
                                    "--linger-ms", "500",
                                    env_extra={"OTEL_BLRP_SCHEDULE_DELAY": "100"})
    finally:
        rx.stop()
    arrivals = [r for r in rx.requests() if r.get("arrival")]
    check(arrivals and arrivals[0]["time"] < time.time() - out["close_ms"] / 1000 + 0.05,
          "no request was in flight before close")
    check(not [e for r in arrivals for e in r["errors"]], "schema errors")
    check(out["lost"] > 0 and "could not be delivered" in err, "drops not reported")
    # 1 s flush budget; libcurl may take up to about a second more to notice
    # while the server is silent.
    check(out["close_ms"] < 2300, f"close took {out['close_ms']} ms")
    print(f"  close {out['close_ms']} ms")


def test_500(tmp):
    print("500: not retried (OTLP spec), dropped and reported")
    rx = Receiver(tmp, "500")
    try:
        out, err, wall = run_driver(rx.port, "--events", "50", "--flush-ms", "2000")
    finally:
        rx.stop()
    reqs = rx.requests()
    no_schema_errors(reqs)
    check(out["lost"] == 50, f"lost {out['lost']}")
    check(len([r for r in reqs if r["path"] == "/v1/logs"]) == 1, "500 must not be retried")
    check("could not be delivered" in err and "HTTP 500" in err, f"drop message: {err!r}")
    check(wall < 3.0, f"wall {wall:.2f}s")


def test_429(tmp, transport="built-in"):
    print(f"429 + Retry-After: 1 ({transport} HTTP): retried after the pause, then everything "
          "delivered once")
    extra = {"CORDON_OTLP_FORCE_CURL": "1"} if transport == "curl" else {}
    rx = Receiver(tmp, "429", "--retry-after", "1", "--fail", "1")
    try:
        out, err, wall = run_driver(rx.port, "--events", "100", "--flush-ms", "4000",
                                    env_extra=extra)
    finally:
        rx.stop()
    reqs = rx.requests()
    no_schema_errors(reqs)
    logs_reqs = [r for r in reqs if r["path"] == "/v1/logs"]
    check([r["status"] for r in logs_reqs] == [429, 200], f"statuses {[r['status'] for r in logs_reqs]}")
    if len(logs_reqs) == 2:
        gap = logs_reqs[1]["time"] - logs_reqs[0]["time"]
        check(gap >= 0.9, f"retried after {gap:.2f}s, Retry-After was 1")
    seqs = sorted(int(l["body"]["stringValue"].split("=")[1]) for l in logs_of(reqs))
    check(seqs == list(range(100)), f"delivered {len(seqs)} records")
    check(len(spans_of(reqs)) == 2, "spans delivered after 429")
    check(out["lost"] == 0 and "could not be delivered" not in err, f"lost {out['lost']}")


def test_429_curl(tmp):
    test_429(tmp, "curl")


def test_slow_curl(tmp):
    print("slow (curl HTTP), request in flight at close: bounded")
    rx = Receiver(tmp, "slow", "--delay", "10")
    try:
        out, err, wall = run_driver(rx.port, "--events", "50", "--flush-ms", "1000",
                                    "--linger-ms", "500",
                                    env_extra={"OTEL_BLRP_SCHEDULE_DELAY": "100",
                                               "CORDON_OTLP_FORCE_CURL": "1"})
    finally:
        rx.stop()
    check(out["lost"] > 0 and "could not be delivered" in err, "drops not reported")
    check(out["close_ms"] < 2300, f"close took {out['close_ms']} ms")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for t in (test_normal, test_normal_curl, test_down, test_slow, test_slow_in_flight,
                  test_slow_curl, test_500, test_429, test_429_curl):
            t(tmp)
    if FAILS:
        print(f"{len(FAILS)} checks failed")
        return 1
    print("all OTLP checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
