package train

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
)

// evalStream separates Evaluate's random stream from the others.
const evalStream = 0x6576616c // "eval"

// EvalLossDraws is the least number of draws Evaluate averages the loss over.
const EvalLossDraws = 50000

// EvalOptions says how Trained.Evaluate measures a run.
type EvalOptions struct {
	// N is the number of points per sample (≥ 2; exact W2 costs O(N³)).
	N int
	// Solver and NFE choose the ODE that carries the samples (SampleOptions).
	Solver string
	NFE    int
	// Seed seeds the draws, the loss and the sliced directions.
	Seed uint64
}

// SampleMetrics compares transported points with a sample of the law they
// should follow.
type SampleMetrics struct {
	W2       float64 `json:"w2"`        // exact W2 by optimal assignment
	SlicedW2 float64 `json:"sliced_w2"` // 64 random directions
	MMD      float64 `json:"mmd"`       // multi-scale RBF, median bandwidths
	Energy   float64 `json:"energy"`    // energy distance
}

// Evaluation is what Evaluate measures of a trained run (flowlab eval's JSON).
type Evaluation struct {
	Run         string  `json:"run"` // the run folder; Evaluate leaves it to the caller
	N           int     `json:"n"`
	Seed        uint64  `json:"seed"`
	Solver      string  `json:"solver"`
	NFE         int     `json:"nfe"`
	Steps       int     `json:"steps"`
	Weights     string  `json:"weights"`
	FinalLoss   float64 `json:"final_loss"` // training loss, mean of the last steps
	LossN       int     `json:"loss_n"`     // draws EvalLoss is averaged over
	EvalLoss    float64 `json:"eval_loss"`  // drift network's loss on LossN fresh draws (v's for a split drift)
	EvalEtaLoss float64 `json:"eval_eta_loss,omitempty"`
	// Gaussian source and target (independent coupling, uniform t): the
	// least achievable loss, the excess of EvalLoss over it, and the
	// relative L2 error of the learned drift against the exact one on x_t.
	LossFloor  *float64 `json:"loss_floor,omitempty"`
	Excess     *float64 `json:"excess_loss,omitempty"`
	ExcessRel  *float64 `json:"excess_rel,omitempty"`
	FieldRelL2 *float64 `json:"field_rel_l2,omitempty"`
	// Forward: flow of n source draws vs n target draws; Backward: flow of
	// n target draws back vs n source draws. The baselines compare two
	// independent samples of the target (source): the metrics' own sampling
	// noise at this n, the least a perfect flow could show.
	// ForwardLaw: for a zero-mean isotropic Gaussian target N(0, s²I_k), the
	// law of the forward samples against it.
	ForwardLaw       *GaussianLaw  `json:"forward_law,omitempty"`
	Forward          SampleMetrics `json:"forward"`
	Backward         SampleMetrics `json:"backward"`
	BaselineForward  SampleMetrics `json:"baseline_forward"`
	BaselineBackward SampleMetrics `json:"baseline_backward"`
}

// GaussianLaw compares a sample with N(0, s²I_k) through its norms and its
// per-coordinate variances: the mean norm beside s·Chi(k)'s, the KS
// statistic of the norms against s·Chi(k), and the mean, least and largest
// per-coordinate variance against s² (a flow that creates too little or too
// much variation shows here first).
type GaussianLaw struct {
	MeanNorm  float64 `json:"mean_norm"`
	ChiMean   float64 `json:"chi_mean"`
	KSChi     float64 `json:"ks_chi"`
	VarMean   float64 `json:"var_mean"`
	VarMin    float64 `json:"var_min"`
	VarMax    float64 `json:"var_max"`
	TargetVar float64 `json:"target_var"`
}

// LawAgainst measures x (at least two rows) against N(0, v·I_k).
func LawAgainst(x *mat.Dense, v float64) (*GaussianLaw, error) {
	k, s := x.C, math.Sqrt(v)
	chi := exact.Chi{K: float64(k), S: s}
	ks, _, err := metrics.KS(metrics.Norms(x), chi.Cdf)
	if err != nil {
		return nil, err
	}
	law := &GaussianLaw{MeanNorm: metrics.NormStatsOf(x).Mean, ChiMean: chi.Mean(),
		KSChi: ks, VarMin: math.Inf(1), VarMax: math.Inf(-1), TargetVar: v}
	for _, cv := range metrics.ColVars(x) {
		law.VarMean += cv / float64(k)
		law.VarMin, law.VarMax = min(law.VarMin, cv), max(law.VarMax, cv)
	}
	return law, nil
}

// Evaluate measures a finished run: its loss on fresh draws; W2, sliced W2,
// MMD and energy distance of forward samples against the target and of
// backward samples against the source, beside the same metrics between two
// samples of each law; and, for Gaussian source and target, the loss floor,
// the excess loss, the field's error and the forward law. Errors in the
// options or the run's laws wrap ErrConfig.
func (r *Trained) Evaluate(ctx context.Context, o EvalOptions) (*Evaluation, error) {
	if o.N < 2 {
		return nil, cfgErrorf("n %d: want at least 2 points", o.N)
	}
	src, err := dist.Parse(r.Config.Source)
	if err != nil {
		return nil, cfgErrorf("the run's source %q: %w", r.Config.Source, err)
	}
	tgt, err := dist.Parse(r.Config.Target)
	if err != nil {
		return nil, cfgErrorf("the run's target %q: %w", r.Config.Target, err)
	}
	n := o.N
	rep := &Evaluation{N: n, Seed: o.Seed, Solver: o.Solver, NFE: o.NFE, Steps: r.Metrics.Steps,
		Weights: r.Metrics.Weights, FinalLoss: r.Metrics.FinalLoss}
	rng := rand.New(rand.NewPCG(o.Seed, evalStream))
	// The loss needs only forward passes: average it over more draws than
	// the O(n³) sample metrics can afford.
	rep.LossN = max(n, EvalLossDraws)
	rep.EvalLoss, rep.EvalEtaLoss, err = EvalLoss(ctx, r.Net, r.Eta, r.Config, src, tgt, rep.LossN, rng)
	if err != nil {
		return nil, err
	}
	if err := r.gaussianChecks(rep, src, tgt, rng); err != nil {
		return nil, err
	}
	if err := r.sampleChecks(ctx, rep, src, tgt, o, rng); err != nil {
		return nil, err
	}
	return rep, nil
}

// sampleChecks carries n draws each way and compares them with fresh draws
// of the law they should follow, beside the two-sample baselines.
func (r *Trained) sampleChecks(ctx context.Context, rep *Evaluation, src, tgt dist.Sampler, o EvalOptions, rng *rand.Rand) error {
	draw := func(s dist.Sampler) *mat.Dense {
		x := mat.New(o.N, s.Dim())
		s.Sample(rng, x)
		return x
	}
	x0, x1, x0ref, x1ref, x0ref2, x1ref2 := draw(src), draw(tgt), draw(src), draw(tgt), draw(src), draw(tgt)
	so := SampleOptions{Solver: o.Solver, NFE: o.NFE}
	if _, err := r.Sample(ctx, x0, so, rng); err != nil {
		return err
	}
	var err error
	if g, ok := tgt.(*dist.Gaussian); ok && g.Mean == 0 {
		if rep.ForwardLaw, err = LawAgainst(x0, g.Var); err != nil {
			return err
		}
	}
	so.Backward = true
	if _, err := r.Sample(ctx, x1, so, rng); err != nil {
		return err
	}
	for _, c := range []struct {
		dst  *SampleMetrics
		x, y *mat.Dense
	}{{&rep.Forward, x0, x1ref}, {&rep.Backward, x1, x0ref}, {&rep.BaselineForward, x1ref2, x1ref}, {&rep.BaselineBackward, x0ref2, x0ref}} {
		if c.dst.W2, err = metrics.W2(ctx, c.x, c.y); err != nil {
			return err
		}
		c.dst.SlicedW2 = metrics.SlicedW2(c.x, c.y, 64, rng)
		c.dst.MMD = metrics.MMD(c.x, c.y, nil)
		c.dst.Energy = metrics.EnergyDistance(c.x, c.y)
	}
	return nil
}

// gaussianChecks fills the loss floor, the excess loss and the field error
// when both ends are isotropic Gaussians and the loss is the one the floor
// is defined for (independent coupling, t uniform on [0, 1]).
func (r *Trained) gaussianChecks(rep *Evaluation, src, tgt dist.Sampler, rng *rand.Rand) error {
	g0, ok0 := src.(*dist.Gaussian)
	g1, ok1 := tgt.(*dist.Gaussian)
	cfg := r.Config
	if !ok0 || !ok1 || cfg.Coupling != "independent" || cfg.TSampler != "uniform" {
		return nil
	}
	ip, err := cfg.Interpolant()
	if err != nil {
		return cfgErrorf("%w", err)
	}
	fill := func(v float64) []float64 {
		s := make([]float64, cfg.Dim)
		for i := range s {
			s[i] = v
		}
		return s
	}
	g, err := exact.NewGaussianField(fill(g0.Mean), fill(g0.Var), fill(g1.Mean), fill(g1.Var), ip)
	if err != nil {
		return nil // not a law the closed forms cover (e.g. a one-sided path)
	}
	// The floor is the full drift's E‖b − ẋ_t‖²; a split drift's network
	// has another loss (EvalLoss), so it gets no floor.
	if lo, hi := ip.TRange(); lo == 0 && hi == 1 && r.Config.Drift != DriftSplit {
		if floor := g.LossFloor(); !math.IsInf(floor, 0) && floor > 0 {
			ex := rep.EvalLoss - floor
			rel := ex / floor
			rep.LossFloor, rep.Excess, rep.ExcessRel = &floor, &ex, &rel
		}
	}
	fe := g.FieldError(r.DriftRows, rng, rep.N)
	if !math.IsNaN(fe.RelL2) && !math.IsInf(fe.RelL2, 0) { // Σ‖b‖² = 0 leaves it undefined
		rep.FieldRelL2 = &fe.RelL2
	}
	return nil
}
