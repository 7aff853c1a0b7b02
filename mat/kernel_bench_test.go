package mat

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel times each assembly micro-kernel alone on packed panels
// that fit in L1 (kc = 256), next to the FMA peak loop of the same width, so
// the ratio of the two GFLOPS figures is the kernel's efficiency.
func BenchmarkMicroKernel(b *testing.B) {
	for _, k := range SupportedKernels() {
		g := &paths[k]
		const kc = 256
		a := make([]float32, g.mr*kc)
		bb := make([]float32, g.nr*kc)
		c := make([]float32, g.mr*g.nr)
		for i := range a {
			a[i] = float32(i%7) * 0.01
		}
		for i := range bb {
			bb[i] = float32(i%5) * 0.01
		}
		b.Run(fmt.Sprintf("%s/kernel", k), func(b *testing.B) {
			for b.Loop() {
				microKernel(g, g.mr, g.nr, kc, a, 1, g.mr, bb, g.nr, c, g.nr, 1, 0)
			}
			b.ReportMetric(2*float64(g.mr*g.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		if k == Generic {
			continue
		}
		b.Run(fmt.Sprintf("%s/peak", k), func(b *testing.B) {
			var flops float64
			for b.Loop() {
				flops += fmaLoop(k, 1000)
			}
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
