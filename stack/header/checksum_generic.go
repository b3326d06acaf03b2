//go:build !amd64 || purego

package header

// sumImpls lists every implementation usable on this CPU, for tests and
// benchmarks.
func sumImpls() []sumImpl {
	return []sumImpl{{"go", sum64Go}}
}
