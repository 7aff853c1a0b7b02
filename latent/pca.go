// Package latent holds encoders that map data to a lower-dimensional latent
// space and back: PCA first (autoencoders may follow). Fitting and the maps
// compute in float64; data goes in and out as float32 matrices.
package latent

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	gmat "gonum.org/v1/gonum/mat"
)

// PCA is a fitted principal component analysis: z = (x − Mean)·V_K and
// x̂ = z·V_Kᵀ + Mean, with V_K the K leading eigenvectors of the sample
// covariance.
type PCA struct {
	Mean       []float64   // column means of the fitted data (length D)
	Components *gmat.Dense // D×D, column k the k-th principal direction (descending variance)
	Variances  []float64   // eigenvalues of the covariance (n − 1), descending (length D)
	K          int         // components kept by Encode and Decode
}

// Options choose how many components a PCA keeps. At most one of Dim and
// Fraction may be set; neither keeps all D.
type Options struct {
	Dim      int     // keep this many components (1..D)
	Fraction float64 // keep the fewest components holding this fraction of the variance (0, 1]
}

// Fit fits a PCA to the rows of x: the covariance and eigenvalues are
// exactly those of metrics.Covariance and metrics.Eigen, so the explained
// variance agrees with metrics.Spectrum. It returns an error for fewer than
// 2 rows, bad options, or a failed eigensolver.
func Fit(x *mat.Dense, opt Options) (*PCA, error) {
	if x.R < 2 {
		return nil, fmt.Errorf("pca: need at least 2 rows, got %d", x.R)
	}
	if opt.Dim != 0 && opt.Fraction != 0 {
		return nil, fmt.Errorf("pca: give a dimension or a fraction of variance, not both")
	}
	if opt.Dim < 0 || opt.Dim > x.C {
		return nil, fmt.Errorf("pca: dim %d is not in 1..%d", opt.Dim, x.C)
	}
	if opt.Fraction < 0 || opt.Fraction > 1 || math.IsNaN(opt.Fraction) {
		return nil, fmt.Errorf("pca: fraction %v is not in (0, 1]", opt.Fraction)
	}
	mean, cov := metrics.Covariance(x)
	vals, vecs, err := metrics.Eigen(cov, true)
	if err != nil {
		return nil, fmt.Errorf("pca: %w", err)
	}
	p := &PCA{Mean: mean, Components: vecs, Variances: vals, K: x.C}
	switch {
	case opt.Dim > 0:
		p.K = opt.Dim
	case opt.Fraction > 0:
		p.K = metrics.CountExplained(vals, opt.Fraction)
	}
	return p, nil
}

// Dim is the data dimension D.
func (p *PCA) Dim() int { return len(p.Mean) }

// WithK returns a copy of p keeping k components (sharing the fit). It
// panics when k is not in 1..D.
func (p *PCA) WithK(k int) *PCA {
	if k < 1 || k > p.Dim() {
		panic(fmt.Sprintf("latent: WithK(%d) for a PCA of dimension %d", k, p.Dim()))
	}
	q := *p
	q.K = k
	return &q
}

// ExplainedRatio returns each component's share of the total variance
// (negative rounding-level eigenvalues count as 0). Data without variance
// (every row the same) has no share to give: every ratio is 0, not NaN.
func (p *PCA) ExplainedRatio() []float64 {
	var tot float64
	for _, v := range p.Variances {
		tot += math.Max(v, 0)
	}
	out := make([]float64, len(p.Variances))
	if tot == 0 {
		return out
	}
	for i, v := range p.Variances {
		out[i] = math.Max(v, 0) / tot
	}
	return out
}

// Explained returns the share of the total variance the kept components
// hold.
func (p *PCA) Explained() float64 {
	var s float64
	for _, v := range p.ExplainedRatio()[:p.K] {
		s += v
	}
	return s
}

// block is the number of rows mapped at a time (bounds float64 scratch).
const block = 2048

// Encode returns z = (x − Mean)·V_K, an x.R×K matrix. It panics when x.C
// is not D.
func (p *PCA) Encode(x *mat.Dense) *mat.Dense {
	d := p.Dim()
	if x.C != d {
		panic(fmt.Sprintf("latent: Encode of %s with a PCA of dimension %d", x.Shape(), d))
	}
	vk := p.Components.Slice(0, d, 0, p.K)
	out := mat.New(x.R, p.K)
	for r0 := 0; r0 < x.R; r0 += block {
		r1 := min(r0+block, x.R)
		xb := gmat.NewDense(r1-r0, d, nil)
		for i := r0; i < r1; i++ {
			for j, v := range x.Row(i) {
				xb.Set(i-r0, j, float64(v)-p.Mean[j])
			}
		}
		var z gmat.Dense
		z.Mul(xb, vk)
		for i := r0; i < r1; i++ {
			row := out.Row(i)
			for k := range row {
				row[k] = float32(z.At(i-r0, k))
			}
		}
	}
	return out
}

// Decode returns x̂ = z·V_Kᵀ + Mean, a z.R×D matrix. It panics when z.C is
// not K.
func (p *PCA) Decode(z *mat.Dense) *mat.Dense {
	d := p.Dim()
	if z.C != p.K {
		panic(fmt.Sprintf("latent: Decode of %s with a PCA keeping %d components", z.Shape(), p.K))
	}
	vk := p.Components.Slice(0, d, 0, p.K)
	out := mat.New(z.R, d)
	for r0 := 0; r0 < z.R; r0 += block {
		r1 := min(r0+block, z.R)
		zb := gmat.NewDense(r1-r0, p.K, nil)
		for i := r0; i < r1; i++ {
			for k, v := range z.Row(i) {
				zb.Set(i-r0, k, float64(v))
			}
		}
		var xb gmat.Dense
		xb.Mul(zb, vk.T())
		for i := r0; i < r1; i++ {
			row := out.Row(i)
			for j := range row {
				row[j] = float32(xb.At(i-r0, j) + p.Mean[j])
			}
		}
	}
	return out
}
