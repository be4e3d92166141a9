#!/usr/bin/env python3
"""cordon log: filters, --json, --follow, errors.  usage: log_test.py DRIVER LOG_RUNNER"""
import json
import os
import subprocess
import sys
import tempfile
import time

DRIVER, LOG = sys.argv[1], sys.argv[2]
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print(f"  FAIL: {what}", flush=True)
    return cond


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    e.pop("NO_COLOR", None)
    return e


def drive(path, n):
    p = subprocess.run([DRIVER, "--events", str(n), "--jsonl", path, "--quiet"], env=env(),
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, f"driver failed: {p.stderr}")
    return json.loads(p.stdout)["session_id"]


def log(*args, code=0):
    p = subprocess.run([LOG, *args], capture_output=True, text=True, timeout=30, env=env())
    check(p.returncode == code, f"cordon log {args}: status {p.returncode}, stderr {p.stderr!r}")
    return p.stdout, p.stderr


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "audit.jsonl")
        s1 = drive(path, 24)
        s2 = drive(path, 24)
        raw = open(path).read().splitlines()
        check(len(raw) == 48, f"{len(raw)} lines written")

        out, _ = log(path)
        lines = out.splitlines()
        check(len(lines) == 48, f"human output has {len(lines)} lines")
        check("\033[" not in out, "colour when not a tty")
        start = [l for l in lines if " process.start " in l]
        check(len(start) == 2 and "[REDACTED]" in start[0] and "--password=[REDACTED]" in start[0],
              f"process.start line {start[:1]}")
        fs = [l for l in lines if "fs.violation" in l]
        check(fs and "write /work/space/.bashrc (sh pid 7) EACCES; allowed by filesystem.allowWrite"
              in fs[0], f"fs line {fs[:1]}")
        # Columns line up: the kind starts at the same offset in every line.
        cols = {l.index(l.split()[3]) for l in lines}
        check(len(cols) == 1, f"kind column offsets {cols}")

        out, _ = log(path, "--session", s1[:8])
        check(len(out.splitlines()) == 24 and s2[:8] not in out, "--session prefix")
        out, _ = log(path, "--kind", "net.deny", "--json")
        got = out.splitlines()
        want = [l for l in raw if json.loads(l)["kind"] == "net.deny"]
        check(got == want and len(got) == 8, f"--kind net.deny --json: {len(got)} lines, unchanged")
        out, _ = log(path, "--kind", "net", "--json")
        check(len(out.splitlines()) == 16, "--kind family")
        out, _ = log(path, "--decision", "deny", "--session", s2, "--json")
        check(len(out.splitlines()) == 4 + 4, f"--decision deny: {len(out.splitlines())}")
        log(path, "--kind", "bogus", code=2)
        log(path, "--decision", "maybe", code=2)
        log(code=2)
        log(os.path.join(tmp, "missing"), code=125)

        bad = os.path.join(tmp, "bad.jsonl")
        with open(bad, "w") as f:
            f.write(raw[0] + "\nnot json\n{\"kind\":\"nope\"}\n" + raw[1])  # no final newline
        out, err = log(bad, "--json", code=1)
        check(out.splitlines() == raw[:2], "good lines around bad ones, last line without newline")
        check(":2: not an audit event" in err and ":3: not an audit event" in err, err)
        # Terminal escapes in logged strings are not passed to the terminal.
        esc = os.path.join(tmp, "esc.jsonl")
        ev = json.loads(raw[0])
        ev["kind"] = "error"
        ev["message"] = "evil \u001b]0;title\u0007"
        with open(esc, "w") as f:
            f.write(json.dumps(ev) + "\n")
        out, _ = log(esc)
        check("\x1b" not in out and "\\x1b" in out, f"escape sequence shown: {out!r}")

        # --follow: sees lines appended later, including one written in two parts.
        fpath = os.path.join(tmp, "follow.jsonl")
        open(fpath, "w").close()
        p = subprocess.Popen([LOG, fpath, "--follow", "--json"], stdout=subprocess.PIPE, text=True,
                             env=env())
        time.sleep(0.3)
        drive(fpath, 10)
        with open(fpath, "a") as f:
            f.write(raw[0][:40])
            f.flush()
            time.sleep(0.5)
            f.write(raw[0][40:] + "\n")
        deadline = time.time() + 10
        got = []
        os.set_blocking(p.stdout.fileno(), False)
        while time.time() < deadline and len(got) < 11:
            chunk = p.stdout.read()
            if chunk:
                got.extend(chunk.splitlines())
            time.sleep(0.1)
        p.terminate()
        p.wait(timeout=5)
        check(len(got) == 11 and got[-1] == raw[0], f"--follow got {len(got)} lines")
    if FAILS:
        print(f"{len(FAILS)} checks failed")
        return 1
    print("all cordon log checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
