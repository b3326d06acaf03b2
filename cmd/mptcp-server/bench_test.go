package main

import "testing"

// Generating the /bytes/N payload: must not allocate per read.
func BenchmarkPatternRead(b *testing.B) {
	const chunk = 256 << 10
	p := &patternReader{size: 1 << 62}
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
