package solve_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// rotField is a GaussianField seen in a rotated basis, v(x) = Q·g(Qᵀx): its
// Jacobian Q·D·Qᵀ is not diagonal, so Hutchinson's estimator has a non-zero
// variance (for a diagonal Jacobian Rademacher probes are exact), and its
// marginal densities are p_t(x) = p_t^g(Qᵀx).
type rotField struct {
	g          *exact.GaussianField
	q          []float64 // k×k orthogonal, row-major
	y, gy, gdy *mat.Dense
}

func newRotField(g *exact.GaussianField, seed uint64) *rotField {
	k := g.Dim()
	rng := rand.New(rand.NewPCG(seed, seed))
	q := make([]float64, k*k)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	// Gram–Schmidt on the rows.
	for i := 0; i < k; i++ {
		ri := q[i*k : (i+1)*k]
		for j := 0; j < i; j++ {
			rj := q[j*k : (j+1)*k]
			var d float64
			for c := range ri {
				d += ri[c] * rj[c]
			}
			for c := range ri {
				ri[c] -= d * rj[c]
			}
		}
		var nrm float64
		for _, v := range ri {
			nrm += v * v
		}
		for c := range ri {
			ri[c] /= math.Sqrt(nrm)
		}
	}
	return &rotField{g: g, q: q, y: &mat.Dense{}, gy: &mat.Dense{}, gdy: &mat.Dense{}}
}

func (r *rotField) Dim() int { return r.g.Dim() }

// apply sets dst = src·Qᵀ (each row x ↦ Q x) or src·Q (x ↦ Qᵀx) when transpose.
func (r *rotField) apply(src, dst *mat.Dense, transpose bool) {
	k := r.g.Dim()
	for i := 0; i < src.R; i++ {
		s, d := src.Row(i), dst.Row(i)
		for a := 0; a < k; a++ {
			var acc float64
			for b := 0; b < k; b++ {
				qab := r.q[a*k+b]
				if transpose {
					qab = r.q[b*k+a]
				}
				acc += qab * float64(s[b])
			}
			d[a] = float32(acc)
		}
	}
}

func (r *rotField) Eval(t float64, x, out *mat.Dense) {
	r.y.Reshape(x.R, x.C)
	r.gy.Reshape(x.R, x.C)
	r.apply(x, r.y, true)
	r.g.Eval(t, r.y, r.gy)
	r.apply(r.gy, out, false)
}

func (r *rotField) JVP(t float64, x, dx, out, dout *mat.Dense) {
	r.Eval(t, x, out)
	r.y.Reshape(x.R, x.C)
	r.gdy.Reshape(x.R, x.C)
	r.apply(dx, r.y, true)
	// g's Jacobian D does not depend on x, so feeding the tangent Qᵀdx as
	// both point and tangent gives dout = Q·D·Qᵀ·dx (gy is discarded).
	r.g.JVP(t, r.y, r.y, r.gy, r.gdy)
	r.apply(r.gdy, dout, false)
}

func (r *rotField) logDensity(t float64, x []float32) float64 {
	k := r.g.Dim()
	y := make([]float64, k)
	for a := 0; a < k; a++ {
		for b := 0; b < k; b++ {
			y[a] += r.q[b*k+a] * float64(x[b])
		}
	}
	return r.g.LogDensity(t, y)
}

// anisoField is N(0, diag var0) → N(0, diag var1) rotated, k = 4.
func anisoField() *rotField {
	g, err := exact.NewGaussianField(make([]float64, 4), []float64{0.5, 1, 2, 0.25},
		make([]float64, 4), []float64{1, 0.5, 1, 3}, interp.Interpolant{})
	if err != nil {
		panic(err)
	}
	return newRotField(g, 5)
}

// TestDivergenceFD checks the exact divergence (Dim JVPs) against a central
// finite-difference trace of the Jacobian of a nonlinear field,
// v_i(x) = tanh(Σ_j W_ij x_j + t)·x_i, in float32 (h = 1e-2: truncation
// ~h²·(third derivative) ≈ 1e-4 and rounding ~1e-7/h = 1e-5 per entry; bound 2e-3 on a
// sum of 3).
func TestDivergenceFD(t *testing.T) {
	w := [9]float64{0.3, -0.5, 0.2, 0.1, 0.4, -0.3, -0.2, 0.6, 0.1}
	f := &tanhField{w: w}
	x := mat.NewFrom(2, 3, []float32{0.5, -1, 0.3, 1.2, 0.1, -0.7})
	div := make([]float64, 2)
	solve.Divergence(f, 0.4, x, div)
	for i := 0; i < 2; i++ {
		var fd float64
		for j := 0; j < 3; j++ {
			xp, xm := x.Clone(), x.Clone()
			xp.Data[i*3+j] += 1e-2
			xm.Data[i*3+j] -= 1e-2
			vp, vm := mat.New(2, 3), mat.New(2, 3)
			f.Eval(0.4, xp, vp)
			f.Eval(0.4, xm, vm)
			fd += float64(vp.Data[i*3+j]-vm.Data[i*3+j]) / float64(xp.Data[i*3+j]-xm.Data[i*3+j])
		}
		if !(math.Abs(fd-div[i]) <= 2e-3) {
			t.Errorf("row %d: divergence %.6f, finite differences %.6f", i, div[i], fd)
		}
	}
	// Hutchinson's estimate with fresh Rademacher probes averages to it.
	z := mat.New(2, 3)
	hs := make([]float64, 2)
	avg := make([]float64, 2)
	rng := rand.New(rand.NewPCG(3, 3))
	const probes = 4000
	for p := 0; p < probes; p++ {
		solve.Rademacher(rng, z)
		solve.HutchinsonDivergence(f, 0.4, x, z, hs)
		for i := range avg {
			avg[i] += hs[i] / probes
		}
	}
	// With Rademacher probes zᵀJz − tr J = Σ_{j≠k} z_j z_k J_jk, whose
	// variance is ½ Σ_{j≠k} (J_jk + J_kj)², exactly. J comes from three JVPs
	// with the basis vectors; the mean of the probes must lie within 4
	// standard errors of the divergence.
	for i := range avg {
		var jac [3][3]float64
		for k := 0; k < 3; k++ {
			e, out, dout := mat.New(2, 3), mat.New(2, 3), mat.New(2, 3)
			e.Data[i*3+k] = 1
			f.JVP(0.4, x, e, out, dout)
			for j := 0; j < 3; j++ {
				jac[j][k] = float64(dout.Data[i*3+j])
			}
		}
		var v float64
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				if j != k {
					v += 0.5 * (jac[j][k] + jac[k][j]) * (jac[j][k] + jac[k][j])
				}
			}
		}
		bound := 4 * math.Sqrt(v/probes)
		t.Logf("row %d: Hutchinson sd %.3f, bound %.4f, error %.4f", i, math.Sqrt(v), bound, avg[i]-div[i])
		if !(math.Abs(avg[i]-div[i]) <= bound) {
			t.Errorf("row %d: Hutchinson mean %.4f, exact %.4f (bound %.4f)", i, avg[i], div[i], bound)
		}
	}
}

type tanhField struct{ w [9]float64 }

func (f *tanhField) Dim() int { return 3 }
func (f *tanhField) Eval(t float64, x, out *mat.Dense) {
	f.JVP(t, x, mat.New(x.R, 3), out, mat.New(x.R, 3))
}

// JVP: v_i = tanh(u_i)·x_i, u = Wx + t; dv_i = (1−tanh²u_i)(W dx)_i·x_i + tanh(u_i)·dx_i.
func (f *tanhField) JVP(t float64, x, dx, out, dout *mat.Dense) {
	for r := 0; r < x.R; r++ {
		xr, dr := x.Row(r), dx.Row(r)
		for i := 0; i < 3; i++ {
			u, du := t, 0.0
			for j := 0; j < 3; j++ {
				u += f.w[i*3+j] * float64(xr[j])
				du += f.w[i*3+j] * float64(dr[j])
			}
			th := math.Tanh(u)
			out.Row(r)[i] = float32(th * float64(xr[i]))
			dout.Row(r)[i] = float32((1-th*th)*du*float64(xr[i]) + th*float64(dr[i]))
		}
	}
}

// TestLogLikelihoodGaussian checks the exact-divergence log-likelihood of the
// rotated anisotropic Gaussian flow against the closed form log N(x1; 0, Σ1):
// backward from data points (LogLikelihood), forward from source points
// (PushLogDensity), and the two against each other at the same points.
// Bound 1e-4 nats: RK4 at 100 steps is accurate to ~1e-8 on this field, and
// float32 accumulation of the state and the log-density (|ℓ| ~ 1, 400
// evaluations) leaves errors of order 1e-6 (of order 1e-5 for dopri5 at
// tolerance 1e-6); any real mistake, a sign or a missing dimension, costs
// ≥ 0.3 nats.
func TestLogLikelihoodGaussian(t *testing.T) {
	f := anisoField()
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 64
	ctx := context.Background()
	opts := solve.LikOptions{Options: solve.Options{Method: solve.RK4, Steps: 100}}

	// Source points x0 ~ N(0, Σ0) in the rotated frame.
	x0 := mat.New(n, 4)
	for i := 0; i < n; i++ {
		y := make([]float32, 4)
		for j := range y {
			y[j] = float32(math.Sqrt(f.g.Var0[j]) * rng.NormFloat64())
		}
		f.apply(mat.NewFrom(1, 4, y), x0.Rows(i, i+1), false)
	}
	lp0 := make([]float64, n)
	for i := range lp0 {
		lp0[i] = f.logDensity(0, x0.Row(i))
	}
	x1 := x0.Clone()
	fwd, _, err := solve.PushLogDensity(ctx, f, x1, lp0, opts)
	if err != nil {
		t.Fatal(err)
	}
	xb := x1.Clone()
	logp0 := func(x []float32) float64 { return f.logDensity(0, x) }
	back, _, err := solve.LogLikelihood(ctx, f, xb, logp0, opts)
	if err != nil {
		t.Fatal(err)
	}
	var worstF, worstB, worstFB, worstX float64
	for i := 0; i < n; i++ {
		want := f.logDensity(1, x1.Row(i))
		worstF = math.Max(worstF, math.Abs(fwd[i]-want))
		worstB = math.Max(worstB, math.Abs(back[i]-want))
		worstFB = math.Max(worstFB, math.Abs(fwd[i]-back[i]))
		for j := 0; j < 4; j++ {
			worstX = math.Max(worstX, math.Abs(float64(xb.At(i, j)-x0.At(i, j))))
		}
	}
	t.Logf("max |error|: forward %.2e, backward %.2e, forward−backward %.2e nats; backward end point vs x0 %.2e",
		worstF, worstB, worstFB, worstX)
	if worstF > 1e-4 || worstB > 1e-4 || worstFB > 1e-4 {
		t.Errorf("log-likelihood errors: forward %.2e, backward %.2e, forward−backward %.2e (bound 1e-4)", worstF, worstB, worstFB)
	}
	// Dopri5 must agree too (its error control includes the log-density).
	xd := x1.Clone()
	dop, res, err := solve.LogLikelihood(ctx, f, xd, logp0,
		solve.LikOptions{Options: solve.Options{Method: solve.Dopri5, RTol: 1e-6, ATol: 1e-6}})
	if err != nil {
		t.Fatal(err)
	}
	var worstD float64
	for i := range dop {
		worstD = math.Max(worstD, math.Abs(dop[i]-f.logDensity(1, x1.Row(i))))
	}
	t.Logf("dopri5: max error %.2e nats, NFE %d", worstD, res.NFE)
	if !(worstD <= 1e-4) {
		t.Errorf("dopri5 log-likelihood error %.2e", worstD)
	}
}

// TestHutchinson compares Hutchinson's estimate of ℓ = ∫div (one Rademacher
// probe per row, fixed along the trajectory) with the exact one, row by row.
// With the probe fixed, each row's error is zᵀ(∫J)z − tr(∫J), a zero-mean
// variable; its mean over n rows must be within 4 standard errors
// (sd/√n) of 0, its spread must be non-zero (the Jacobian is not diagonal),
// and forward/backward Hutchinson with the same probes must agree.
func TestHutchinson(t *testing.T) {
	f := anisoField()
	const n = 2000
	rng := rand.New(rand.NewPCG(13, 14))
	x := mat.New(n, 4)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	ctx := context.Background()
	o := solve.Options{Method: solve.RK4, Steps: 20, Backward: true}
	xe := x.Clone()
	exactL, _, err := solve.DivIntegral(ctx, f, xe, solve.LikOptions{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	xh := x.Clone()
	hut, _, err := solve.DivIntegral(ctx, f, xh, solve.LikOptions{Options: o, Hutchinson: true, Rng: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	var mean, sq float64
	for i := range hut {
		d := hut[i] - exactL[i]
		mean += d / n
		sq += d * d / n
	}
	sd := math.Sqrt(sq - mean*mean)
	se := sd / math.Sqrt(n)
	t.Logf("Hutchinson − exact: mean %.4f, sd %.4f, SE %.4f", mean, sd, se)
	if !(math.Abs(mean) <= 4*se) {
		t.Errorf("Hutchinson bias %.4f exceeds 4 SE = %.4f", mean, 4*se)
	}
	if sd < 1e-3 {
		t.Errorf("Hutchinson spread %.2e: the test field should not have a diagonal Jacobian", sd)
	}
	// Forward from the backward end points with the same probes returns minus
	// the backward integral (the Jacobian is x-independent, the probes the same).
	fw, _, err := solve.DivIntegral(ctx, f, xh, solve.LikOptions{Options: solve.Options{Method: solve.RK4, Steps: 20},
		Hutchinson: true, Rng: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fw {
		if !(math.Abs(fw[i]+hut[i]) <= 1e-4) {
			t.Fatalf("row %d: forward %.6f, backward %.6f", i, fw[i], hut[i])
		}
	}
	if _, _, err := solve.DivIntegral(ctx, f, x, solve.LikOptions{Options: o, Hutchinson: true}); err == nil {
		t.Error("Hutchinson without a random source: no error")
	}
}
