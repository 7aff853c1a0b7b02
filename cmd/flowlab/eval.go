package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/train"
)

// evalStream separates the eval command's random stream from the others.
const evalStream = 0x6576616c // "eval"

// lossDraws is the least number of draws eval averages the loss over.
const lossDraws = 50000

// sampleMetrics compares transported points with a sample of the law they
// should follow.
type sampleMetrics struct {
	W2       float64 `json:"w2"`        // exact W2 by optimal assignment
	SlicedW2 float64 `json:"sliced_w2"` // 64 random directions
	MMD      float64 `json:"mmd"`       // multi-scale RBF, median bandwidths
	Energy   float64 `json:"energy"`    // energy distance
}

// evalReport is the JSON that eval prints.
type evalReport struct {
	Run         string  `json:"run"`
	N           int     `json:"n"`
	Seed        uint64  `json:"seed"`
	Solver      string  `json:"solver"`
	NFE         int     `json:"nfe"`
	Steps       int     `json:"steps"`
	Weights     string  `json:"weights"`
	FinalLoss   float64 `json:"final_loss"` // training loss, mean of the last steps
	LossN       int     `json:"loss_n"`     // draws EvalLoss is averaged over
	EvalLoss    float64 `json:"eval_loss"`  // drift loss on LossN fresh draws
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
	// law of the forward samples against it: the mean norm beside s·Chi(k)'s,
	// the KS statistic of the norms against s·Chi(k), and the mean, least and
	// largest per-coordinate variance against s² (a flow that creates too
	// little or too much variation shows here first).
	ForwardLaw       *gaussianLaw  `json:"forward_law,omitempty"`
	Forward          sampleMetrics `json:"forward"`
	Backward         sampleMetrics `json:"backward"`
	BaselineForward  sampleMetrics `json:"baseline_forward"`
	BaselineBackward sampleMetrics `json:"baseline_backward"`
}

// gaussianLaw compares a sample with N(0, s²I_k) through its norms and its
// per-coordinate variances.
type gaussianLaw struct {
	MeanNorm  float64 `json:"mean_norm"`
	ChiMean   float64 `json:"chi_mean"`
	KSChi     float64 `json:"ks_chi"`
	VarMean   float64 `json:"var_mean"`
	VarMin    float64 `json:"var_min"`
	VarMax    float64 `json:"var_max"`
	TargetVar float64 `json:"target_var"`
}

// lawAgainst measures x against N(0, v·I_k).
func lawAgainst(x *mat.Dense, v float64) (*gaussianLaw, error) {
	k, s := x.C, math.Sqrt(v)
	ks, _, err := metrics.KS(metrics.Norms(x), exact.Chi{K: float64(k), S: s}.Cdf)
	if err != nil {
		return nil, err
	}
	law := &gaussianLaw{MeanNorm: metrics.NormStatsOf(x).Mean, ChiMean: exact.Chi{K: float64(k), S: s}.Mean(),
		KSChi: ks, VarMin: math.Inf(1), VarMax: math.Inf(-1), TargetVar: v}
	for _, cv := range metrics.ColVars(x) {
		law.VarMean += cv / float64(k)
		law.VarMin, law.VarMax = min(law.VarMin, cv), max(law.VarMax, cv)
	}
	return law, nil
}

type evalFlags struct {
	run, solver string
	n, nfe      int
	seed        uint64
}

func newEvalCmd() *cobra.Command {
	f := &evalFlags{}
	cmd := &cobra.Command{
		Use:   "eval --run DIR [--n N]",
		Short: "measure a trained run and print the metrics as JSON",
		Long: `Measure a trained run: its loss on fresh draws; W2, sliced W2, MMD and energy
distance of forward samples against the target and of backward samples against
the source, next to the same metrics between two target samples (their noise
level at this n); and, for Gaussian source and target, the loss floor from the
closed form, the excess loss and the relative L2 error of the learned field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runCmd(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.run, "run", "", "trained run folder")
	fl.IntVar(&f.n, "n", 1000, "points per sample (exact W2 costs O(n³))")
	fl.StringVar(&f.solver, "solver", "rk4", "ODE solver for the transported samples")
	fl.IntVar(&f.nfe, "nfe", 100, "field evaluations for fixed-step solvers")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed")
	return cmd
}

func (f *evalFlags) runCmd(cmd *cobra.Command) error {
	if f.run == "" {
		return usagef("eval needs --run DIR")
	}
	if f.n < 2 {
		return usagef("--n %d: want at least 2 points", f.n)
	}
	if f.nfe <= 0 {
		return usagef("--nfe %d: want a positive number of evaluations", f.nfe)
	}
	if need := memBytes(8, uint64(f.n), uint64(f.n)); need > metrics.MaxAssignmentBytes {
		return usagef("--n %d: exact W2 would need a %d MiB cost matrix (limit %d MiB): use a smaller --n",
			f.n, need>>20, metrics.MaxAssignmentBytes>>20)
	}
	run, err := train.Load(f.run)
	if err != nil {
		return usagef("--run: %v", err)
	}
	src, err := dist.Parse(run.Config.Source)
	if err != nil {
		return usagef("--run: the run's source %q: %v", run.Config.Source, err)
	}
	tgt, err := dist.Parse(run.Config.Target)
	if err != nil {
		return usagef("--run: the run's target %q: %v", run.Config.Target, err)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := evaluate(ctx, run, src, tgt, f)
	if errors.Is(err, train.ErrConfig) {
		return usageError{err}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", errInterrupted, err)
		}
		return err
	}
	rep.Run = f.run
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}

func evaluate(ctx context.Context, run *train.Trained, src, tgt dist.Sampler, f *evalFlags) (*evalReport, error) {
	cfg, n := run.Config, f.n
	rep := &evalReport{N: n, Seed: f.seed, Solver: f.solver, NFE: f.nfe, Steps: run.Metrics.Steps,
		Weights: run.Metrics.Weights, FinalLoss: run.Metrics.FinalLoss}
	rng := rand.New(rand.NewPCG(f.seed, evalStream))
	var err error
	// The loss needs only forward passes: average it over more draws than
	// the O(n³) sample metrics can afford.
	rep.LossN = max(n, lossDraws)
	rep.EvalLoss, rep.EvalEtaLoss, err = train.EvalLoss(ctx, run.Net, run.Eta, cfg, src, tgt, rep.LossN, rng)
	if err != nil {
		return nil, err
	}
	if err := gaussianChecks(rep, run, src, tgt, rng); err != nil {
		return nil, err
	}
	draw := func(s dist.Sampler) *mat.Dense {
		x := mat.New(n, s.Dim())
		s.Sample(rng, x)
		return x
	}
	x0, x1, x0ref, x1ref, x0ref2, x1ref2 := draw(src), draw(tgt), draw(src), draw(tgt), draw(src), draw(tgt)
	opts := train.SampleOptions{Solver: f.solver, NFE: f.nfe}
	if _, err := run.Sample(ctx, x0, opts, rng); err != nil {
		return nil, err
	}
	if g, ok := tgt.(*dist.Gaussian); ok && g.Mean == 0 && n > 1 {
		if rep.ForwardLaw, err = lawAgainst(x0, g.Var); err != nil {
			return nil, err
		}
	}
	opts.Backward = true
	if _, err := run.Sample(ctx, x1, opts, rng); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		dst  *sampleMetrics
		x, y *mat.Dense
	}{{&rep.Forward, x0, x1ref}, {&rep.Backward, x1, x0ref}, {&rep.BaselineForward, x1ref2, x1ref}, {&rep.BaselineBackward, x0ref2, x0ref}} {
		if c.dst.W2, err = metrics.W2(ctx, c.x, c.y); err != nil {
			return nil, err
		}
		c.dst.SlicedW2 = metrics.SlicedW2(c.x, c.y, 64, rng)
		c.dst.MMD = metrics.MMD(c.x, c.y, nil)
		c.dst.Energy = metrics.EnergyDistance(c.x, c.y)
	}
	return rep, nil
}

// gaussianChecks fills the loss floor, the excess loss and the field error
// when both ends are isotropic Gaussians and the loss is the one the floor
// is defined for (independent coupling, t uniform on [0, 1]).
func gaussianChecks(rep *evalReport, run *train.Trained, src, tgt dist.Sampler, rng *rand.Rand) error {
	g0, ok0 := src.(*dist.Gaussian)
	g1, ok1 := tgt.(*dist.Gaussian)
	cfg := run.Config
	if !ok0 || !ok1 || cfg.Coupling != "independent" || cfg.TSampler != "uniform" {
		return nil
	}
	ip, err := cfg.Interpolant()
	if err != nil {
		return err
	}
	d := cfg.Dim
	fill := func(v float64) []float64 {
		s := make([]float64, d)
		for i := range s {
			s[i] = v
		}
		return s
	}
	g, err := exact.NewGaussianField(fill(g0.Mean), fill(g0.Var), fill(g1.Mean), fill(g1.Var), ip)
	if err != nil {
		return nil // not a law the closed forms cover (e.g. a one-sided path)
	}
	if lo, hi := ip.TRange(); lo == 0 && hi == 1 {
		if floor := g.LossFloor(); !math.IsInf(floor, 0) && floor > 0 {
			ex := rep.EvalLoss - floor
			rel := ex / floor
			rep.LossFloor, rep.Excess, rep.ExcessRel = &floor, &ex, &rel
		}
	}
	// Field error on x_t draws.
	if fe := g.FieldError(run.Net.Forward, rng, rep.N); !math.IsNaN(fe.RelL2) && !math.IsInf(fe.RelL2, 0) { // Σ‖b‖² = 0 leaves it undefined
		rep.FieldRelL2 = &fe.RelL2
	}
	return nil
}
