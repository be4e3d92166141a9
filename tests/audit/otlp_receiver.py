#!/usr/bin/env python3
"""A strict OTLP/HTTP JSON receiver for cordon's audit tests.

Listens on 127.0.0.1 (port 0 = any; the chosen port is written to
--port-file), validates every request body against the OTLP JSON mapping of
opentelemetry-proto (resourceLogs/scopeLogs/logRecords and
resourceSpans/scopeSpans/spans, lowercase hex trace and span ids, 64-bit
integers and *UnixNano as decimal strings, enums as numbers, attributes as
typed AnyValue) and appends one JSON line per request to --record:
{"path", "status", "errors": [...], "body": <parsed>, "raw": <text>}.

Modes: normal (200), slow (note the arrival, sleep --delay seconds, then 200), 500 (always),
429 (the first --fail requests per path get 429 with Retry-After:
--retry-after, then 200).  "down" is the absence of this server."""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
UINT = re.compile(r"^[0-9]+$")
INT = re.compile(r"^-?[0-9]+$")


class Checker:
    def __init__(self):
        self.errors = []

    def err(self, where, what):
        if len(self.errors) < 50:
            self.errors.append(f"{where}: {what}")

    def fields(self, where, obj, allowed, required=()):
        if not isinstance(obj, dict):
            self.err(where, f"expected an object, got {type(obj).__name__}")
            return False
        for k in obj:
            if k not in allowed:
                self.err(where, f"unknown field {k!r}")
        for k in required:
            if k not in obj:
                self.err(where, f"missing {k!r}")
        return True

    def nanos(self, where, v, required=True):
        if v is None:
            if required:
                self.err(where, "missing timestamp")
            return None
        if not isinstance(v, str) or not UINT.match(v):
            self.err(where, f"timestamp must be a decimal string, got {v!r}")
            return None
        n = int(v)
        # Plausible wall clock: after 2020, before 2100.
        if not (1577836800 * 10**9 <= n <= 4102444800 * 10**9):
            self.err(where, f"timestamp {v} is not nanoseconds since the epoch")
        return n

    def trace_id(self, where, v):
        if not isinstance(v, str) or not HEX32.match(v) or v == "0" * 32:
            self.err(where, f"traceId must be 32 lowercase hex digits, got {v!r}")

    def span_id(self, where, v, allow_empty=False):
        if allow_empty and v == "":
            return
        if not isinstance(v, str) or not HEX16.match(v) or v == "0" * 16:
            self.err(where, f"spanId must be 16 lowercase hex digits, got {v!r}")

    def uint(self, where, v, lo=0, hi=2**32):
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            self.err(where, f"expected an integer in [{lo},{hi}], got {v!r}")

    def any_value(self, where, v):
        kinds = ("stringValue", "boolValue", "intValue", "doubleValue", "arrayValue",
                 "kvlistValue", "bytesValue")
        if not self.fields(where, v, kinds):
            return
        if len(v) != 1:
            self.err(where, f"AnyValue must hold exactly one value, has {sorted(v)}")
            return
        (k, x), = v.items()
        if k == "stringValue" and not isinstance(x, str):
            self.err(where, "stringValue is not a string")
        elif k == "boolValue" and not isinstance(x, bool):
            self.err(where, "boolValue is not a bool")
        elif k == "intValue" and not ((isinstance(x, str) and INT.match(x)) or
                                      (isinstance(x, int) and not isinstance(x, bool))):
            self.err(where, f"intValue must be an int64 (decimal string), got {x!r}")
        elif k == "doubleValue" and not isinstance(x, (int, float)):
            self.err(where, "doubleValue is not a number")
        elif k == "arrayValue":
            if self.fields(where + ".arrayValue", x, ("values",)):
                for i, e in enumerate(x.get("values", [])):
                    self.any_value(f"{where}.arrayValue[{i}]", e)
        elif k == "kvlistValue":
            if self.fields(where + ".kvlistValue", x, ("values",)):
                self.attributes(where + ".kvlistValue", x.get("values", []))

    def attributes(self, where, attrs):
        if not isinstance(attrs, list):
            self.err(where, "attributes must be a list")
            return
        seen = set()
        for i, kv in enumerate(attrs):
            w = f"{where}.attributes[{i}]"
            if not self.fields(w, kv, ("key", "value"), ("key", "value")):
                continue
            if not isinstance(kv.get("key"), str) or not kv["key"]:
                self.err(w, "key must be a non-empty string")
            elif kv["key"] in seen:
                self.err(w, f"duplicate key {kv['key']!r}")
            seen.add(kv.get("key"))
            if "value" in kv:
                self.any_value(f"{w}[{kv.get('key')}]", kv["value"])

    def resource(self, where, r):
        if self.fields(where, r, ("attributes", "droppedAttributesCount", "entityRefs")):
            self.attributes(where, r.get("attributes", []))
            names = [a.get("key") for a in r.get("attributes", []) if isinstance(a, dict)]
            if "service.name" not in names:
                self.err(where, "resource has no service.name")

    def scope(self, where, s):
        if self.fields(where, s, ("name", "version", "attributes", "droppedAttributesCount")):
            if not isinstance(s.get("name", ""), str):
                self.err(where, "scope name must be a string")

    def log_record(self, where, r):
        allowed = ("timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText",
                   "body", "attributes", "droppedAttributesCount", "flags", "traceId", "spanId",
                   "eventName")
        if not self.fields(where, r, allowed, ("timeUnixNano",)):
            return
        self.nanos(where + ".timeUnixNano", r.get("timeUnixNano"))
        self.nanos(where + ".observedTimeUnixNano", r.get("observedTimeUnixNano"), False)
        if "severityNumber" in r:
            self.uint(where + ".severityNumber", r["severityNumber"], 0, 24)
        if "body" in r:
            self.any_value(where + ".body", r["body"])
        self.attributes(where, r.get("attributes", []))
        if "traceId" in r:
            self.trace_id(where + ".traceId", r["traceId"])
        if "spanId" in r:
            self.span_id(where + ".spanId", r["spanId"])

    def span(self, where, s):
        allowed = ("traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind",
                   "startTimeUnixNano", "endTimeUnixNano", "attributes",
                   "droppedAttributesCount", "events", "droppedEventsCount", "links",
                   "droppedLinksCount", "status")
        if not self.fields(where, s, allowed, ("traceId", "spanId", "name",
                                               "startTimeUnixNano", "endTimeUnixNano")):
            return
        self.trace_id(where + ".traceId", s.get("traceId"))
        self.span_id(where + ".spanId", s.get("spanId"))
        if "parentSpanId" in s:
            self.span_id(where + ".parentSpanId", s["parentSpanId"], allow_empty=True)
        if not isinstance(s.get("name"), str) or not s.get("name"):
            self.err(where, "span name must be a non-empty string")
        if "kind" in s:
            self.uint(where + ".kind", s["kind"], 0, 5)
        a = self.nanos(where + ".startTimeUnixNano", s.get("startTimeUnixNano"))
        b = self.nanos(where + ".endTimeUnixNano", s.get("endTimeUnixNano"))
        if a is not None and b is not None and b < a:
            self.err(where, "span ends before it starts")
        self.attributes(where, s.get("attributes", []))
        for i, e in enumerate(s.get("events", [])):
            w = f"{where}.events[{i}]"
            if self.fields(w, e, ("timeUnixNano", "name", "attributes", "droppedAttributesCount"),
                           ("timeUnixNano", "name")):
                self.nanos(w + ".timeUnixNano", e.get("timeUnixNano"))
                self.attributes(w, e.get("attributes", []))
        if "droppedEventsCount" in s:
            self.uint(where + ".droppedEventsCount", s["droppedEventsCount"])
        if "status" in s and self.fields(where + ".status", s["status"], ("code", "message")):
            if "code" in s["status"]:
                self.uint(where + ".status.code", s["status"]["code"], 0, 2)

    def request(self, path, body):
        if path == "/v1/logs":
            outer, scoped, items, check = "resourceLogs", "scopeLogs", "logRecords", self.log_record
        elif path == "/v1/traces":
            outer, scoped, items, check = "resourceSpans", "scopeSpans", "spans", self.span
        else:
            self.err("path", f"unexpected path {path}")
            return
        if not self.fields("request", body, (outer,), (outer,)):
            return
        for i, rl in enumerate(body.get(outer, [])):
            w = f"{outer}[{i}]"
            if not self.fields(w, rl, ("resource", scoped, "schemaUrl"), ("resource", scoped)):
                continue
            self.resource(w + ".resource", rl.get("resource"))
            for j, sl in enumerate(rl.get(scoped, [])):
                ws = f"{w}.{scoped}[{j}]"
                if not self.fields(ws, sl, ("scope", items, "schemaUrl"), (items,)):
                    continue
                if "scope" in sl:
                    self.scope(ws + ".scope", sl["scope"])
                for k, it in enumerate(sl.get(items, [])):
                    check(f"{ws}.{items}[{k}]", it)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("normal", "slow", "500", "429"), default="normal")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", default="/dev/null")
    ap.add_argument("--delay", type=float, default=10.0)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--fail", type=int, default=1)
    ap.add_argument("--fast", action="store_true",
                    help="benchmarks: answer 200 at once, no validation, no recording")
    args = ap.parse_args()
    lock = threading.Lock()
    failures = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, body=b"{}", headers=()):
            # One write for status, headers and body: two small writes would
            # meet Nagle and delayed ACKs and add 40 ms to every request.
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            if args.fast:
                self.rfile.read(n)
                self.reply(200)
                return
            raw = self.rfile.read(n).decode("utf-8", "replace")
            c = Checker()
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                c.err("headers", f"Content-Type is {self.headers.get('Content-Type')!r}")
            try:
                body = json.loads(raw)
            except ValueError as e:
                body = None
                c.err("body", f"not JSON: {e}")
            if body is not None:
                c.request(self.path, body)
            status, hdrs = 200, []
            if args.mode == "slow":
                # Note the arrival first: the test may stop us while we sleep.
                with lock, open(args.record, "a") as f:
                    f.write(json.dumps({"path": self.path, "status": 0, "time": time.time(),
                                        "errors": c.errors, "arrival": True}) + "\n")
                time.sleep(args.delay)
            elif args.mode == "500":
                status = 500
            elif args.mode == "429":
                with lock:
                    k = failures.get(self.path, 0)
                    if k < args.fail:
                        failures[self.path] = k + 1
                        status, hdrs = 429, [("Retry-After", str(args.retry_after))]
            rec = {"path": self.path, "status": status, "time": time.time(), "errors": c.errors,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body, "raw": raw}
            with lock, open(args.record, "a") as f:
                f.write(json.dumps(rec) + "\n")
            try:
                self.reply(status, b"{}", hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
