package exact

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Chi is the law of S·‖x‖ for x ~ N(0, I_K): the Chi distribution with K
// degrees of freedom scaled by S (S = 0 is read as 1). The norm of a
// N(0, s²I_k) sample follows Chi{K: k, S: s}.
type Chi struct {
	K float64
	S float64
}

// NewChi returns the scaled Chi law, or an error unless k > 0 and s > 0.
func NewChi(k, s float64) (Chi, error) {
	if !(k > 0) || math.IsInf(k, 0) || !(s > 0) || math.IsInf(s, 0) {
		return Chi{}, fmt.Errorf("exact: Chi law needs k > 0 and scale > 0, got k=%v, scale=%v", k, s)
	}
	return Chi{K: k, S: s}, nil
}

func (c Chi) scale() float64 {
	if c.S == 0 {
		return 1
	}
	return c.S
}

// LogPdf returns the log density at r:
// log f(r) = (k−1)·log(r/s) − (r/s)²/2 − (k/2−1)·log 2 − lgamma(k/2) − log s.
func (c Chi) LogPdf(r float64) float64 {
	if r < 0 {
		return math.Inf(-1)
	}
	s := c.scale()
	x := r / s
	lg, _ := math.Lgamma(c.K / 2)
	if x == 0 {
		switch {
		case c.K < 1:
			return math.Inf(1)
		case c.K > 1:
			return math.Inf(-1)
		}
		// k = 1: the half-normal density √(2/π)/s at 0 (the (k−1)·log x
		// term is 0, not 0·(−Inf) = NaN).
		return -(c.K/2-1)*math.Ln2 - lg - math.Log(s)
	}
	return (c.K-1)*math.Log(x) - x*x/2 - (c.K/2-1)*math.Ln2 - lg - math.Log(s)
}

// Pdf returns the density at r.
func (c Chi) Pdf(r float64) float64 { return math.Exp(c.LogPdf(r)) }

// Cdf returns P(R ≤ r) = P(k/2, (r/s)²/2), the regularised lower incomplete
// gamma function.
func (c Chi) Cdf(r float64) float64 {
	if r <= 0 {
		return 0
	}
	x := r / c.scale()
	return mathext.GammaIncReg(c.K/2, x*x/2)
}

// Quantile returns the r with Cdf(r) = p, for p in [0, 1].
func (c Chi) Quantile(p float64) float64 {
	if p < 0 || p > 1 || math.IsNaN(p) {
		panic(fmt.Sprintf("exact: Chi.Quantile(%v): p must lie in [0, 1]", p))
	}
	return c.scale() * math.Sqrt(2*mathext.GammaIncRegInv(c.K/2, p))
}

// Mean returns E[R] = s·√2·Γ((k+1)/2)/Γ(k/2), computed through lgamma so that
// large k does not overflow.
func (c Chi) Mean() float64 {
	a, _ := math.Lgamma((c.K + 1) / 2)
	b, _ := math.Lgamma(c.K / 2)
	return c.scale() * math.Sqrt2 * math.Exp(a-b)
}

// Var returns Var[R] = s²·(k − (E[R]/s)²).
func (c Chi) Var() float64 {
	m := c.Mean() / c.scale()
	v := c.K - m*m
	if v < 0 { // rounding for very large k
		v = 0
	}
	return c.scale() * c.scale() * v
}

// Std returns the standard deviation √Var.
func (c Chi) Std() float64 { return math.Sqrt(c.Var()) }
