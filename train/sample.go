package train

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// Model is what carrying points needs from a trained run: the Config it was
// trained with (its interpolant), the drift network Net and the denoiser Eta
// η(x, t) (nil for a deterministic interpolant). Net is the drift b(x, t)
// itself, or for Config.Drift DriftSplit its noise-free part v, with
// b = v + γ̇·η (split.go). Result (from Fit) and
// Trained (from Load) embed one, so both sample through Model.Sample without
// copying their networks. The networks are not safe for concurrent use, so
// neither is a Model.
type Model struct {
	Config   Config
	Net, Eta *nn.Net
}

// DefaultEps is the SDE's default diffusion scale (SampleOptions.Eps): the
// peak of ε(t) = Eps·γ(t)/max γ.
const DefaultEps = 0.5

// SampleOptions says how Model.Sample carries points.
type SampleOptions struct {
	// Backward integrates from t = 1 (target) to t = 0 (source).
	Backward bool
	// Solver is an ODE method (solve.ParseMethod: euler, midpoint, heun, rk4
	// (default), dopri5) or, with SDE, an SDE method (solve.ParseSDEMethod:
	// euler-maruyama (default) or heun).
	Solver string
	// NFE is the budget of drift evaluations for fixed-step solvers
	// (default 100); RTol and ATol are dopri5's tolerances (default 1e-5).
	NFE        int
	RTol, ATol float64
	// SDE samples the stochastic interpolant's SDE
	// dX = (b ± ε(t)·s) dt + √(2ε(t)) dW with the score s = −η/γ from the
	// run's denoiser and ε(t) = Diffusion(γ, Eps). It needs a run with η.
	SDE bool
	// Eps is the SDE's diffusion scale: the largest value of ε(t) (≥ 0; 0
	// integrates the probability-flow ODE with SDE steps).
	Eps float64
	// Record keeps the state at each of these times (in [0, 1]) in the
	// result's Times and Path, in the order visited; the step that crosses
	// one is split there (dopri5 lands on it).
	Record []float64
	// Labels, for a conditional run (Config.Cond "label"), gives each point
	// (len x.R) its class, 0..Classes−1, or nn.Null; nil carries every point
	// with the null label (the unconditional field of a run trained with
	// CondDrop > 0).
	Labels []int
	// Guidance is the classifier-free guidance weight w: the drift (and η)
	// become v(x,t,∅) + w·(v(x,t,y) − v(x,t,∅)). w = 1 (or nil) is plain
	// conditional sampling, v(x,t,y); w = 0 the null label's field, v(x,t,∅);
	// w > 1 pushes further towards the label. Any w ≠ 1 needs a run trained
	// with CondDrop > 0, and Labels.
	Guidance *float64
}

// Diffusion returns the SDE's noise level ε(t) = eps·γ(t)/max γ for an
// interpolant whose latent coefficient is γ(t) (α(t) for one-sided paths:
// interp.Interpolant.NoiseScale), max γ taken on a grid of 1001 times. It is
// the one ε convention of the library, chosen so that:
//
//   - the score term stays finite: ε·s = −eps·η/max γ, whatever γ does near
//     t = 0 and 1, and ε = 0 exactly where γ = 0 and s is undefined, so the
//     score is never evaluated there;
//   - eps means the same for every γ: it is the peak diffusion, whatever the
//     scale a of γ (ε = γ² would make the noise a/4 at the peak of the
//     Brownian √(a t(1−t)), and the SDE a near-ODE for small a);
//   - it vanishes like γ, not γ², so the noise stays strong enough near the
//     ends to fill the directions a rank-deficient source lacks, which ε = γ²
//     left about half empty.
//
// It returns nil when γ ≡ 0 (no SDE to sample).
func Diffusion(ip interp.Interpolant, eps float64) func(t float64) float64 {
	var gmax float64
	for i := 0; i <= 1000; i++ {
		gmax = max(gmax, ip.NoiseScale(float64(i)/1000))
	}
	if gmax == 0 {
		return nil
	}
	return func(t float64) float64 { return eps * ip.NoiseScale(t) / gmax }
}

// Sample carries every row of x in place from t = 0 to 1 (or 1 to 0 with
// Backward) along the model's drift, as an ODE or, with SDE, as the
// stochastic interpolant's SDE (noise drawn from rng; rng may be nil for an
// ODE), SampleChunk rows at a time. The result counts the field evaluations
// per point and holds the recorded states (o.Record) of all rows. Option
// errors wrap ErrConfig.
func (m *Model) Sample(ctx context.Context, x *mat.Dense, o SampleOptions, rng *rand.Rand) (solve.Result, error) {
	if x.C != m.Net.Dim() {
		return solve.Result{}, cfgErrorf("points of dimension %d, the run's field has %d", x.C, m.Net.Dim())
	}
	if o.NFE == 0 {
		o.NFE = 100
	}
	if o.NFE < 0 {
		return solve.Result{}, cfgErrorf("nfe %d is negative", o.NFE)
	}
	for _, r := range o.Record {
		if !(r >= 0 && r <= 1) {
			return solve.Result{}, cfgErrorf("record time %v lies outside [0, 1]", r)
		}
	}
	if err := m.checkCond(x, o); err != nil {
		return solve.Result{}, err
	}
	defer m.Net.SetLabels(nil)
	if m.Eta != nil {
		defer m.Eta.SetLabels(nil)
	}
	if !o.SDE {
		return m.sampleODE(ctx, x, o)
	}
	return m.sampleSDE(ctx, x, o, rng)
}

// sampleODE integrates the drift alone.
func (m *Model) sampleODE(ctx context.Context, x *mat.Dense, o SampleOptions) (solve.Result, error) {
	name := o.Solver
	if name == "" {
		name = "rk4"
	}
	meth, err := solve.ParseMethod(name)
	if err != nil {
		return solve.Result{}, cfgErrorf("%w", err)
	}
	opts := solve.Options{Method: meth, Backward: o.Backward, RTol: o.RTol, ATol: o.ATol, RecordAt: o.Record}
	if meth != solve.Dopri5 {
		if opts.Steps, err = solve.StepsForNFE(meth, o.NFE); err != nil {
			return solve.Result{}, cfgErrorf("%w", err)
		}
	}
	return inChunks(x, func(c *mat.Dense, r0 int) (solve.Result, error) {
		b, err := m.drift(o, r0, c.R)
		if err != nil {
			return solve.Result{}, err
		}
		return solve.Integrate(ctx, b, c, opts)
	})
}

// sampleSDE integrates the SDE with ε(t) = Diffusion(γ, o.Eps).
func (m *Model) sampleSDE(ctx context.Context, x *mat.Dense, o SampleOptions, rng *rand.Rand) (solve.Result, error) {
	if m.Eta == nil {
		return solve.Result{}, cfgErrorf("SDE sampling needs a denoiser η: train with a stochastic interpolant (--gamma > 0 or a one-sided path)")
	}
	if !(o.Eps >= 0) {
		return solve.Result{}, cfgErrorf("eps %v must be ≥ 0", o.Eps)
	}
	name := o.Solver
	if name == "" {
		name = "euler-maruyama"
	}
	meth, err := solve.ParseSDEMethod(name)
	if err != nil {
		return solve.Result{}, cfgErrorf("%w", err)
	}
	steps := o.NFE
	if meth == solve.SDEHeun {
		steps = max(1, o.NFE/2)
	}
	ip, err := m.Config.Interpolant()
	if err != nil {
		return solve.Result{}, cfgErrorf("%w", err)
	}
	so := solve.SDEOptions{Method: meth, Steps: steps, Backward: o.Backward, Eps: Diffusion(ip, o.Eps), RecordAt: o.Record}
	return inChunks(x, func(c *mat.Dense, r0 int) (solve.Result, error) {
		b, eta, err := m.sdeFields(o, r0, c.R)
		if err != nil {
			return solve.Result{}, err
		}
		return solve.IntegrateSDE(ctx, b, solve.ScoreFromDenoiser(eta, ip.NoiseScale), c, rng, so)
	})
}

// SampleChunk is how many points Sample integrates at once: the network's
// activations for a chunk (rows × widths) bound its working memory whatever
// the number of points.
const SampleChunk = 8192

// inChunks applies f to consecutive blocks of at most SampleChunk rows of x
// (views sharing its storage, with their first row's index) and returns the per-point counts (the largest
// NFE and step counts of any chunk: dopri5 adapts per chunk) and the
// recorded states of all rows (every chunk records at the same times).
func inChunks(x *mat.Dense, f func(c *mat.Dense, r0 int) (solve.Result, error)) (solve.Result, error) {
	var res solve.Result
	for i := 0; i < x.R; i += SampleChunk {
		hi := min(i+SampleChunk, x.R)
		r, err := f(x.Rows(i, hi), i)
		if err != nil {
			return res, err
		}
		res.NFE, res.Steps, res.Rejected = max(res.NFE, r.NFE), max(res.Steps, r.Steps), max(res.Rejected, r.Rejected)
		if i == 0 && hi == x.R {
			res.Times, res.Path = r.Times, r.Path
			continue
		}
		if i == 0 {
			res.Times = r.Times
			for range r.Path {
				res.Path = append(res.Path, mat.New(x.R, x.C))
			}
		}
		for k, p := range r.Path {
			copy(res.Path[k].Data[i*x.C:hi*x.C], p.Data)
		}
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
