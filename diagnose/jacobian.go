package diagnose

import (
	"math"
	"math/rand/v2"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// maxBatchRows bounds the rows of one batched JVP (points × tangents).
const maxBatchRows = 4096

// pointStats is what one time's Jacobians give, per point.
type pointStats struct {
	sigma   []float64 // n×k row-major: singular values of ∂v/∂x, descending
	logNorm []float64 // λmax((J+Jᵀ)/2)
	div     []float64 // tr J
}

// fullJacobians calls use(i, J) with the Jacobian ∂v/∂x (row-major D×D,
// float64) of every row i of x at time t, from batched JVPs: point i's
// tangents e_1..e_D in D rows of one batch, so that column j of J_i is the
// JVP of the j-th.
func fullJacobians(f solve.JVPField, t float64, x *mat.Dense, use func(i int, j []float64)) {
	d := x.C
	per := max(1, maxBatchRows/d)
	jac := make([]float64, d*d)
	var xs, dx, out, dout mat.Dense
	for p0 := 0; p0 < x.R; p0 += per {
		p1 := min(p0+per, x.R)
		rows := (p1 - p0) * d
		for _, m := range []*mat.Dense{&xs, &dx, &out, &dout} {
			m.Reshape(rows, d)
		}
		clear(dx.Data)
		for p := p0; p < p1; p++ {
			for j := 0; j < d; j++ {
				r := (p-p0)*d + j
				copy(xs.Row(r), x.Row(p))
				dx.Data[r*d+j] = 1
			}
		}
		f.JVP(t, &xs, &dx, &out, &dout)
		for p := p0; p < p1; p++ {
			for j := 0; j < d; j++ {
				col := dout.Row((p-p0)*d + j)
				for a, v := range col {
					jac[a*d+j] = float64(v)
				}
			}
			use(p, jac)
		}
	}
}

// fullSpectra returns the singular values, log-norms and divergences of the
// Jacobians at the rows of x, by gonum's SVD and symmetric eigensolver in
// float64.
func fullSpectra(f solve.JVPField, t float64, x *mat.Dense) pointStats {
	d := x.C
	st := pointStats{sigma: make([]float64, x.R*d), logNorm: make([]float64, x.R), div: make([]float64, x.R)}
	sym := gmat.NewSymDense(d, nil)
	fullJacobians(f, t, x, func(i int, j []float64) {
		copy(st.sigma[i*d:(i+1)*d], singularValues(j, d, d))
		var tr float64
		for a := 0; a < d; a++ {
			tr += j[a*d+a]
			for b := a; b < d; b++ {
				sym.SetSym(a, b, (j[a*d+b]+j[b*d+a])/2)
			}
		}
		st.div[i] = tr
		var es gmat.EigenSym
		if !es.Factorize(sym, false) {
			st.logNorm[i] = math.NaN()
			return
		}
		ev := es.Values(nil)
		st.logNorm[i] = ev[len(ev)-1]
	})
	return st
}

// singularValues returns the singular values (descending) of the r×c
// row-major matrix a, or NaNs when the SVD does not converge.
func singularValues(a []float64, r, c int) []float64 {
	var svd gmat.SVD
	if !svd.Factorize(gmat.NewDense(r, c, a), gmat.SVDNone) {
		s := make([]float64, min(r, c))
		for i := range s {
			s[i] = math.NaN()
		}
		return s
	}
	return svd.Values(nil)
}

// VJPField is a JVPField that also pulls a cotangent back through itself:
// VJP writes (∂v/∂x)ᵀ·u, row by row, into dst (x's shape). diagnose needs it
// only above the full-spectrum cap, for the top singular values and the
// log-norm by power iteration.
type VJPField interface {
	solve.JVPField
	VJP(t float64, x, u, dst *mat.Dense)
}

// topSpectra estimates, at every row of x, the k largest singular values of
// J by subspace iteration on JᵀJ (iters rounds of k JVPs and k VJPs per
// point, then Rayleigh–Ritz: the singular values of J·V), λmax((J+Jᵀ)/2) by
// power iteration on (J+Jᵀ)/2 + σ₁I (positive semi-definite, so its top
// eigenvalue is the one sought, shifted), and the exact divergence (D JVPs).
func topSpectra(f VJPField, t float64, x *mat.Dense, k, iters int, rng *rand.Rand) pointStats {
	n, d := x.R, x.C
	k = min(k, d)
	st := pointStats{sigma: make([]float64, n*k), logNorm: make([]float64, n), div: make([]float64, n)}
	solve.Divergence(f, t, x, st.div)
	xs := mat.New(n*k, d)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			copy(xs.Row(i*k+j), x.Row(i))
		}
	}
	v, w, z, out := mat.New(n*k, d), mat.New(n*k, d), mat.New(n*k, d), mat.New(n*k, d)
	for i := range v.Data {
		v.Data[i] = float32(rng.NormFloat64())
	}
	orthonormalize(v, n, k)
	for range iters {
		f.JVP(t, xs, v, out, w)
		f.VJP(t, xs, w, z)
		v, z = z, v
		orthonormalize(v, n, k)
	}
	f.JVP(t, xs, v, out, w)
	wi := make([]float64, d*k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			for a, val := range w.Row(i*k + j) {
				wi[a*k+j] = float64(val)
			}
		}
		copy(st.sigma[i*k:(i+1)*k], singularValues(wi, d, k))
	}
	logNormPower(f, t, x, st, k, 4*iters, rng)
	return st
}

// logNormPower fills st.logNorm by power iteration on S + σ₁I, S = (J+Jᵀ)/2.
func logNormPower(f VJPField, t float64, x *mat.Dense, st pointStats, k, iters int, rng *rand.Rand) {
	n, d := x.R, x.C
	u, ju, jtu, out := mat.New(n, d), mat.New(n, d), mat.New(n, d), mat.New(n, d)
	for i := range u.Data {
		u.Data[i] = float32(rng.NormFloat64())
	}
	orthonormalize(u, n, 1)
	apply := func() {
		f.JVP(t, x, u, out, ju)
		f.VJP(t, x, u, jtu)
	}
	for range iters {
		apply()
		for i := 0; i < n; i++ {
			s1 := st.sigma[i*k]
			ur, a, b := u.Row(i), ju.Row(i), jtu.Row(i)
			for c := range ur {
				ur[c] = float32((float64(a[c])+float64(b[c]))/2 + s1*float64(ur[c]))
			}
		}
		orthonormalize(u, n, 1)
	}
	apply()
	for i := 0; i < n; i++ {
		var q float64
		for c, uv := range u.Row(i) {
			q += float64(uv) * (float64(ju.At(i, c)) + float64(jtu.At(i, c))) / 2
		}
		st.logNorm[i] = q
	}
}

// orthonormalize makes each point's k consecutive rows of v orthonormal
// (modified Gram–Schmidt in float64). A row that vanishes (a zero Jacobian
// product) is replaced by a basis vector orthogonalised against the others,
// and left zero only when that vanishes too; NaN rows stay NaN.
func orthonormalize(v *mat.Dense, n, k int) {
	d := v.C
	buf := make([]float64, k*d)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			r := buf[j*d : (j+1)*d]
			for c, x := range v.Row(i*k + j) {
				r[c] = float64(x)
			}
			for try := 0; try < d && !gramSchmidt(r, buf[:j*d], d); try++ {
				clear(r)
				r[(j+try)%d] = 1
			}
			for c, x := range r {
				v.Data[(i*k+j)*d+c] = float32(x)
			}
		}
	}
}

// gramSchmidt removes from r its components along the orthonormal rows of
// q and normalises it; false when nothing (or less than a rounding error)
// is left.
func gramSchmidt(r, q []float64, d int) bool {
	var before float64
	for _, x := range r {
		before += x * x
	}
	for l := 0; l < len(q)/d; l++ {
		ql := q[l*d : (l+1)*d]
		var dot float64
		for c := range r {
			dot += r[c] * ql[c]
		}
		for c := range r {
			r[c] -= dot * ql[c]
		}
	}
	var nn float64
	for _, x := range r {
		nn += x * x
	}
	if math.IsNaN(nn) {
		return true
	}
	if !(nn > 1e-24*before) || nn == 0 {
		return false
	}
	nn = math.Sqrt(nn)
	for c := range r {
		r[c] /= nn
	}
	return true
}
