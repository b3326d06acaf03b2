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
# TCP and MPTCP pipe benchmarks run in separate processes: on this 2-core machine a
# process sometimes settles into a slow schedule of its goroutines that lasts until it
# exits, and the earlier families would otherwise decide the later ones' figures.
run stack-pipe     -bench 'BenchmarkCopy$|BenchmarkPipeGoodput|BenchmarkWorkerPath' -benchtime 2s ./stack/
run stack-mptcp    -bench 'BenchmarkCopy$|BenchmarkMPTCPPipeGoodput|BenchmarkMPTCPWorkerPath' -benchtime 2s ./stack/
run stack-xdp      -bench 'XDPIngress' -benchtime 2s ./stack/
run mptcp-conn     -bench 'ConnMemory' -benchtime 2s ./mptcp/conn/
# mptcp-bench loopback and record (issue 5): each prints our stack next to kernel MPTCP
# measured in the same invocation, with the ratio (full output in $out/<name>.txt).
bench() {
  local name=$1; shift
  echo "== $name: mptcp-bench $*" | tee -a "$out/commands.txt"
  if "$out/mptcp-bench" "$@" >"$out/$name.txt" 2>&1; then
    grep -A4 '^Comparison' "$out/$name.txt" || true
  else
    echo "$name failed: see $out/$name.txt"
  fi
}
go build -o "$out/mptcp-bench" ./cmd/mptcp-bench
for sf in 1 2; do
  for mtu in 1500 9000; do
    bench "loopback-$sf-$mtu" loopback --subflows "$sf" --mtu "$mtu" -t 5 --kernel
  done
done
if [ "$(id -u)" -eq 0 ]; then
  bench record record --plot "$out/record.svg"
  # Issue 4 point 9: 200 + 300 Mbit/s paths (tbf in a router namespace), our server sending
  # 256 MiB to a kernel MPTCP client, then kernel -> kernel on the same topology.
  echo "== aggregation: go test -run 'TestXDPMPTCPAggregation$' -count $count -v ./stack/ -mptcp-long" | tee -a "$out/commands.txt"
  go test -run 'TestXDPMPTCPAggregation$' -count "$count" -v ./stack/ -mptcp-long >"$out/aggregation.txt" 2>&1 || echo "aggregation: a run failed (see $out/aggregation.txt)"
  grep -E 'goodput:|first quarter|^(--- |ok|FAIL)' "$out/aggregation.txt" || true
else
  echo "record: skipped (needs root for the namespaced testbed)"
fi
echo "raw output in $out"
