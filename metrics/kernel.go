package metrics

import (
	"math"
	"slices"

	"github.com/flowlab/flowlab/mat"
	gmat "gonum.org/v1/gonum/mat"
)

// pairMean returns (1/(n·m)) Σ_i Σ_j k(‖x_i − y_j‖²). Each row is reduced
// in order and the rows in order, so the result does not depend on
// GOMAXPROCS. In 16 or more dimensions the squared distances come from the
// Gram matrix, ‖x‖² + ‖y‖² − 2x·y (clamped at 0), one block of rows at a
// time through gonum's Dgemm (which splits work by output blocks, each
// summed over the inner dimension in a fixed order); below that, directly.
// When x and y are the same slice the diagonal distances are exactly 0.
func pairMean(x, y [][]float64, k func(d2 float64) float64) float64 {
	self := len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	rows := make([]float64, len(x))
	if len(x) == 0 || len(y) == 0 {
		return 0
	}
	d := len(x[0])
	if d < 16 {
		parallelRows(len(x), func(i int) {
			var s float64
			for _, yj := range y {
				s += k(sqdist(x[i], yj))
			}
			rows[i] = s
		})
	} else {
		yn := sqnorms(y)
		ym := gmat.NewDense(len(y), d, nil)
		for j, r := range y {
			ym.SetRow(j, r)
		}
		const block = 256
		for r0 := 0; r0 < len(x); r0 += block {
			r1 := min(r0+block, len(x))
			xb := gmat.NewDense(r1-r0, d, nil)
			for i := r0; i < r1; i++ {
				xb.SetRow(i-r0, x[i])
			}
			xn := sqnorms(x[r0:r1])
			var g gmat.Dense
			g.Mul(xb, ym.T())
			parallelRows(r1-r0, func(i int) {
				var s float64
				gi := g.RawRowView(i)
				for j, v := range gi {
					d2 := math.Max(xn[i]+yn[j]-2*v, 0)
					if self && j == r0+i {
						d2 = 0 // exact, where the Gram form leaves rounding
					}
					s += k(d2)
				}
				rows[r0+i] = s
			})
		}
	}
	var s float64
	for _, v := range rows {
		s += v
	}
	return s / float64(len(x)) / float64(len(y))
}

func sqnorms(x [][]float64) []float64 {
	out := make([]float64, len(x))
	for i, r := range x {
		var s float64
		for _, v := range r {
			s += v * v
		}
		out[i] = s
	}
	return out
}

// MMD returns the maximum mean discrepancy between the samples x and y,
// the square root of the biased (V-statistic) estimate
//
//	MMD² = mean k(x, x') + mean k(y, y') − 2 mean k(x, y),
//
// with the multi-scale RBF kernel k(a, b) = (1/S) Σ_s exp(−‖a − b‖²/(2s²))
// over the bandwidths in scales (nil: MedianScales(x, y)). It is 0 for
// identical samples and ≥ 0 always (negative rounding is clamped). It
// panics when the dimensions differ or a scale is not positive.
func MMD(x, y *mat.Dense, scales []float64) float64 {
	sameDim("MMD", x, y)
	if scales == nil {
		scales = MedianScales(x, y)
	}
	inv := make([]float64, len(scales))
	for i, s := range scales {
		if !(s > 0) {
			panic("metrics: MMD scale must be > 0")
		}
		inv[i] = 1 / (2 * s * s)
	}
	k := func(d2 float64) float64 {
		var s float64
		for _, c := range inv {
			s += math.Exp(-d2 * c)
		}
		return s / float64(len(inv))
	}
	xf, yf := toF64(x), toF64(y)
	m2 := pairMean(xf, xf, k) + pairMean(yf, yf, k) - 2*pairMean(xf, yf, k)
	return math.Sqrt(math.Max(m2, 0))
}

// MedianScales returns the bandwidths {¼, ½, 1, 2, 4}·h, where h is the
// median distance between distinct points of the pooled sample (its first
// 1000 rows at most, so the cost stays bounded and deterministic), or 1 when
// all those points coincide.
func MedianScales(x, y *mat.Dense) []float64 {
	sameDim("MedianScales", x, y)
	pool := append(toF64(x.Rows(0, min(x.R, 500))), toF64(y.Rows(0, min(y.R, 500)))...)
	var d []float64
	for i := range pool {
		for j := i + 1; j < len(pool); j++ {
			d = append(d, math.Sqrt(sqdist(pool[i], pool[j])))
		}
	}
	h := 1.0
	if len(d) > 0 {
		slices.Sort(d)
		if med := d[len(d)/2]; med > 0 {
			h = med
		}
	}
	return []float64{h / 4, h / 2, h, 2 * h, 4 * h}
}

// EnergyDistance returns the (squared) energy distance of Székely and
// Rizzo between the samples, as V-statistics:
//
//	E = 2 mean ‖x − y‖ − mean ‖x − x'‖ − mean ‖y − y'‖,
//
// which is ≥ 0 and 0 exactly when the two empirical measures are equal. It
// panics when the dimensions differ.
func EnergyDistance(x, y *mat.Dense) float64 {
	sameDim("EnergyDistance", x, y)
	xf, yf := toF64(x), toF64(y)
	e := 2*pairMean(xf, yf, math.Sqrt) - pairMean(xf, xf, math.Sqrt) - pairMean(yf, yf, math.Sqrt)
	return math.Max(e, 0)
}
