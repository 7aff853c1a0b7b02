package metrics

import (
	"fmt"
	"math"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/mat"
)

// Gaussian is a Gaussian fit of a sample: its mean and covariance (n − 1).
type Gaussian struct {
	Mean []float64
	Cov  *gmat.SymDense
}

// FitGaussian returns the Gaussian fit of the rows of x (Covariance's mean
// and covariance, float64).
func FitGaussian(x *mat.Dense) Gaussian {
	m, c := Covariance(x)
	return Gaussian{Mean: m, Cov: c}
}

// Frechet returns the Fréchet (2-Wasserstein) distance squared between two
// Gaussians, the quantity FID reports:
//
//	‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½.
//
// Both square roots are taken of symmetric positive semi-definite matrices
// through their eigen-decompositions in float64, with eigenvalues below zero
// (rounding) set to zero, which is stabler than the square root of the
// non-symmetric Σ₁Σ₂ that FID implementations take. It returns an error when
// the dimensions differ or an eigensolver fails.
func Frechet(a, b Gaussian) (float64, error) {
	d := len(a.Mean)
	if len(b.Mean) != d || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: Fréchet distance of Gaussians of dimensions %d and %d", d, len(b.Mean))
	}
	var mean float64
	for i := range a.Mean {
		dm := a.Mean[i] - b.Mean[i]
		mean += dm * dm
	}
	s1, err := sqrtPSD(a.Cov)
	if err != nil {
		return 0, err
	}
	var m gmat.Dense
	m.Mul(s1, b.Cov)
	m.Mul(&m, s1)
	inner := gmat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			inner.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	vals, _, err := Eigen(inner, false)
	if err != nil {
		return 0, err
	}
	var cross float64
	for _, v := range vals {
		cross += math.Sqrt(max(v, 0))
	}
	var tr float64
	for i := 0; i < d; i++ {
		tr += a.Cov.At(i, i) + b.Cov.At(i, i)
	}
	return max(mean+tr-2*cross, 0), nil
}

// sqrtPSD returns the symmetric square root V·diag(√max(λ, 0))·Vᵀ of a
// symmetric positive semi-definite matrix.
func sqrtPSD(c *gmat.SymDense) (*gmat.Dense, error) {
	vals, vecs, err := Eigen(c, true)
	if err != nil {
		return nil, err
	}
	d := len(vals)
	scaled := gmat.NewDense(d, d, nil)
	for j, v := range vals {
		s := math.Sqrt(max(v, 0))
		for i := 0; i < d; i++ {
			scaled.Set(i, j, vecs.At(i, j)*s)
		}
	}
	var out gmat.Dense
	out.Mul(scaled, vecs.T())
	return &out, nil
}

// ClassCoverage is the histogram of predicted classes of a sample and its
// entropy: how evenly a generator covers the classes (log K for a uniform
// cover of K classes, 0 for one class).
type ClassCoverage struct {
	Counts  []int   `json:"counts"`
	Entropy float64 `json:"entropy_nats"`
	Max     float64 `json:"max_entropy_nats"` // log K
}

// Coverage counts the classes 0..k−1 in pred and returns the histogram's
// entropy. It panics on a class outside 0..k−1.
func Coverage(pred []int, k int) ClassCoverage {
	c := ClassCoverage{Counts: make([]int, k), Max: math.Log(float64(k))}
	for _, p := range pred {
		if p < 0 || p >= k {
			panic(fmt.Sprintf("metrics: class %d outside 0..%d", p, k-1))
		}
		c.Counts[p]++
	}
	for _, n := range c.Counts {
		if n > 0 {
			q := float64(n) / float64(len(pred))
			c.Entropy -= q * math.Log(q)
		}
	}
	return c
}
