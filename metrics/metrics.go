// Package metrics measures samples against each other and against known
// laws: exact W2 by optimal assignment, sliced Wasserstein, MMD with a
// multi-scale RBF kernel, energy distance, the Kolmogorov–Smirnov statistic
// against a CDF (a scaled Chi law is provided), mode coverage for the 8
// gaussians, norm statistics, and the covariance spectrum with its
// numerical rank.
//
// Samples come in as float32 matrices (one point per row, as the rest of
// flowlab holds them); every computation is done in float64. Parallel work
// is split by output rows and reduced in a fixed order, so results do not
// depend on GOMAXPROCS.
package metrics

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/flowlab/flowlab/mat"
)

// toF64 returns the rows of x as float64.
func toF64(x *mat.Dense) [][]float64 {
	out := make([][]float64, x.R)
	buf := make([]float64, len(x.Data))
	for i := range out {
		out[i] = buf[i*x.C : (i+1)*x.C]
		for j, v := range x.Row(i) {
			out[i][j] = float64(v)
		}
	}
	return out
}

// sameDim panics when x and y have different numbers of columns.
func sameDim(op string, x, y *mat.Dense) {
	if x.C != y.C {
		panic(fmt.Sprintf("metrics: %s: samples of different dimension: %s and %s", op, x.Shape(), y.Shape()))
	}
}

// parallelRows calls f(i) for every i in [0, n) on up to GOMAXPROCS
// goroutines, handing out rows in an interleaved order. Each f(i) must only
// write results for row i, so the outcome does not depend on the split.
func parallelRows(n int, f func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += w {
				f(i)
			}
		}(g)
	}
	wg.Wait()
}

// sqdist returns ‖a − b‖².
func sqdist(a, b []float64) float64 {
	var s float64
	for k, v := range a {
		d := v - b[k]
		s += d * d
	}
	return s
}
