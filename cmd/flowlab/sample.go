package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/train"
)

// sampleStream separates the sample command's random stream from training's.
const sampleStream = 0x73616d706c65 // "sample"

type sampleFlags struct {
	run, direction, from, solver, out string
	n, nfe                            int
	sde                               bool
	eps, rtol, atol                   float64
	seed                              uint64
	label                             int
	guidance                          float64
}

func newSampleCmd() *cobra.Command {
	f := &sampleFlags{}
	cmd := &cobra.Command{
		Use:   "sample --run DIR --out FILE.npy [flags]",
		Short: "carry points through a trained run's flow and write them as .npy",
		Long: `Carry points with a trained run's velocity field: forward (t: 0→1) from the
source, or backward (t: 1→0) from the target, as an ODE or, with --sde, as the
stochastic interpolant's SDE dX = (b ± ε(t)·s) dt + √(2ε(t)) dW with the score
s = −η/γ of the run's denoiser (the run must have one: --gamma > 0). ε(t) is
--eps scaled by γ(t)/max γ, so that it vanishes where the score is undefined.

A run trained with --cond label takes --label L (one of its classes): every
point is carried with the field of that label. With --guidance w the field is
classifier-free guidance, v(x,t,∅) + w·(v(x,t,L) − v(x,t,∅)): w = 1 (the
default) is plain conditional sampling, w = 0 the unconditional (null-label)
field, w > 1 pushes further towards L. w ≠ 1 needs a run trained with
--cond-drop > 0. With --sde both the drift and the denoiser are guided.

The starting points are n draws from the run's source (forward) or target
(backward), or from --from: a SPEC, or an .npy/.csv file whose rows are all
carried in order (the first --n when --n is given).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runCmd(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.run, "run", "", "trained run folder")
	fl.StringVar(&f.direction, "direction", "forward", "forward (source → target) or backward (target → source)")
	fl.IntVar(&f.n, "n", 1000, "number of points")
	fl.StringVar(&f.from, "from", "", "starting points: a SPEC or FILE.npy/FILE.csv (default: the run's source, or target when backward)")
	fl.StringVar(&f.solver, "solver", "", "ODE solver euler, midpoint, heun, rk4 (default), dopri5; with --sde: euler (default) or heun")
	fl.IntVar(&f.nfe, "nfe", 100, "drift evaluations for fixed-step solvers")
	fl.Float64Var(&f.rtol, "rtol", 1e-5, "dopri5 relative tolerance")
	fl.Float64Var(&f.atol, "atol", 1e-5, "dopri5 absolute tolerance")
	fl.BoolVar(&f.sde, "sde", false, "sample the SDE (needs a run with a denoiser η)")
	fl.Float64Var(&f.eps, "eps", train.DefaultEps, "SDE diffusion scale: the largest ε(t)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed for the starting draws and the SDE noise")
	fl.StringVar(&f.out, "out", "", "output .npy file")
	fl.IntVar(&f.label, "label", 0, "class label to sample (runs trained with --cond label)")
	fl.Float64Var(&f.guidance, "guidance", 1, "classifier-free guidance weight w: 1 conditional, 0 unconditional, > 1 stronger (needs --label)")
	return cmd
}

func (f *sampleFlags) runCmd(cmd *cobra.Command) error {
	if f.run == "" || f.out == "" {
		return usagef("sample needs --run DIR and --out FILE.npy")
	}
	if !strings.HasSuffix(f.out, ".npy") {
		return usagef("--out %q: the output is written as .npy; name it FILE.npy", f.out)
	}
	if f.n <= 0 {
		return usagef("--n %d: want a positive number of points", f.n)
	}
	if f.nfe <= 0 {
		return usagef("--nfe %d: want a positive number of evaluations", f.nfe)
	}
	if f.direction != "forward" && f.direction != "backward" {
		return usagef("--direction %q: want forward or backward", f.direction)
	}
	if f.sde && (f.solver == "midpoint" || f.solver == "rk4" || f.solver == "dopri5") {
		return usagef("--sde --solver %s: the SDE solvers are euler (Euler–Maruyama) and heun", f.solver)
	}
	run, err := train.Load(f.run)
	if err != nil {
		return usagef("--run: %v", err)
	}
	// The points are held in memory (the integration works on chunks of
	// train.SampleChunk rows): refuse up front what cannot fit.
	if err := checkMemory(fmt.Sprintf("--n %d: %d points of dimension %d", f.n, f.n, run.Config.Dim),
		memBytes(uint64(f.n), uint64(run.Config.Dim), 4)); err != nil {
		return err
	}
	backward := f.direction == "backward"
	from := f.from
	if from == "" {
		from = run.StartLaw(backward)
	}
	rng := rand.New(rand.NewPCG(f.seed, sampleStream))
	x, err := train.StartPoints(from, f.n, !cmd.Flags().Changed("n"), rng)
	if err != nil {
		return usagef("--from %s: %v", from, err)
	}
	lat, err := runLatent(f.run, run)
	if err != nil {
		return err
	}
	if lat != nil {
		if x, err = toLatent(lat, x); err != nil {
			return usagef("--from %s: %v", from, err)
		}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	o := train.SampleOptions{Backward: backward, Solver: f.solver, NFE: f.nfe, RTol: f.rtol, ATol: f.atol, SDE: f.sde, Eps: f.eps}
	if cmd.Flags().Changed("label") {
		o.Labels = make([]int, x.R)
		for i := range o.Labels {
			o.Labels[i] = f.label
		}
	}
	if cmd.Flags().Changed("guidance") {
		o.Guidance = &f.guidance
	}
	res, err := run.Sample(ctx, x, o, rng)
	if errors.Is(err, train.ErrConfig) {
		return usageError{err}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", errInterrupted, err)
		}
		return err
	}
	if lat != nil && endInData(run, lat, backward) {
		x = lat.Decode(x)
	}
	if err := dist.WriteNPYFile(f.out, x); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %d×%d samples to %s (%s, %d field evaluations)\n", x.R, x.C, f.out, f.direction, res.NFE)
	return nil
}

// availableMemory returns the bytes of memory the system reports available
// (MemAvailable in /proc/meminfo), or 0 when it cannot tell.
func availableMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseUint(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
