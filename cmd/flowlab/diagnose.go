package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/diagnose"
	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/train"
)

// diagnoseStream separates the diagnose command's random stream.
const diagnoseStream = 0x64676e // "dgn"

// maxFullCap bounds --full-cap: a full spectrum costs a D×D SVD per point
// and time, and the flow map D² floats per point through every solver
// stage.
const maxFullCap = 512

type diagnoseFlags struct {
	run, direction, from, solver, out string
	n, times, nfe, fullCap, topK      int
	rtol, atol                        float64
	seed                              uint64
}

// diagnoseOutput is the JSON diagnose prints: the library's report and,
// for an isotropic Gaussian source and target, the exact field's.
type diagnoseOutput struct {
	Run       string           `json:"run"`
	Direction string           `json:"direction"`
	From      string           `json:"from"`
	Report    *diagnose.Report `json:"report"`
	Exact     *exactCompare    `json:"exact,omitempty"`
}

// exactCompare sets the learned Jacobians beside the exact field
// v*(x, t) = c(t)·x of N(0, aI) → N(0, bI) (linear interpolant), whose
// singular values are all |c(t)| and whose flow map has log-determinant
// (D/2)·log(b/a) forward.
type exactCompare struct {
	Times []exactTime `json:"times"`
	// Learned flow map log|det Φ| (median over points) against the exact.
	LogDet      *float64 `json:"log_det,omitempty"`
	LogDetExact float64  `json:"log_det_exact"`
}

// exactTime compares one time: |c(t)|, the largest relative error of any
// learned singular value at any point (from each index's min and max), and
// that of the medians.
type exactTime struct {
	T      float64  `json:"t"`
	C      float64  `json:"c"`
	AbsC   float64  `json:"abs_c"`
	MaxRel *float64 `json:"max_rel_err,omitempty"` // omitted where c(t) = 0
	// MedianRel is the largest over indices i of |median σ_i − |c||/|c|:
	// the typical point's error.
	MedianRel *float64 `json:"median_rel_err,omitempty"`
	Median1   float64  `json:"median_sigma1"`
}

func newDiagnoseCmd() *cobra.Command {
	f := &diagnoseFlags{}
	cmd := &cobra.Command{
		Use:   "diagnose --run DIR [--n N] [--times K] [--direction forward|backward] [--out DIR]",
		Short: "Jacobian spectra, log-norm and Lipschitz constants along a trained flow",
		Long: fmt.Sprintf(`Carry N points along a trained run's ODE (forward from the source, backward from
the target, or from --from) and measure the field's Jacobian ∂v/∂x at K evenly
spaced times, from the network's JVPs (never finite differences): its singular
values, its log-norm λmax((J+Jᵀ)/2) and its divergence, as quantiles over the
points; the largest local Lipschitz constant σ₁ met, and when; the flow map's
Jacobian by the variational equation (integrated with the same solver steps),
its singular values and log-determinant, beside solve's likelihood integral.

Up to --full-cap dimensions (default %d, at most %d) every Jacobian is
decomposed in full; above it the top --top-k singular values come from subspace
iteration (JVPs and VJPs) and the flow map is not formed (a note says so).
For an isotropic Gaussian source and target the exact field c(t)·x is set
beside the learned one. JSON to stdout; --out DIR also writes diagnose.json and
the figures.`, diagnose.DefaultFullCap, maxFullCap),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runCmd(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.run, "run", "", "trained run folder")
	fl.IntVar(&f.n, "n", 256, "points carried")
	fl.IntVar(&f.times, "times", 11, "evenly spaced measurement times, ends included (≥ 2)")
	fl.StringVar(&f.direction, "direction", "forward", "forward (source → target) or backward (target → source)")
	fl.StringVar(&f.from, "from", "", "starting points: a SPEC or FILE.npy/FILE.csv (default: the run's source, or target when backward)")
	fl.StringVar(&f.solver, "solver", "rk4", "ODE solver euler, midpoint, heun, rk4, dopri5")
	fl.IntVar(&f.nfe, "nfe", 100, "field evaluations for fixed-step solvers")
	fl.Float64Var(&f.rtol, "rtol", 1e-5, "dopri5 relative tolerance")
	fl.Float64Var(&f.atol, "atol", 1e-5, "dopri5 absolute tolerance")
	fl.IntVar(&f.fullCap, "full-cap", diagnose.DefaultFullCap, "largest dimension whose Jacobians are decomposed in full")
	fl.IntVar(&f.topK, "top-k", 8, "singular values estimated above the cap")
	fl.StringVar(&f.out, "out", "", "folder for diagnose.json and figures/*.png")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed (starting draws, power iterations)")
	return cmd
}

func (f *diagnoseFlags) check() error {
	switch {
	case f.run == "":
		return usagef("diagnose needs --run DIR")
	case f.n < 1:
		return usagef("--n %d: want at least 1 point", f.n)
	case f.times < 2:
		return usagef("--times %d: want at least 2 (the ends of the interval)", f.times)
	case f.direction != "forward" && f.direction != "backward":
		return usagef("--direction %q: want forward or backward", f.direction)
	case f.fullCap < 1 || f.fullCap > maxFullCap:
		return usagef("--full-cap %d: want 1..%d (a full spectrum costs a D×D SVD per point and time)", f.fullCap, maxFullCap)
	case f.topK < 1:
		return usagef("--top-k %d: want at least 1", f.topK)
	}
	return nil
}

func (f *diagnoseFlags) runCmd(cmd *cobra.Command) error {
	if err := f.check(); err != nil {
		return err
	}
	opts, err := odeOptions(f.solver, f.nfe, f.rtol, f.atol)
	if err != nil {
		return err
	}
	opts.Backward = f.direction == "backward"
	run, err := train.Load(f.run)
	if err != nil {
		return usagef("--run: %v", err)
	}
	if run.Config.Drift == train.DriftSplit {
		return usagef("--run %s: its drift is split (b = v + γ̇·η, two networks); diagnose analyses a drift that is one network, so train with --drift full to diagnose it", f.run)
	}
	d := run.Config.Dim
	if d <= f.fullCap {
		// n rows of x and Φ (D + D² float32s): the state, up to 9 solver
		// buffers (dopri5's 7 stages, its trial step and a scratch row) and
		// one recorded copy per measurement time.
		if err := checkMemory(fmt.Sprintf("--n %d: the flow map of %d points in dimension %d", f.n, f.n, d),
			memBytes(uint64(10+f.times), 4, uint64(f.n), uint64(d+d*d))); err != nil {
			return err
		}
	}
	from := f.from
	if from == "" {
		from = run.StartLaw(opts.Backward)
	}
	rng := rand.New(rand.NewPCG(f.seed, diagnoseStream))
	x0, err := train.StartPoints(from, f.n, !cmd.Flags().Changed("n"), rng)
	if err != nil {
		return usagef("--from %s: %v", from, err)
	}
	if x0.C != d {
		return usagef("--from %s: points have %d columns, the run's field has dimension %d", from, x0.C, d)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := diagnose.Run(ctx, diagnose.NewNetField(run.Net), x0, diagnose.Options{Solve: opts,
		Times: diagnose.EvenTimes(f.times), FullCap: f.fullCap, TopK: f.topK, Seed: f.seed})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", errInterrupted, err)
		}
		return err
	}
	if rep.Note != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "flowlab: note:", rep.Note)
	}
	out := &diagnoseOutput{Run: f.run, Direction: f.direction, From: from, Report: rep, Exact: exactGaussian(run.Config, rep)}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		var ue *json.UnsupportedValueError
		if errors.As(err, &ue) {
			return fmt.Errorf("diagnose: a measurement is not finite (%v): the flow or its Jacobian diverged", ue.Str)
		}
		return err
	}
	if f.out != "" {
		if err := writeDiagnosis(f.out, b, rep, out.Exact.overlays()); err != nil {
			return err
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}

// writeDiagnosis writes dir/diagnose.json and dir/figures/*.png.
func writeDiagnosis(dir string, js []byte, rep *diagnose.Report, overlays []diagnose.Overlay) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "diagnose.json"), append(js, '\n')); err != nil {
		return err
	}
	_, err := rep.Figures(filepath.Join(dir, "figures"), overlays...)
	return err
}

// overlays draws the exact field's log-norm c(t) and Lipschitz constant
// |c(t)| over the learned ones (none when ec is nil).
func (ec *exactCompare) overlays() []diagnose.Overlay {
	if ec == nil {
		return nil
	}
	var ts, c, absC []float64
	for _, et := range ec.Times {
		ts, c, absC = append(ts, et.T), append(c, et.C), append(absC, et.AbsC)
	}
	return []diagnose.Overlay{
		{Panel: diagnose.LogNormPanel, Curve: plot.Curve{Label: "exact c(t)", X: ts, Y: c}},
		{Panel: diagnose.LipschitzPanel, Curve: plot.Curve{Label: "exact |c(t)|", X: ts, Y: absC}},
	}
}

// exactGaussian compares the report with the exact field when the run
// carries N(0, aI) to N(0, bI) along the linear interpolant; nil otherwise.
func exactGaussian(cfg train.Config, rep *diagnose.Report) *exactCompare {
	s0, e0 := dist.Parse(cfg.Source)
	s1, e1 := dist.Parse(cfg.Target)
	g0, ok0 := s0.(*dist.Gaussian)
	g1, ok1 := s1.(*dist.Gaussian)
	if e0 != nil || e1 != nil || !ok0 || !ok1 || g0.Mean != 0 || g1.Mean != 0 || cfg.Interp != "linear" || cfg.Gamma != "0" || cfg.Coupling != "independent" {
		return nil
	}
	g := exact.Isotropic(cfg.Dim, g0.Var, g1.Var)
	one, out := mat.New(1, cfg.Dim), mat.New(1, cfg.Dim)
	one.Data[0] = 1
	ec := &exactCompare{LogDetExact: 0.5 * float64(cfg.Dim) * math.Log(g1.Var/g0.Var)}
	if rep.End < rep.Start {
		ec.LogDetExact = -ec.LogDetExact
	}
	for _, ts := range rep.Times {
		g.Eval(ts.T, one, out) // v*(e₁, t) = c(t)·e₁
		c := math.Abs(float64(out.Data[0]))
		et := exactTime{T: ts.T, C: float64(out.Data[0]), AbsC: c, Median1: ts.Sigma[0].Median}
		if c > 0 {
			var m, med float64
			for _, q := range ts.Sigma {
				m = max(m, math.Abs(q.Min-c)/c, math.Abs(q.Max-c)/c)
				med = max(med, math.Abs(q.Median-c)/c)
			}
			et.MaxRel, et.MedianRel = &m, &med
		}
		ec.Times = append(ec.Times, et)
	}
	if rep.FlowMap != nil {
		ld := rep.FlowMap.LogDet.Median
		ec.LogDet = &ld
	}
	return ec
}
