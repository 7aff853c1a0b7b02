package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/flowlab/flowlab/mat"
	gmat "gonum.org/v1/gonum/mat"
)

// Covariance returns the column means of x and its sample covariance
// (n − 1 in the denominator, as numpy.cov), computed in float64 in two
// passes (means first, then centred cross products), so that constant
// columns give exactly zero rows. Work is split by output rows; every entry
// is reduced over the data rows in order, so the result does not depend on
// GOMAXPROCS. It panics when x has fewer than 2 rows.
func Covariance(x *mat.Dense) (mean []float64, cov *gmat.SymDense) {
	n, d := x.R, x.C
	if n < 2 {
		panic(fmt.Sprintf("metrics: Covariance needs at least 2 rows, got %s", x.Shape()))
	}
	mean = make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	c := make([]float64, d*d) // upper triangle used
	const block = 256
	b := make([]float64, block*d)
	for r0 := 0; r0 < n; r0 += block {
		r1 := min(r0+block, n)
		for r := r0; r < r1; r++ {
			row := x.Row(r)
			br := b[(r-r0)*d : (r-r0+1)*d]
			for j, v := range row {
				br[j] = float64(v) - mean[j]
			}
		}
		rows := r1 - r0
		parallelRows(d, func(i int) {
			ci := c[i*d+i : (i+1)*d]
			r := 0
			// Four data rows at a time: one load and store of ci per four
			// products. The order of the sums is fixed, so is the result.
			for ; r+4 <= rows; r += 4 {
				b0 := b[r*d+i : (r+1)*d]
				b1 := b[(r+1)*d+i : (r+2)*d]
				b2 := b[(r+2)*d+i : (r+3)*d]
				b3 := b[(r+3)*d+i : (r+4)*d]
				a0, a1, a2, a3 := b0[0], b1[0], b2[0], b3[0]
				b1, b2, b3 = b1[:len(b0)], b2[:len(b0)], b3[:len(b0)]
				ci := ci[:len(b0)]
				for j, v := range b0 {
					ci[j] += a0*v + a1*b1[j] + a2*b2[j] + a3*b3[j]
				}
			}
			for ; r < rows; r++ {
				br := b[r*d+i : (r+1)*d]
				a := br[0]
				for j, v := range br {
					ci[j] += a * v
				}
			}
		})
	}
	cov = gmat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			cov.SetSym(i, j, c[i*d+j]/float64(n-1))
		}
	}
	return mean, cov
}

// Eigen returns the eigenvalues of the symmetric matrix c in descending
// order and, when vectors is set, the matching orthonormal eigenvectors as
// the columns of a matrix, using gonum's symmetric eigensolver (LAPACK's
// Dsyev) in float64. It returns an error when the solver does not converge.
func Eigen(c *gmat.SymDense, vectors bool) ([]float64, *gmat.Dense, error) {
	var es gmat.EigenSym
	if !es.Factorize(c, vectors) {
		return nil, nil, fmt.Errorf("metrics: symmetric eigensolver did not converge")
	}
	asc := es.Values(nil)
	n := len(asc)
	vals := make([]float64, n)
	for i, v := range asc {
		vals[n-1-i] = v
	}
	if !vectors {
		return vals, nil, nil
	}
	var ev gmat.Dense
	es.VectorsTo(&ev)
	out := gmat.NewDense(n, n, nil)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			out.Set(i, j, ev.At(i, n-1-j))
		}
	}
	return vals, out, nil
}

// NumPyRankTol returns NumPy's default tolerance for the numerical rank of
// a d×d symmetric matrix with largest absolute eigenvalue lmax:
// numpy.linalg.matrix_rank uses σ_max · max(M, N) · eps, with eps = 2⁻⁵²
// (float64 machine epsilon) and, for a symmetric matrix, σ_max = |λ|_max.
func NumPyRankTol(lmax float64, d int) float64 {
	return math.Abs(lmax) * float64(d) * 0x1p-52
}

// CountAbove returns how many eigenvalues are strictly greater than thr in
// absolute value.
func CountAbove(eigs []float64, thr float64) int {
	k := 0
	for _, v := range eigs {
		if math.Abs(v) > thr {
			k++
		}
	}
	return k
}

// CountExplained returns the smallest k such that the k largest eigenvalues
// (eigs sorted in descending order) hold at least the fraction frac of
// their total; negative rounding-level eigenvalues count as 0.
func CountExplained(eigs []float64, frac float64) int {
	var total float64
	for _, v := range eigs {
		total += math.Max(v, 0)
	}
	var s float64
	for k, v := range eigs {
		s += math.Max(v, 0)
		if s >= frac*total {
			return k + 1
		}
	}
	return len(eigs)
}

// Count is one count of eigenvalues with the cut that gave it.
type Count struct {
	Cut   float64 `json:"cut"`   // the fraction of variance, or the eigenvalue threshold
	Count int     `json:"count"` // the number of components
}

// SpectrumOptions choose the cuts Spectrum reports.
type SpectrumOptions struct {
	// RankTol is the eigenvalue tolerance of the numerical rank; 0 means
	// NumPy's default, NumPyRankTol(λ_max, D).
	RankTol float64
	// Fractions of explained variance to report counts for (e.g. 0.95, 0.99).
	Fractions []float64
	// Thresholds: report how many eigenvalues exceed each (e.g. 0.012).
	Thresholds []float64
}

// SpectrumResult is the covariance spectrum of a sample and the counts
// derived from it, each with the cut that produced it.
type SpectrumResult struct {
	N           int       `json:"n"`           // sample size
	D           int       `json:"d"`           // dimension
	NonConstant int       `json:"nonconstant"` // columns that are not constant
	Eigenvalues []float64 `json:"eigenvalues"` // of the D×D covariance (n − 1), descending
	Total       float64   `json:"total_variance"`
	Rank        int       `json:"rank"`      // eigenvalues with |λ| > RankTol
	RankTol     float64   `json:"rank_tol"`  // the tolerance used
	RankRule    string    `json:"rank_rule"` // how RankTol was chosen
	Explained   []Count   `json:"explained"` // components for each fraction of variance
	Above       []Count   `json:"above"`     // eigenvalues above each threshold
}

// Spectrum computes the covariance of x (Covariance), its eigenvalues
// (Eigen), and the numerical rank and counts opt asks for. The numerical
// rank is that of the D×D covariance matrix itself, with NumPy's rule
// unless opt.RankTol is set. It returns an error when x has fewer than 2
// rows or the eigensolver fails.
func Spectrum(x *mat.Dense, opt SpectrumOptions) (*SpectrumResult, error) {
	if x.R < 2 {
		return nil, fmt.Errorf("spectrum: need at least 2 points, got %d", x.R)
	}
	_, cov := Covariance(x)
	eigs, _, err := Eigen(cov, false)
	if err != nil {
		return nil, err
	}
	res := &SpectrumResult{N: x.R, D: x.C, Eigenvalues: eigs, NonConstant: NonConstant(x)}
	for _, v := range eigs {
		res.Total += math.Max(v, 0)
	}
	lmax := 0.0
	for _, v := range eigs {
		lmax = math.Max(lmax, math.Abs(v))
	}
	if opt.RankTol > 0 {
		res.RankTol, res.RankRule = opt.RankTol, "given"
	} else {
		res.RankTol = NumPyRankTol(lmax, x.C)
		res.RankRule = fmt.Sprintf("numpy default: |λ|max·D·eps = %.6g·%d·2⁻⁵² on the %d×%d covariance", lmax, x.C, x.C, x.C)
	}
	res.Rank = CountAbove(eigs, res.RankTol)
	for _, f := range opt.Fractions {
		res.Explained = append(res.Explained, Count{Cut: f, Count: CountExplained(eigs, f)})
	}
	for _, t := range opt.Thresholds {
		res.Above = append(res.Above, Count{Cut: t, Count: CountAbove(eigs, t)})
	}
	return res, nil
}

// NonConstant returns the number of columns of x that take more than one
// value.
func NonConstant(x *mat.Dense) int {
	if x.R == 0 {
		return 0
	}
	k := 0
	first := x.Row(0)
	varies := make([]bool, x.C)
	for i := 1; i < x.R; i++ {
		for j, v := range x.Row(i) {
			if v != first[j] {
				varies[j] = true
			}
		}
	}
	for _, v := range varies {
		if v {
			k++
		}
	}
	return k
}

// sortedDesc reports whether v is in descending order (for tests).
func sortedDesc(v []float64) bool {
	return slices.IsSortedFunc(v, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
}
