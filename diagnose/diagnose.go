// Package diagnose measures why a flow succeeds or fails, from the field
// itself (JVPs and, above a dimension cap, VJPs; never finite differences):
// along the trajectories of given points, at chosen times, the singular
// values of ∂v/∂x(x_t, t), its log-norm λmax((J+Jᵀ)/2) and its divergence;
// the flow map's Jacobian ∂X_{t1}/∂X_{t0} by the variational equation
// (integrated with the same solver steps as the points), its singular values
// and log-determinant, checked against solve's likelihood integral
// ∫ ∇·v dt; and the largest local Lipschitz constant σ₁(∂v/∂x) met along the
// flow, and when.
//
// Up to FullCap dimensions (128 by default) every Jacobian is formed (D JVPs
// per point) and decomposed in float64 by gonum (SVD, symmetric eigenvalues);
// above it the top TopK singular values come from subspace iteration on JᵀJ
// and the log-norm from power iteration, which need a VJPField, and the flow
// map's Jacobian (D² numbers per point) is not formed: its log-determinant
// is still given by the likelihood integral.
package diagnose

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// DefaultFullCap is the largest dimension whose Jacobians are decomposed in
// full: a D×D SVD and eigendecomposition per point and time, and the flow
// map's D² numbers per point carried through the solver.
const DefaultFullCap = 128

// ErrNeedVJP is returned above the full-spectrum cap for a field that has no
// VJP (see VJPField).
var ErrNeedVJP = errors.New("diagnose: above the full-spectrum cap the top singular values need a field with VJPs")

// Options configures Run.
type Options struct {
	// Solve is the integration: Method, Steps (fixed-step methods) or
	// tolerances (dopri5), Backward (t: 1 → 0) or Start/End. Record and
	// RecordAt are set by Run.
	Solve solve.Options
	// Times are the times at which the Jacobian of the field is measured
	// (within the interval; default 11 evenly spaced over the interval,
	// ends included).
	Times []float64
	// FullCap is the largest dimension decomposed in full (default
	// DefaultFullCap).
	FullCap int
	// TopK is the number of singular values estimated above the cap
	// (default 8); PowerIters the subspace-iteration rounds (default 30;
	// the log-norm's power iteration takes four times as many).
	TopK, PowerIters int
	// Seed seeds the power iterations' starting vectors.
	Seed uint64
}

func (o Options) defaults() Options {
	if len(o.Times) == 0 {
		t0, t1 := interval(o.Solve)
		o.Times = spanTimes(t0, t1, 11)
	}
	if o.FullCap == 0 {
		o.FullCap = DefaultFullCap
	}
	if o.TopK == 0 {
		o.TopK = 8
	}
	if o.PowerIters == 0 {
		o.PowerIters = 30
	}
	return o
}

// EvenTimes returns k ≥ 2 evenly spaced times from 0 to 1 (k = 1: [0]).
func EvenTimes(k int) []float64 {
	if k == 1 {
		return []float64{0}
	}
	ts := make([]float64, k)
	for i := range ts {
		ts[i] = float64(i) / float64(k-1)
	}
	return ts
}

// spanTimes returns k ≥ 2 evenly spaced times over the interval from t0 to
// t1 in increasing order, ends included: EvenTimes(k) itself for [0, 1].
func spanTimes(t0, t1 float64, k int) []float64 {
	lo, hi := min(t0, t1), max(t0, t1)
	ts := EvenTimes(k)
	for i, x := range ts {
		ts[i] = min(lo+(hi-lo)*x, hi)
	}
	ts[len(ts)-1] = hi
	return ts
}

// TimeStats is what the field's Jacobian shows at one time, as quantiles
// over the points.
type TimeStats struct {
	T float64 `json:"t"`
	// Sigma[i] summarises the (i+1)-th largest singular value of ∂v/∂x.
	Sigma []Quantiles `json:"sigma"`
	// LogNorm is λmax((J+Jᵀ)/2): the rate at which nearby trajectories can
	// separate; Lipschitz is σ₁(J) (Sigma[0] again, for plotting).
	LogNorm    Quantiles `json:"log_norm"`
	Lipschitz  Quantiles `json:"lipschitz"`
	Divergence Quantiles `json:"divergence"`
}

// FlowMap describes the Jacobian Φ of the flow map from the start of the
// integration to its end.
type FlowMap struct {
	Sigma  []Quantiles `json:"sigma"`   // singular values of Φ, largest first
	LogDet Quantiles   `json:"log_det"` // log|det Φ|
	// Flipped counts points where det Φ < 0 (impossible for an exact
	// flow: a sign of a solver that is too coarse for the field).
	Flipped int `json:"flipped"`
}

// LogDetCheck compares log det Φ from the variational equation with the
// likelihood integral ∫ ∇·v dt of solve.DivIntegral along the same path: by
// Liouville's formula they agree up to the solver's truncation error.
type LogDetCheck struct {
	MeanVariational float64 `json:"mean_variational"`
	MeanDivIntegral float64 `json:"mean_div_integral"`
	MaxAbsDiff      float64 `json:"max_abs_diff"`
}

// Peak is the largest local Lipschitz constant σ₁(∂v/∂x) met at the
// measured times, the time and the point.
type Peak struct {
	Value float64 `json:"value"`
	T     float64 `json:"t"`
	Point int     `json:"point"`
}

// Report is Run's result.
type Report struct {
	Dim         int          `json:"dim"`
	N           int          `json:"n"`
	Start       float64      `json:"t_start"`
	End         float64      `json:"t_end"`
	Method      string       `json:"method"`
	Steps       int          `json:"steps"`
	NFE         int          `json:"nfe"`
	Full        bool         `json:"full_spectrum"` // false: top-k above the cap
	FullCap     int          `json:"full_cap"`
	TopK        int          `json:"top_k,omitempty"`
	Note        string       `json:"note,omitempty"`
	Times       []TimeStats  `json:"times"` // in increasing t
	MaxLip      Peak         `json:"max_lipschitz"`
	FlowMap     *FlowMap     `json:"flow_map,omitempty"` // nil above the cap
	DivInt      Quantiles    `json:"div_integral"`       // ∫ ∇·v dt over the interval (log det Φ by Liouville)
	LogDetCheck *LogDetCheck `json:"log_det_check,omitempty"`
}

// Run carries the rows of x0 (not modified) along f as o.Solve says and
// measures the field's Jacobian at o.Times and the flow map's Jacobian at
// the end. Errors: a dimension above the cap for a field without VJPs
// (ErrNeedVJP), times outside the interval, the solver's errors, and ctx's.
func Run(ctx context.Context, f solve.JVPField, x0 *mat.Dense, o Options) (*Report, error) {
	o = o.defaults()
	d := f.Dim()
	if x0.C != d {
		return nil, fmt.Errorf("diagnose: points have %d columns, the field has dimension %d", x0.C, d)
	}
	if x0.R < 1 {
		return nil, fmt.Errorf("diagnose: no points")
	}
	if o.FullCap < 0 || o.TopK < 0 || o.PowerIters < 0 {
		return nil, fmt.Errorf("diagnose: negative cap %d, top-k %d or power iterations %d", o.FullCap, o.TopK, o.PowerIters)
	}
	full := d <= o.FullCap
	vf, hasVJP := f.(VJPField)
	if !full && !hasVJP {
		return nil, fmt.Errorf("%w (dimension %d > cap %d)", ErrNeedVJP, d, o.FullCap)
	}
	so := o.Solve
	so.Record, so.RecordAt = false, slices.Clone(o.Times)
	t0, t1 := interval(so)
	rep := &Report{Dim: d, N: x0.R, Start: t0, End: t1, Method: string(so.Method), Steps: so.Steps, Full: full, FullCap: o.FullCap}
	var field solve.Field = f
	y := x0.Clone()
	if full {
		field, y = &variational{f: f, d: d}, augment(x0)
	} else {
		rep.TopK = min(o.TopK, d)
		rep.Note = fmt.Sprintf("dimension %d is above the full-spectrum cap %d: the top %d singular values by subspace iteration (%d rounds), the log-norm by power iteration, no flow-map Jacobian",
			d, o.FullCap, rep.TopK, o.PowerIters)
	}
	res, err := solve.Integrate(ctx, field, y, so)
	if err != nil {
		return nil, err
	}
	path, times := res.Path, res.Times
	rep.NFE = res.NFE
	if full {
		rep.FlowMap = flowMapStats(y, d)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6469616721)) // "diag!"
	rep.MaxLip.Value = math.Inf(-1)
	for i, p := range path {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := &mat.Dense{R: p.R, C: d, Data: make([]float32, p.R*d)}
		for r := 0; r < p.R; r++ {
			copy(x.Row(r), p.Row(r)[:d])
		}
		var st pointStats
		if full {
			st = fullSpectra(f, times[i], x)
		} else {
			st = topSpectra(vf, times[i], x, rep.TopK, o.PowerIters, rng)
		}
		rep.Times = append(rep.Times, timeStats(times[i], st, x.R, &rep.MaxLip))
	}
	slices.SortStableFunc(rep.Times, func(a, b TimeStats) int { return cmpFloat(a.T, b.T) })
	ell, _, err := solve.DivIntegral(ctx, f, x0.Clone(), solve.LikOptions{Options: so})
	if err != nil {
		return nil, err
	}
	rep.DivInt = quantilesOf(ell)
	if full {
		rep.LogDetCheck = logDetCheck(y, d, ell)
	}
	return rep, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// interval is the integration's (t0, t1), as solve reads Options.
func interval(o solve.Options) (float64, float64) {
	if o.Start != 0 || o.End != 0 {
		return o.Start, o.End
	}
	if o.Backward {
		return 1, 0
	}
	return 0, 1
}

// timeStats summarises one time's point statistics and updates the peak.
func timeStats(t float64, st pointStats, n int, peak *Peak) TimeStats {
	k := len(st.sigma) / n
	ts := TimeStats{T: t, Sigma: columnQuantiles(st.sigma, n, k), LogNorm: quantilesOf(st.logNorm),
		Divergence: quantilesOf(st.div)}
	lip := make([]float64, n)
	for i := range lip {
		lip[i] = st.sigma[i*k]
		if lip[i] > peak.Value {
			*peak = Peak{Value: lip[i], T: t, Point: i}
		}
	}
	ts.Lipschitz = quantilesOf(lip)
	return ts
}

// flowMapStats summarises Φ (columns d.. of y's rows).
func flowMapStats(y *mat.Dense, d int) *FlowMap {
	n := y.R
	sig := make([]float64, n*d)
	logdet := make([]float64, n)
	fm := &FlowMap{}
	for i := 0; i < n; i++ {
		phi := phiOf(y, i, d)
		copy(sig[i*d:(i+1)*d], singularValues(phi, d, d))
		var lu gmat.LU
		lu.Factorize(gmat.NewDense(d, d, phi))
		ld, sign := lu.LogDet()
		logdet[i] = ld
		if sign < 0 {
			fm.Flipped++
		}
	}
	fm.Sigma, fm.LogDet = columnQuantiles(sig, n, d), quantilesOf(logdet)
	return fm
}

// phiOf returns row i's Φ in float64.
func phiOf(y *mat.Dense, i, d int) []float64 {
	phi := make([]float64, d*d)
	for a, v := range y.Row(i)[d:] {
		phi[a] = float64(v)
	}
	return phi
}

// logDetCheck compares log|det Φ| with ell = ∫ ∇·v dt point by point.
func logDetCheck(y *mat.Dense, d int, ell []float64) *LogDetCheck {
	c := &LogDetCheck{}
	for i := range ell {
		var lu gmat.LU
		lu.Factorize(gmat.NewDense(d, d, phiOf(y, i, d)))
		ld, _ := lu.LogDet()
		c.MeanVariational += ld / float64(len(ell))
		c.MeanDivIntegral += ell[i] / float64(len(ell))
		c.MaxAbsDiff = max(c.MaxAbsDiff, math.Abs(ld-ell[i]))
	}
	return c
}
