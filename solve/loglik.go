package solve

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/flowlab/flowlab/mat"
)

// divWork computes divergences of a JVPField on a batch, reusing its buffers.
type divWork struct {
	e, out, dout mat.Dense
}

func (w *divWork) shape(r, c int) {
	w.e.Reshape(r, c)
	w.out.Reshape(r, c)
	w.dout.Reshape(r, c)
}

// exact writes v(x, t) into v and ∇·v into div for every row of x: Dim JVPs,
// the j-th with the j-th basis vector in every row, each giving column j of
// the Jacobian's diagonal.
func (w *divWork) exact(f JVPField, t float64, x, v *mat.Dense, div []float32) {
	r, c := x.R, x.C
	w.shape(r, c)
	clear(w.e.Data)
	clear(div)
	for j := 0; j < c; j++ {
		for i := 0; i < r; i++ {
			if j > 0 {
				w.e.Data[i*c+j-1] = 0
			}
			w.e.Data[i*c+j] = 1
		}
		f.JVP(t, x, &w.e, v, &w.dout)
		for i := 0; i < r; i++ {
			div[i] += w.dout.Data[i*c+j]
		}
	}
}

// hutchinson writes v(x, t) into v and zᵀ(∂v/∂x)z into div for every row, one
// JVP with the probe z (an estimate of ∇·v, unbiased when E[zzᵀ] = I).
func (w *divWork) hutchinson(f JVPField, t float64, x, z, v *mat.Dense, div []float32) {
	w.shape(x.R, x.C)
	f.JVP(t, x, z, v, &w.dout)
	c := x.C
	for i := 0; i < x.R; i++ {
		var s float64
		zr, dr := z.Data[i*c:(i+1)*c], w.dout.Data[i*c:(i+1)*c]
		for j := range zr {
			s += float64(zr[j]) * float64(dr[j])
		}
		div[i] = float32(s)
	}
}

// Divergence writes ∇·f(x, t) for every row of x into div (len x.R), exactly,
// with f.Dim() JVPs.
func Divergence(f JVPField, t float64, x *mat.Dense, div []float64) {
	checkDiv(f, x, div)
	var w divWork
	v := mat.New(x.R, x.C)
	d32 := make([]float32, x.R)
	w.exact(f, t, x, v, d32)
	for i, d := range d32 {
		div[i] = float64(d)
	}
}

// HutchinsonDivergence writes Hutchinson's estimate zᵀ(∂f/∂x)z of ∇·f(x, t)
// for every row of x into div, with the probe z (x's shape; Rademacher or
// Gaussian entries).
func HutchinsonDivergence(f JVPField, t float64, x, z *mat.Dense, div []float64) {
	checkDiv(f, x, div)
	if z.R != x.R || z.C != x.C {
		panic(fmt.Sprintf("solve: HutchinsonDivergence: x %s, z %s", x.Shape(), z.Shape()))
	}
	var w divWork
	v := mat.New(x.R, x.C)
	d32 := make([]float32, x.R)
	w.hutchinson(f, t, x, z, v, d32)
	for i, d := range d32 {
		div[i] = float64(d)
	}
}

func checkDiv(f JVPField, x *mat.Dense, div []float64) {
	if x.C != f.Dim() || len(div) != x.R {
		panic(fmt.Sprintf("solve: divergence: x %s, %d outputs, field dimension %d", x.Shape(), len(div), f.Dim()))
	}
}

// Rademacher fills z with independent ±1 entries from rng, row by row.
func Rademacher(rng *rand.Rand, z *mat.Dense) {
	for i := range z.Data {
		if rng.Uint64()&1 == 0 {
			z.Data[i] = 1
		} else {
			z.Data[i] = -1
		}
	}
}

// LikOptions configures DivIntegral and the log-likelihood functions.
type LikOptions struct {
	// Options are the ODE options (method, steps, tolerances, direction).
	// The error control of dopri5 includes the log-density component.
	Options
	// Hutchinson replaces the exact divergence (Dim JVPs per evaluation) by
	// Hutchinson's estimator with one Rademacher probe per row, drawn once
	// from Rng and held fixed along the trajectory (one JVP per evaluation).
	Hutchinson bool
	// Rng draws the probes; required with Hutchinson.
	Rng *rand.Rand
}

// DivIntegral integrates x in place along f, together with ℓ' = ∇·f(x_t, t),
// and returns per row ℓ = ∫_{t0}^{t1} ∇·f(x_t, t) dt over the integration
// interval (t0 → t1, in the direction integrated). By the instantaneous change
// of variables, log p_{t1}(x(t1)) = log p_{t0}(x(t0)) − ℓ. Result.Path records
// x only.
func DivIntegral(ctx context.Context, f JVPField, x *mat.Dense, opts LikOptions) ([]float64, Result, error) {
	if x.C != f.Dim() {
		panic(fmt.Sprintf("solve: DivIntegral: x is %s but the field has dimension %d", x.Shape(), f.Dim()))
	}
	r, c := x.R, x.C
	nx := r * c
	y := make([]float32, nx+r)
	copy(y, x.Data)
	var z *mat.Dense
	if opts.Hutchinson {
		if opts.Rng == nil {
			return nil, Result{}, fmt.Errorf("solve: Hutchinson's estimator needs a random source")
		}
		z = mat.New(r, c)
		Rademacher(opts.Rng, z)
	}
	var w divWork
	xh := &mat.Dense{R: r, C: c}
	vh := &mat.Dense{R: r, C: c}
	eval := func(t float64, y, dy []float32) {
		xh.Data, vh.Data = y[:nx], dy[:nx]
		if z != nil {
			w.hutchinson(f, t, xh, z, vh, dy[nx:])
		} else {
			w.exact(f, t, xh, vh, dy[nx:])
		}
	}
	var res Result
	record := func(t float64, y []float32) {
		res.Times = append(res.Times, t)
		res.Path = append(res.Path, mat.NewFrom(r, c, slices.Clone(y[:nx])))
	}
	err := integrate(ctx, eval, nil, y, opts.Options, &res, record)
	copy(x.Data, y[:nx])
	ell := make([]float64, r)
	for i := range ell {
		ell[i] = float64(y[nx+i])
	}
	return ell, res, err
}

// LogLikelihood returns log p1(x1) for each row of x, the model density at
// t = 1 of the flow of f started from a density p0 at t = 0: it integrates x
// backward from 1 to 0 (x holds the t = 0 points afterwards) and returns
// log p0(x(0)) − ∫_0^1 ∇·f(x_t, t) dt. opts.Backward, Start and End are
// overridden.
func LogLikelihood(ctx context.Context, f JVPField, x *mat.Dense, logp0 func(x0 []float32) float64, opts LikOptions) ([]float64, Result, error) {
	opts.Start, opts.End, opts.Backward = 0, 0, true
	ell, res, err := DivIntegral(ctx, f, x, opts)
	if err != nil {
		return nil, res, err
	}
	// Integrated from 1 to 0: ell = ∫_1^0 div = −∫_0^1 div.
	out := make([]float64, x.R)
	for i := range out {
		out[i] = logp0(x.Row(i)) + ell[i]
		if math.IsNaN(out[i]) {
			return nil, res, fmt.Errorf("solve: log-likelihood of row %d is NaN", i)
		}
	}
	return out, res, nil
}

// PushLogDensity carries points and their log-densities forward: x holds
// points at t = 0 with log p0 values logp0; it integrates x forward to t = 1
// and returns log p1(x(1)) = log p0(x(0)) − ∫_0^1 ∇·f(x_t,t) dt.
// opts.Backward, Start and End are overridden.
func PushLogDensity(ctx context.Context, f JVPField, x *mat.Dense, logp0 []float64, opts LikOptions) ([]float64, Result, error) {
	if len(logp0) != x.R {
		panic(fmt.Sprintf("solve: PushLogDensity: %d log-densities for x %s", len(logp0), x.Shape()))
	}
	opts.Start, opts.End, opts.Backward = 0, 0, false
	ell, res, err := DivIntegral(ctx, f, x, opts)
	if err != nil {
		return nil, res, err
	}
	out := make([]float64, x.R)
	for i := range out {
		out[i] = logp0[i] - ell[i]
	}
	return out, res, nil
}
