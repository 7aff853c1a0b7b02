package metrics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
)

// Points on a circle in 3 dimensions have intrinsic dimension 1.
func ExampleIntrinsicDim() {
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.New(2000, 3)
	for i := 0; i < x.R; i++ {
		a := 2 * math.Pi * rng.Float64()
		s, c := math.Sincos(a)
		x.Set(i, 0, float32(c))
		x.Set(i, 1, float32(s))
		x.Set(i, 2, float32(0.5*c))
	}
	res, err := metrics.IntrinsicDim(context.Background(), x, x, metrics.IntrinsicOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Printf("TwoNN %.1f, Levina–Bickel (k = 10..20) %.1f\n", res.TwoNN.Dim, res.LBAveraged.Dim)
	// Output:
	// TwoNN 1.0, Levina–Bickel (k = 10..20) 1.0
}
