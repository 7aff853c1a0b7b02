package coupling_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/mat"
)

func benchCoupling(b *testing.B, c coupling.Coupling, n, d int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x0, x1 := mat.New(n, d), mat.New(n, d)
	fillNormal(rng, x0)
	fillNormal(rng, x1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Couple(context.Background(), rng, x0, x1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExactOT256 is one exact OT coupling of a 256-row batch in 2-D.
func BenchmarkExactOT256(b *testing.B) { benchCoupling(b, &coupling.ExactOT{}, 256, 2) }

// BenchmarkExactOT512x128 is one exact OT coupling of a 512-row batch in 128-D.
func BenchmarkExactOT512x128(b *testing.B) { benchCoupling(b, &coupling.ExactOT{}, 512, 128) }

// BenchmarkSinkhorn256 is one Sinkhorn coupling (ε = 0.05) of 256 rows in 2-D.
func BenchmarkSinkhorn256(b *testing.B) { benchCoupling(b, &coupling.Sinkhorn{Eps: 0.05}, 256, 2) }
