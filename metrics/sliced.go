package metrics

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/flowlab/flowlab/mat"
)

// W2Sorted1D returns the squared 2-Wasserstein distance between the
// empirical measures of two sorted 1-D samples (sizes may differ): the
// integral over u in (0, 1) of (F⁻¹(u) − G⁻¹(u))², exact for step quantile
// functions.
func W2Sorted1D(a, b []float64) float64 {
	n, m := len(a), len(b)
	var s, u float64
	i, j := 0, 0
	for i < n && j < m {
		// Next breakpoint of either quantile function.
		ua, ub := float64(i+1)/float64(n), float64(j+1)/float64(m)
		next := math.Min(ua, ub)
		d := a[i] - b[j]
		s += (next - u) * d * d
		u = next
		if ua <= next {
			i++
		}
		if ub <= next {
			j++
		}
	}
	return s
}

// SlicedW2 returns the sliced 2-Wasserstein distance
//
//	SW2 = √( mean over θ of W2²(θᵀx, θᵀy) )
//
// over nProj directions θ drawn uniformly on the unit sphere from rng; each
// 1-D distance is exact (W2Sorted1D), so the sizes of x and y may differ.
// It panics when the dimensions differ or nProj < 1.
func SlicedW2(x, y *mat.Dense, nProj int, rng *rand.Rand) float64 {
	sameDim("SlicedW2", x, y)
	if nProj < 1 {
		panic("metrics: SlicedW2 needs nProj >= 1")
	}
	d := x.C
	thetas := make([][]float64, nProj)
	for p := range thetas {
		th := make([]float64, d)
		var nn float64
		for nn == 0 {
			nn = 0
			for k := range th {
				th[k] = rng.NormFloat64()
				nn += th[k] * th[k]
			}
		}
		nn = math.Sqrt(nn)
		for k := range th {
			th[k] /= nn
		}
		thetas[p] = th
	}
	res := make([]float64, nProj)
	xf, yf := toF64(x), toF64(y)
	parallelRows(nProj, func(p int) {
		a := project(xf, thetas[p])
		b := project(yf, thetas[p])
		slices.Sort(a)
		slices.Sort(b)
		res[p] = W2Sorted1D(a, b)
	})
	var s float64
	for _, v := range res {
		s += v
	}
	return math.Sqrt(s / float64(nProj))
}

func project(x [][]float64, th []float64) []float64 {
	out := make([]float64, len(x))
	for i, row := range x {
		var s float64
		for k, v := range row {
			s += v * th[k]
		}
		out[i] = s
	}
	return out
}
