package mat

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemmBenchCases are the shapes whose speed matters: a square reference, the
// three products of one MNIST-sized layer's backprop (batch 4096, in 784,
// out 256: forward X·W, dW = Xᵀ·G, dX = G·Wᵀ) and the small and medium layers
// of the 2-D and Gaussian MLPs.
var gemmBenchCases = []struct {
	name    string
	tA, tB  bool
	m, n, k int
}{
	{"1024x1024x1024", false, false, 1024, 1024, 1024},
	{"fwd_XW_4096x256x784", false, false, 4096, 256, 784},
	{"dW_XtG_784x256x4096", true, false, 784, 256, 4096},
	{"dX_GWt_4096x784x256", false, true, 4096, 784, 256},
	{"fwd_XW_4096x784x256", false, false, 4096, 784, 256},
	{"dW_XtG_256x784x4096", true, false, 256, 784, 4096},
	{"dX_GWt_4096x256x784", false, true, 4096, 256, 784},
	{"small_256x64x65", false, false, 256, 64, 65},
	{"small_dW_65x64x256", true, false, 65, 64, 256},
	{"small_dX_256x65x64", false, true, 256, 65, 64},
	{"mid_512x256x257", false, false, 512, 256, 257},
	{"mid_dW_257x256x512", true, false, 257, 256, 512},
	{"mid_dX_512x257x256", false, true, 512, 257, 256},
}

// BenchmarkGemm reports GFLOPS (2·m·n·k per product) for each case on every
// kernel path this CPU supports.
func BenchmarkGemm(b *testing.B) {
	for _, kern := range SupportedKernels() {
		for _, bc := range gemmBenchCases {
			b.Run(fmt.Sprintf("%s/%s", kern, bc.name), func(b *testing.B) {
				restore, _ := SetKernel(kern)
				defer restore()
				rng := rand.New(rand.NewPCG(1, 1))
				ar, ac := bc.m, bc.k
				if bc.tA {
					ar, ac = ac, ar
				}
				br, bcc := bc.k, bc.n
				if bc.tB {
					br, bcc = bcc, br
				}
				x, y, c := randDense(rng, ar, ac), randDense(rng, br, bcc), New(bc.m, bc.n)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					Gemm(bc.tA, bc.tB, 1, x, y, 0, c)
				}
				flops := 2 * float64(bc.m) * float64(bc.n) * float64(bc.k)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}
