package metrics

import (
	"context"
	"math/rand/v2"
	"testing"
)

func BenchmarkW2_1000x2(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randn(rng, 1000, 2, 1), randn(rng, 1000, 2, 1)
	for b.Loop() {
		if _, err := W2(context.Background(), x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkW2_2000x2(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randn(rng, 2000, 2, 1), randn(rng, 2000, 2, 1)
	for b.Loop() {
		if _, err := W2(context.Background(), x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMMD_2000x784(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randn(rng, 2000, 784, 1), randn(rng, 2000, 784, 1)
	for b.Loop() {
		MMD(x, y, []float64{10, 20, 40})
	}
}

func BenchmarkCovariance_10000x784(b *testing.B) {
	x := randn(rand.New(rand.NewPCG(1, 1)), 10000, 784, 1)
	for b.Loop() {
		Covariance(x)
	}
}
