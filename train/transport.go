package train

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// TransportOptions says how to carry points with a trained run's field.
type TransportOptions struct {
	// Backward integrates from t = 1 (target) to t = 0 (source).
	Backward bool
	// Solver is an ODE method (solve.ParseMethod; default rk4) or, with
	// SDE, an SDE method (solve.ParseSDEMethod; default euler-maruyama).
	Solver string
	// NFE is the budget of drift evaluations for fixed-step solvers
	// (default 100); RTol and ATol are dopri5's tolerances (default 1e-5).
	NFE        int
	RTol, ATol float64
	// SDE samples the stochastic interpolant's SDE
	// dX = (b ± ε(t)·s) dt + √(2ε(t)) dW with the score s = −η/γ from the
	// run's denoiser. It needs a run with η.
	SDE bool
	// Eps sets the diffusion ε(t) = Eps·γ(t)/max γ, which vanishes where the
	// latent's coefficient γ does (the score is undefined there).
	Eps float64
}

// Transport carries every row of x in place from t = 0 to 1 (or 1 to 0 with
// Backward) along the run's drift, as an ODE or, with SDE, as the
// stochastic interpolant's SDE (noise drawn from rng), TransportChunk rows at
// a time. Option errors wrap ErrConfig.
func (r *Trained) Transport(ctx context.Context, x *mat.Dense, o TransportOptions, rng *rand.Rand) (solve.Result, error) {
	if x.C != r.Net.Dim() {
		return solve.Result{}, cfgErrorf("points of dimension %d, the run's field has %d", x.C, r.Net.Dim())
	}
	nfe := o.NFE
	if nfe == 0 {
		nfe = 100
	}
	if nfe < 0 {
		return solve.Result{}, cfgErrorf("nfe %d is negative", nfe)
	}
	if !o.SDE {
		name := o.Solver
		if name == "" {
			name = "rk4"
		}
		m, err := solve.ParseMethod(name)
		if err != nil {
			return solve.Result{}, cfgErrorf("%w", err)
		}
		opts := solve.Options{Method: m, Backward: o.Backward, RTol: o.RTol, ATol: o.ATol}
		if m != solve.Dopri5 {
			if opts.Steps, err = solve.StepsForNFE(m, nfe); err != nil {
				return solve.Result{}, cfgErrorf("%w", err)
			}
		}
		return inChunks(x, func(c *mat.Dense) (solve.Result, error) { return solve.Integrate(ctx, r.Net, c, opts) })
	}
	if r.Eta == nil {
		return solve.Result{}, cfgErrorf("SDE sampling needs a denoiser η: train with a stochastic interpolant (--gamma > 0 or a one-sided path)")
	}
	if !(o.Eps >= 0) {
		return solve.Result{}, cfgErrorf("eps %v must be ≥ 0", o.Eps)
	}
	name := o.Solver
	if name == "" {
		name = "euler-maruyama"
	}
	m, err := solve.ParseSDEMethod(name)
	if err != nil {
		return solve.Result{}, cfgErrorf("%w", err)
	}
	steps := nfe
	if m == solve.SDEHeun {
		steps = max(1, nfe/2)
	}
	ip, err := r.Config.Interpolant()
	if err != nil {
		return solve.Result{}, cfgErrorf("%w", err)
	}
	var gmax float64
	for i := 0; i <= 1000; i++ {
		gmax = max(gmax, ip.NoiseScale(float64(i)/1000))
	}
	eps := func(t float64) float64 { return o.Eps * ip.NoiseScale(t) / gmax }
	score := solve.ScoreFromDenoiser(r.Eta, ip.NoiseScale)
	so := solve.SDEOptions{Method: m, Steps: steps, Backward: o.Backward, Eps: eps}
	return inChunks(x, func(c *mat.Dense) (solve.Result, error) { return solve.IntegrateSDE(ctx, r.Net, score, c, rng, so) })
}

// TransportChunk is how many points Transport integrates at once: the
// network's activations for a chunk (rows × widths) bound its working memory
// whatever the number of points.
const TransportChunk = 8192

// inChunks applies f to consecutive blocks of at most TransportChunk rows of
// x (views sharing its storage) and returns the per-point counts: the
// largest NFE and step counts of any chunk (dopri5 adapts per chunk).
func inChunks(x *mat.Dense, f func(*mat.Dense) (solve.Result, error)) (solve.Result, error) {
	var res solve.Result
	for i := 0; i < x.R; i += TransportChunk {
		r, err := f(x.Rows(i, min(i+TransportChunk, x.R)))
		if err != nil {
			return res, err
		}
		res.NFE, res.Steps, res.Rejected = max(res.NFE, r.NFE), max(res.Steps, r.Steps), max(res.Rejected, r.Rejected)
	}
	return res, nil
}

// cfgError is an error in a configuration, options or input: it wraps
// ErrConfig (for callers telling usage errors apart) without repeating its
// text in the message.
type cfgError struct{ kind, err error }

func (e cfgError) Error() string   { return e.err.Error() }
func (e cfgError) Unwrap() []error { return []error{e.kind, e.err} }

func cfgErrorf(format string, args ...any) error {
	return cfgError{ErrConfig, fmt.Errorf(format, args...)}
}
