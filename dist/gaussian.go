package dist

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	gmat "gonum.org/v1/gonum/mat"
)

// Gaussian is the isotropic normal law N(Mean·1, Var·I) on R^D.
type Gaussian struct {
	D    int     // dimension
	Var  float64 // per-coordinate variance, > 0
	Mean float64 // the same mean in every coordinate
}

// NewGaussian returns N(mean·1, v·I_d). It returns an error when d < 1 or
// v <= 0.
func NewGaussian(d int, v, mean float64) (*Gaussian, error) {
	if d < 1 {
		return nil, fmt.Errorf("gaussian: dim must be >= 1, got %d", d)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("gaussian: var must be a positive number, got %v", v)
	}
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return nil, fmt.Errorf("gaussian: mean must be finite, got %v", mean)
	}
	return &Gaussian{D: d, Var: v, Mean: mean}, nil
}

// Dim returns D.
func (g *Gaussian) Dim() int { return g.D }

// Sample fills dst with independent draws.
func (g *Gaussian) Sample(rng *rand.Rand, dst *mat.Dense) {
	checkDst("gaussian", g.D, dst)
	s := math.Sqrt(g.Var)
	for i := range dst.Data {
		dst.Data[i] = float32(g.Mean + s*rng.NormFloat64())
	}
}

// Embedded is a Gaussian of rank Rank in D dimensions: x = Q·z with
// z_i ~ N(0, Var) for i < Rank and z_i ~ N(0, Eps) for the D−Rank "dead"
// coordinates (Eps = 0: exactly rank Rank). Q is the identity unless the
// law is rotated, in which case Q is a Haar-random orthogonal matrix drawn
// from the seed given to NewEmbedded. The covariance is Q·diag(z's
// variances)·Qᵀ.
type Embedded struct {
	D, Rank int
	Var     float64 // variance in the live directions
	Eps     float64 // variance in the dead directions (0: none)
	q       *gmat.Dense
}

// NewEmbedded returns the rank-r Gaussian in d dimensions with variance v in
// the live directions and eps in the dead ones. With rotate, the live
// subspace is the span of the first r columns of a random orthogonal matrix
// drawn from seed; otherwise it is the first r coordinates.
func NewEmbedded(d, r int, v, eps float64, rotate bool, seed uint64) (*Embedded, error) {
	if d < 1 {
		return nil, fmt.Errorf("embedded: dim must be >= 1, got %d", d)
	}
	if r < 1 || r > d {
		return nil, fmt.Errorf("embedded: rank must be in [1, dim=%d], got %d", d, r)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("embedded: var must be a positive number, got %v", v)
	}
	if !(eps >= 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("embedded: eps must be a finite number >= 0, got %v", eps)
	}
	e := &Embedded{D: d, Rank: r, Var: v, Eps: eps}
	if rotate {
		e.q = RandomOrthogonal(d, rand.New(rand.NewPCG(seed, 0x656d626564646564)))
	}
	return e, nil
}

// RandomOrthogonal returns a d×d orthogonal matrix drawn from the Haar
// measure: the Q factor of a matrix of standard normals, with the signs of
// its columns fixed so that R has a positive diagonal.
func RandomOrthogonal(d int, rng *rand.Rand) *gmat.Dense {
	a := gmat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr gmat.QR
	qr.Factorize(a)
	var q, r gmat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	for j := 0; j < d; j++ {
		if r.At(j, j) < 0 {
			for i := 0; i < d; i++ {
				q.Set(i, j, -q.At(i, j))
			}
		}
	}
	return &q
}

// Dim returns D.
func (e *Embedded) Dim() int { return e.D }

// Basis returns Q, the D×D orthogonal matrix whose first Rank columns span
// the live subspace (a copy; the identity when not rotated).
func (e *Embedded) Basis() *gmat.Dense {
	if !e.Rotated() {
		return identity(e.D)
	}
	return gmat.DenseCopyOf(e.q)
}

// Rotated reports whether the live subspace is rotated (else it is the first
// Rank coordinates and Basis is the identity).
func (e *Embedded) Rotated() bool { return e.q != nil }

// identity returns the d×d identity matrix.
func identity(d int) *gmat.Dense {
	q := gmat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		q.Set(i, i, 1)
	}
	return q
}

// Cov returns the covariance Q·diag(Var×Rank, Eps×(D−Rank))·Qᵀ.
func (e *Embedded) Cov() *gmat.SymDense {
	q := e.Basis()
	c := gmat.NewSymDense(e.D, nil)
	for i := 0; i < e.D; i++ {
		for j := i; j < e.D; j++ {
			var s float64
			for k := 0; k < e.D; k++ {
				w := e.Var
				if k >= e.Rank {
					w = e.Eps
				}
				s += q.At(i, k) * w * q.At(j, k)
			}
			c.SetSym(i, j, s)
		}
	}
	return c
}

// Sample fills dst with independent draws.
func (e *Embedded) Sample(rng *rand.Rand, dst *mat.Dense) {
	checkDst("embedded", e.D, dst)
	sv, se := math.Sqrt(e.Var), math.Sqrt(e.Eps)
	live := e.Rank
	if e.Eps > 0 {
		live = e.D
	}
	z := make([]float64, e.D)
	for i := 0; i < dst.R; i++ {
		for k := 0; k < e.D; k++ {
			z[k] = 0
			if k < e.Rank {
				z[k] = sv * rng.NormFloat64()
			} else if e.Eps > 0 {
				z[k] = se * rng.NormFloat64()
			}
		}
		row := dst.Row(i)
		if e.q == nil {
			for k := range row {
				row[k] = float32(z[k])
			}
			continue
		}
		raw := e.q.RawMatrix()
		for r := 0; r < e.D; r++ {
			qr := raw.Data[r*raw.Stride : r*raw.Stride+live]
			var s float64
			for k, qv := range qr {
				s += qv * z[k]
			}
			row[r] = float32(s)
		}
	}
}
