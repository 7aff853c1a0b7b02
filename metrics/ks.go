package metrics

import (
	"fmt"
	"math"
	"slices"
)

// KS returns the Kolmogorov–Smirnov statistic D = sup_x |F_n(x) − F(x)| of
// the sample against the continuous CDF cdf, and the asymptotic p-value of
// D for a sample of that size (KSPValue). It returns an error for an empty
// sample or one holding NaN.
func KS(sample []float64, cdf func(float64) float64) (d, p float64, err error) {
	n := len(sample)
	if n == 0 {
		return 0, 0, fmt.Errorf("KS: empty sample")
	}
	s := slices.Clone(sample)
	for i, v := range s {
		if math.IsNaN(v) {
			return 0, 0, fmt.Errorf("KS: sample value %d is NaN", i)
		}
	}
	slices.Sort(s)
	for i, v := range s {
		f := cdf(v)
		// F_n jumps from i/n to (i+1)/n at s[i].
		d = math.Max(d, math.Max(float64(i+1)/float64(n)-f, f-float64(i)/float64(n)))
	}
	return d, KSPValue(d, n), nil
}

// KSCritical returns the KS statistic that a sample of n points from the
// law itself exceeds with probability alpha, by the first term of the
// Kolmogorov limit law: √(−ln(α/2)/2)/√n (1.358/√n at α = 0.05). Below it,
// a sample is consistent with the law at level alpha.
func KSCritical(n int, alpha float64) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) / math.Sqrt(float64(n))
}

// KSPValue returns P(D_n ≥ d) for the one-sample KS statistic of n points
// under the null hypothesis, by the Kolmogorov limit law with Stephens's
// finite-n correction: Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} at
// λ = (√n + 0.12 + 0.11/√n)·d (Stephens 1970; accurate to a few per cent of
// the p-value for n ≥ 5).
func KSPValue(d float64, n int) float64 {
	sn := math.Sqrt(float64(n))
	l := (sn + 0.12 + 0.11/sn) * d
	if l < 0.2 {
		return 1
	}
	var q float64
	for k := 1; k <= 100; k++ {
		term := math.Exp(-2 * float64(k*k) * l * l)
		if k%2 == 1 {
			q += term
		} else {
			q -= term
		}
		if term < 1e-16 {
			break
		}
	}
	return math.Min(math.Max(2*q, 0), 1)
}
