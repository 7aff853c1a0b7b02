package mat

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkElementwise times the fused element-wise kernels on a 512×256
// layer (toy2d's hidden layers) on every kernel path, in elements per ns
// (including the copies that refresh z and g).
func BenchmarkElementwise(b *testing.B) {
	const r, c = 512, 256
	rng := rand.New(rand.NewPCG(1, 2))
	z, out, g := randDense(rng, r, c), New(r, c), randDense(rng, r, c)
	g0 := g.Clone()
	bias := randDense(rng, 1, c).Data
	dst := make([]float32, c)
	ops := []struct {
		name string
		f    func()
	}{
		{"BiasSiLU", func() { BiasAct(SiLU, z, bias, out) }},
		{"BiasReLU", func() { BiasAct(ReLU, z, bias, out) }},
		{"SiLUBackward", func() { ActBackward(SiLU, z, g) }},
		{"ColSumAdd", func() { ColSumAdd(g, dst) }},
	}
	for _, k := range SupportedKernels() {
		for _, op := range ops {
			b.Run(fmt.Sprintf("%s/%s", k, op.name), func(b *testing.B) {
				restore, _ := SetKernel(k)
				defer restore()
				b.ReportAllocs()
				for b.Loop() {
					// Fresh inputs each time (the copies cost the same on
					// every path): repeated updates would drift into
					// subnormals, which are slow everywhere.
					copy(z.Data, g0.Data)
					copy(g.Data, g0.Data)
					op.f()
				}
				b.ReportMetric(float64(r*c)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
			})
		}
	}
}

// BenchmarkSiLUHidden times SiLU alone on one core over a 512×64 block
// (one Eval chunk of the tiny net's hidden layer, 128 KiB, in L2), in
// elements per ns: fwd is bias + SiLU with a zero bias (so z is unchanged
// from call to call and nothing needs refreshing), bwd the gradient,
// including the copy that refreshes g (repeated products would drift into
// subnormals).
func BenchmarkSiLUHidden(b *testing.B) {
	const r, c = 512, 64
	rng := rand.New(rand.NewPCG(3, 4))
	z, out, g := randDense(rng, r, c), New(r, c), New(r, c)
	g0 := randDense(rng, r, c)
	bias := make([]float32, c)
	for _, k := range SupportedKernels() {
		for _, op := range []struct {
			name string
			f    func()
		}{
			{"fwd", func() { Threads(1).BiasAct(SiLU, z, bias, out) }},
			{"bwd", func() { copy(g.Data, g0.Data); Threads(1).ActBackward(SiLU, z, g) }},
		} {
			b.Run(k.String()+"/"+op.name, func(b *testing.B) {
				restore, _ := SetKernel(k)
				defer restore()
				for b.Loop() {
					op.f()
				}
				b.ReportMetric(float64(r*c)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
			})
		}
	}
}
