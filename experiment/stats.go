package experiment

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowlab/flowlab/plot"
)

// chiPDF returns the density of s·Chi(k), the law of ‖x‖ for x ~ N(0, s²I_k),
// at r (gonum's Chi density, rescaled).
func chiPDF(k int, s float64) func(r float64) float64 {
	c := distuv.Chi{K: float64(k)}
	return func(r float64) float64 { return c.Prob(r/s) / s }
}

// chiMean returns the mean of s·Chi(k).
func chiMean(k int, s float64) float64 { return s * distuv.Chi{K: float64(k)}.Mean() }

// chiSD returns the standard deviation of s·Chi(k).
func chiSD(k int, s float64) float64 { return s * distuv.Chi{K: float64(k)}.StdDev() }

// ksChi returns the Kolmogorov–Smirnov statistic of the norms against
// s·Chi(k) (NaN when the sample holds NaN).
func ksChi(nr []float64, k int, s float64) float64 {
	c := distuv.Chi{K: float64(k)}
	v := slices.Clone(nr)
	slices.Sort(v)
	n := float64(len(v))
	d := 0.0
	for i, r := range v {
		if math.IsNaN(r) {
			return math.NaN()
		}
		f := c.CDF(r / s)
		// The empirical CDF jumps from i/n to (i+1)/n at v[i].
		d = max(d, float64(i+1)/n-f, f-float64(i)/n)
	}
	return d
}

// ksCrit returns the KS statistic that a sample of n points from the law
// itself exceeds with probability alpha (asymptotic Kolmogorov quantile
// √(−ln(α/2)/2)/√n): below it, a sample is consistent with the law.
func ksCrit(n int, alpha float64) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) / math.Sqrt(float64(n))
}

// chiCurve returns the density curve of s·Chi(k) on xs, labelled.
func chiCurve(label string, xs []float64, k int, s float64, dashed bool) plot.Curve {
	return plot.Curve{Label: label, X: xs, Y: curve(xs, chiPDF(k, s)), Dashed: dashed}
}
