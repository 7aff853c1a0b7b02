package solve_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// BenchmarkRK4Gauss128 integrates a 1024×128 batch along the exact Gaussian
// field with RK4, 25 steps (100 evaluations): the solver's own overhead.
func BenchmarkRK4Gauss128(b *testing.B) {
	g := exact.Isotropic(128, 0.5, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	x0 := mat.New(1024, 128)
	for i := range x0.Data {
		x0.Data[i] = float32(rng.NormFloat64())
	}
	x := x0.Clone()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(x.Data, x0.Data)
		if _, err := solve.Integrate(context.Background(), g, x, solve.Options{Method: solve.RK4, Steps: 25}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExactDivergence8 computes the exact divergence (8 JVPs) of a
// 512×8 batch.
func BenchmarkExactDivergence8(b *testing.B) {
	g := exact.Isotropic(8, 0.5, 1)
	x := mat.New(512, 8)
	div := make([]float64, 512)
	for i := 0; i < b.N; i++ {
		solve.Divergence(g, 0.5, x, div)
	}
}
