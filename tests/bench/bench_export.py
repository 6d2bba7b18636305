"""What exporting spans to Zipkin costs, per encoding, measured in-process.

build/bench/bench_export (tests/bench/bench_export.c) runs the exporter's own
code path without the network on 10k HTTP server spans like nginx traffic
gives (random ids, a few routes): the capture thread's copy into the export
queue, then the exporter thread's read, 500 KiB batches, encoding and gzip.
This prints the median of ROUNDS runs:

  bytes/span     body bytes on the wire per span (HTTP headers add ~250
                 bytes per batch, under 0.5 byte per span)
  CPU/10k spans  exporter thread CPU time to read, encode and compress 10k spans
  push/span      capture thread CPU time per span (the queue push)

Run: make bench   (builds the binary; no root needed for this part)
"""
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "build" / "bench" / "bench_export"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SPANS = 10000


def main():
    if not BIN.exists():
        raise SystemExit(f"{BIN} is missing: run make bench")
    runs = {}
    for _ in range(ROUNDS):
        out = subprocess.run([str(BIN), str(SPANS)], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            mode, nbytes, cpu_ms, push_ns = line.split()
            runs.setdefault(mode, []).append((float(nbytes), float(cpu_ms), float(push_ns)))
    print(f"Zipkin export, {SPANS} HTTP spans, 500 KiB batches, {ROUNDS} rounds, medians")
    print(f"{'encoding':<14}{'bytes/span':>11}{'CPU/10k spans':>15}{'push/span':>11}")
    for mode, rows in runs.items():
        nbytes, cpu_ms, push_ns = (statistics.median(col) for col in zip(*rows))
        print(f"{mode:<14}{nbytes:>11.1f}{cpu_ms:>12.1f} ms{push_ns:>8.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
