package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

// likelihoodStream separates the likelihood command's random stream.
const likelihoodStream = 0x6c696b // "lik"

// errNoDensity marks a source law whose log-density flowlab cannot evaluate.
var errNoDensity = errors.New("has no density flowlab can evaluate")

type likelihoodFlags struct {
	run, data, out, solver string
	n, nfe                 int
	exact, hutchinson      bool
	rtol, atol             float64
	seed                   uint64
}

// likelihoodReport is the JSON likelihood prints.
type likelihoodReport struct {
	Run        string  `json:"run"`
	Data       string  `json:"data"`
	N          int     `json:"n"`
	Dim        int     `json:"dim"`
	Divergence string  `json:"divergence"` // exact or hutchinson
	Solver     string  `json:"solver"`
	NFE        int     `json:"nfe"`
	MeanNats   float64 `json:"mean_log_density_nats"`
	SDNats     float64 `json:"sd_log_density_nats"`
	BitsPerDim float64 `json:"nll_bits_per_dim"` // −mean/(D·ln 2)
	// For an isotropic Gaussian target: the mean absolute difference between
	// the model's log-density and the target's own, at the data points.
	TargetMAE *float64 `json:"target_log_density_mae,omitempty"`
	Out       string   `json:"out,omitempty"`
}

func newLikelihoodCmd() *cobra.Command {
	f := &likelihoodFlags{}
	cmd := &cobra.Command{
		Use:   "likelihood --run DIR --data SPEC|FILE [--exact|--hutchinson] [--out FILE.npy]",
		Short: "per-point log-density of data under a trained run's flow",
		Long: `The model density at t = 1 of each data point: carried backward along the run's
velocity field to t = 0, log p1(x) = log p0(x0) − ∫₀¹ ∇·v dt (solve's
instantaneous change of variables), with the exact divergence (Dim JVPs per
evaluation, the default) or Hutchinson's estimator (one Rademacher probe per
point). p0 is the run's source, which must have a density: gaussian, or
embedded with eps > 0 (or full rank). Prints the mean in nats and the negative
log-likelihood in bits per dimension as JSON; --out writes the per-point values
as an n×1 float32 .npy. For an isotropic Gaussian target the JSON adds the mean
absolute difference from the target's own log-density.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runCmd(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.run, "run", "", "trained run folder")
	fl.StringVar(&f.data, "data", "", "points: a SPEC (n draws) or FILE.npy/FILE.csv (every row, or the first --n)")
	fl.IntVar(&f.n, "n", 1000, "draws from a SPEC")
	fl.BoolVar(&f.exact, "exact", false, "exact divergence (the default)")
	fl.BoolVar(&f.hutchinson, "hutchinson", false, "Hutchinson's divergence estimator")
	fl.StringVar(&f.solver, "solver", "rk4", "ODE solver euler, midpoint, heun, rk4, dopri5")
	fl.IntVar(&f.nfe, "nfe", 100, "field evaluations for fixed-step solvers")
	fl.Float64Var(&f.rtol, "rtol", 1e-5, "dopri5 relative tolerance")
	fl.Float64Var(&f.atol, "atol", 1e-5, "dopri5 absolute tolerance")
	fl.StringVar(&f.out, "out", "", "write the per-point log-densities to FILE.npy")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed (draws and Hutchinson's probes)")
	return cmd
}

func (f *likelihoodFlags) runCmd(cmd *cobra.Command) error {
	if f.run == "" || f.data == "" {
		return usagef("likelihood needs --run DIR and --data SPEC|FILE")
	}
	if f.exact && f.hutchinson {
		return usagef("--exact and --hutchinson: choose one divergence")
	}
	if f.out != "" && !strings.HasSuffix(f.out, ".npy") {
		return usagef("--out %q: the log-densities are written as .npy; name it FILE.npy", f.out)
	}
	if f.n <= 0 {
		return usagef("--n %d: want a positive number of points", f.n)
	}
	opts, err := odeOptions(f.solver, f.nfe, f.rtol, f.atol)
	if err != nil {
		return err
	}
	run, err := train.Load(f.run)
	if err != nil {
		return usagef("--run: %v", err)
	}
	logp0, err := sourceLogDensity(run.Config.Source)
	if err != nil {
		return usagef("--run: %v", err)
	}
	// The points, their trajectory state and the log-density stay in memory.
	if err := checkMemory(fmt.Sprintf("--n %d: %d points of dimension %d", f.n, f.n, run.Config.Dim),
		memBytes(uint64(f.n), uint64(run.Config.Dim)+2, 4*4)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(f.seed, likelihoodStream))
	x, err := train.StartPoints(f.data, f.n, !cmd.Flags().Changed("n"), rng)
	if err != nil {
		return usagef("--data %s: %v", f.data, err)
	}
	if x.C != run.Config.Dim {
		return usagef("--data %s: points have %d columns, the run's field has dimension %d", f.data, x.C, run.Config.Dim)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep := &likelihoodReport{Run: f.run, Data: f.data, N: x.R, Dim: x.C, Divergence: "exact", Solver: string(opts.Method), Out: f.out}
	if f.hutchinson {
		rep.Divergence = "hutchinson"
	}
	target := x.Clone()
	drift, err := run.DriftJVP()
	if err != nil {
		return usagef("--run: %v", err)
	}
	lp, res, err := solve.LogLikelihood(ctx, drift, x, logp0,
		solve.LikOptions{Options: opts, Hutchinson: f.hutchinson, Rng: rng})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", errInterrupted, err)
		}
		return err
	}
	rep.NFE = res.NFE
	summarise(rep, lp)
	if g, ok := parseGaussian(run.Config.Target); ok {
		mae := 0.0
		for i := range lp {
			mae += math.Abs(lp[i]-gaussianLogDensity(g, target.Row(i))) / float64(len(lp))
		}
		rep.TargetMAE = &mae
	}
	if f.out != "" {
		col := mat.New(len(lp), 1)
		for i, v := range lp {
			col.Data[i] = float32(v)
		}
		if err := dist.WriteNPYFile(f.out, col); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("likelihood: %w (a log-density is not finite)", err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}

// summarise fills the mean, spread and bits per dimension.
func summarise(rep *likelihoodReport, lp []float64) {
	var s, ss float64
	for _, v := range lp {
		s += v
	}
	m := s / float64(len(lp))
	for _, v := range lp {
		ss += (v - m) * (v - m)
	}
	rep.MeanNats = m
	if len(lp) > 1 {
		rep.SDNats = math.Sqrt(ss / float64(len(lp)-1))
	}
	rep.BitsPerDim = -m / (float64(rep.Dim) * math.Ln2)
}

// odeOptions reads a solver name and its budget as solve.Options (a usage
// error when they are wrong).
func odeOptions(solver string, nfe int, rtol, atol float64) (solve.Options, error) {
	m, err := solve.ParseMethod(solver)
	if err != nil {
		return solve.Options{}, usagef("--solver: %v", err)
	}
	o := solve.Options{Method: m, RTol: rtol, ATol: atol}
	if m != solve.Dopri5 {
		if o.Steps, err = solve.StepsForNFE(m, nfe); err != nil {
			return o, usagef("--nfe: %v", err)
		}
	}
	return o, nil
}

// parseGaussian returns the spec's law when it is an isotropic Gaussian.
func parseGaussian(spec string) (*dist.Gaussian, bool) {
	s, err := dist.Parse(spec)
	if err != nil {
		return nil, false
	}
	g, ok := s.(*dist.Gaussian)
	return g, ok
}

// gaussianLogDensity is log N(x; mean·1, var·I).
func gaussianLogDensity(g *dist.Gaussian, x []float32) float64 {
	var q float64
	for _, v := range x {
		d := float64(v) - g.Mean
		q += d * d
	}
	return -0.5*q/g.Var - 0.5*float64(g.D)*math.Log(2*math.Pi*g.Var)
}

// sourceLogDensity returns log p0 of a run's source: an isotropic Gaussian,
// or an embedded Gaussian of full rank (eps > 0 or rank = dim). Any other
// law is an error wrapping errNoDensity.
func sourceLogDensity(spec string) (func([]float32) float64, error) {
	s, err := dist.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("the run's source %q: %w", spec, err)
	}
	switch g := s.(type) {
	case *dist.Gaussian:
		return func(x []float32) float64 { return gaussianLogDensity(g, x) }, nil
	case *dist.Embedded:
		if g.Eps == 0 && g.Rank < g.D {
			return nil, fmt.Errorf("the run's source %q %w: rank %d < dim %d and eps = 0 (a law on a subspace)", spec, errNoDensity, g.Rank, g.D)
		}
		return embeddedLogDensity(g), nil
	}
	return nil, fmt.Errorf("the run's source %q %w (log p0 is known for gaussian, and for embedded of full rank or eps > 0)", spec, errNoDensity)
}

// embeddedLogDensity is the log-density of a full-rank embedded Gaussian:
// with z = Qᵀx, Σ_k −z_k²/(2w_k) − log(2πw_k)/2, w_k = Var for k < Rank, Eps
// beyond.
func embeddedLogDensity(e *dist.Embedded) func([]float32) float64 {
	if !e.Rotated() {
		// Q is the identity: z = x, with no D×D matrix (D may be large).
		return func(x []float32) float64 {
			var lp float64
			for k, v := range x {
				w := e.Var
				if k >= e.Rank {
					w = e.Eps
				}
				z := float64(v)
				lp -= z*z/(2*w) + 0.5*math.Log(2*math.Pi*w)
			}
			return lp
		}
	}
	q := e.Basis() // D ≤ dist's bound on rotated embeddings
	return func(x []float32) float64 {
		var lp float64
		for k := 0; k < e.D; k++ {
			w := e.Var
			if k >= e.Rank {
				w = e.Eps
			}
			var z float64
			for i, v := range x {
				z += q.At(i, k) * float64(v)
			}
			lp -= z*z/(2*w) + 0.5*math.Log(2*math.Pi*w)
		}
		return lp
	}
}
