"""Alternating timer for bench.sh.

  timer.py MEASURE RUNS WARMUP SPEC.json

SPEC is a JSON list of {"label": ..., "argv": [...]}.  Each round runs every
command once, in turn, so drift (frequency scaling, cache state) hits all of
them alike.  The numbers come from MEASURE (measure.c): wall time
around fork+exec+wait4, CPU = user + sys of the command and its waited-for
descendants from wait4's rusage, peak RSS = ru_maxrss.  Prints one JSON object per label on stdout."""
import json
import os
import statistics
import subprocess
import sys


def run_once(measure, argv):
    out = subprocess.run([measure] + argv, stdout=subprocess.PIPE, check=True).stdout.split()
    wall, cpu, rss, code = float(out[0]), float(out[1]), int(out[2]), int(out[3])
    return code, wall, cpu, rss


def main():
    measure = sys.argv[1]
    runs, warmup = int(sys.argv[2]), int(sys.argv[3])
    spec = json.load(open(sys.argv[4]))
    res = {s["label"]: {"wall": [], "cpu": [], "rss": 0, "fail": 0} for s in spec}
    for i in range(warmup + runs):
        for s in spec:
            code, wall, cpu, rss = run_once(measure, s["argv"])
            r = res[s["label"]]
            if code != 0:
                r["fail"] += 1
                r["last_code"] = code
            if i < warmup:
                continue
            r["wall"].append(wall)
            r["cpu"].append(cpu)
            r["rss"] = max(r["rss"], rss)
    for s in spec:
        r = res[s["label"]]
        w = sorted(r["wall"])
        out = {
            "label": s["label"],
            "runs": len(w),
            "failures": r["fail"],
            "wall_median_ms": statistics.median(w) * 1e3,
            "wall_p90_ms": w[int(len(w) * 0.9) - 1 if len(w) > 1 else 0] * 1e3,
            "cpu_median_ms": statistics.median(r["cpu"]) * 1e3,
            "peak_rss_kib": r["rss"],
        }
        if "last_code" in r:
            out["last_exit_code"] = r["last_code"]
        print(json.dumps(out))


if __name__ == "__main__":
    main()
