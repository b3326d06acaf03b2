//go:build !amd64 || purego

package header

// sumImpls lists every implementation usable on this CPU, for tests and
// benchmarks.
func sumImpls() []sumImpl {
	return []sumImpl{{"go", sum64Go}}
}

// copySumImpls lists every copy-and-sum implementation usable on this CPU.
func copySumImpls() []copySumImpl {
	return []copySumImpl{{"go", copySum64Go}}
}
