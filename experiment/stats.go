package experiment

import (
	"math"
	"slices"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/plot"
)

// chiPDF returns the density of s·Chi(k), the law of ‖x‖ for x ~ N(0, s²I_k).
func chiPDF(k int, s float64) func(r float64) float64 {
	return exact.Chi{K: float64(k), S: s}.Pdf
}

// chiMean returns the mean of s·Chi(k).
func chiMean(k int, s float64) float64 { return exact.Chi{K: float64(k), S: s}.Mean() }

// chiSD returns the standard deviation of s·Chi(k).
func chiSD(k int, s float64) float64 { return exact.Chi{K: float64(k), S: s}.Std() }

// ksChi returns the Kolmogorov–Smirnov statistic of the norms against
// s·Chi(k) (NaN when the sample is empty or holds NaN).
func ksChi(nr []float64, k int, s float64) float64 {
	d, _, err := metrics.KS(nr, exact.Chi{K: float64(k), S: s}.Cdf)
	if err != nil {
		return math.NaN()
	}
	return d
}

// ksLevel is the level of every KS sampling bound in the study (ksCrit's
// alpha): a sample of the law itself exceeds the bound with probability
// 5 %. One home, so that every experiment's "within twice the bound" means
// the same thing.
const ksLevel = 0.05

// ksBound is the study's KS sampling bound for n points: ksCrit at ksLevel.
func ksBound(n int) float64 { return ksCrit(n, ksLevel) }

// ksCrit returns the KS statistic that a sample of n points from the law
// itself exceeds with probability alpha (metrics.KSCritical).
func ksCrit(n int, alpha float64) float64 { return metrics.KSCritical(n, alpha) }

// chiCurve returns the density curve of s·Chi(k) on xs, labelled.
func chiCurve(label string, xs []float64, k int, s float64, dashed bool) plot.Curve {
	return plot.Curve{Label: label, X: xs, Y: curve(xs, chiPDF(k, s)), Dashed: dashed}
}

// ks2 returns the two-sample Kolmogorov–Smirnov statistic of a and b: the
// largest gap between their empirical CDFs (0 when either is empty).
func ks2(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	var i, j int
	d := 0.0
	for i < len(x) && j < len(y) {
		v := min(x[i], y[j])
		for i < len(x) && x[i] == v {
			i++
		}
		for j < len(y) && y[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(x))-float64(j)/float64(len(y))))
	}
	return d
}

// ks2Crit is the two-sample analogue of ksCrit: the statistic two samples
// of sizes n and m from one law exceed with probability alpha
// (asymptotically).
func ks2Crit(n, m int, alpha float64) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) * math.Sqrt(float64(n+m)/float64(n*m))
}

// ratios returns a[i]/b[i] over the seeds both have.
func ratios(a, b []float64) []float64 {
	out := make([]float64, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] / b[i]
	}
	return out
}
