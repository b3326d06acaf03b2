#!/usr/bin/env bash
# Runs the benchmarks quoted in perf/RESULTS.md, each next to its same-run
# reference, and writes the raw output under perf/out/. Needs root for the
# AF_XDP ones (they skip otherwise). Usage: perf/record.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-3}"
out=perf/out/record-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine.txt"
run() {
  local name=$1; shift
  echo "== $name: go test $*" | tee -a "$out/commands.txt"
  go test -run '^$' -benchmem -count "$count" "$@" 2>&1 | tee "$out/$name.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || true
}
run afxdp-raw      -bench 'Raw(Rx|Tx)' -benchtime 200000x ./afxdp/
run checksum       -bench 'Checksum/(reference|go|adc|avx2)/(1500|9000)$' -benchtime 200ms ./stack/header/
run ring           -bench 'SPSCCrossGoroutine|ChanBaseline' -benchtime 200ms ./ring/
run tcp-engine     -bench 'BenchmarkPipe|CopyBaseline' -benchtime 2s ./stack/tcp/
run stack-pipe     -bench 'BenchmarkCopy$|PipeGoodput|WorkerPath' -benchtime 2s ./stack/
run stack-xdp      -bench 'XDPIngress' -benchtime 2s ./stack/
run mptcp-conn     -bench 'ConnMemory' -benchtime 2s ./mptcp/conn/
echo "raw output in $out"
