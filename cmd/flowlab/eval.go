package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/train"
)

type evalFlags struct {
	run, solver string
	n, nfe      int
	seed        uint64
	fd          fdFlags
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
	f.fd.add(fl)
	fl.IntVar(&f.fd.n, "fd-n", 5000, "generated images scored against the MNIST test split (--fd-mnist)")
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
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	out, err := f.evaluate(ctx, cmd, run)
	if errors.Is(err, train.ErrConfig) {
		return usageError{err}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", errInterrupted, err)
		}
		return err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}

// evaluate returns the run's Evaluation (none for a latent run) and, with
// --fd-mnist, its FD-MNIST.
func (f *evalFlags) evaluate(ctx context.Context, cmd *cobra.Command, run *train.Trained) (any, error) {
	lat, err := runLatent(f.run, run)
	if err != nil {
		return nil, err
	}
	out := &fdEvaluation{Run: f.run, Latent: run.Config.Latent}
	if lat == nil {
		if out.Evaluation, err = run.Evaluate(ctx, train.EvalOptions{N: f.n, Solver: f.solver, NFE: f.nfe, Seed: f.seed}); err != nil {
			return nil, err
		}
		out.Evaluation.Run = f.run
		if !f.fd.on {
			return out.Evaluation, nil // the report as it always was
		}
	} else {
		out.Note = latentNote(run.Config.Latent)
	}
	if f.fd.on {
		if out.FDMNIST, err = f.fd.runFD(ctx, cmd, run, lat, train.SampleOptions{Solver: f.solver, NFE: f.nfe}, f.seed); err != nil {
			return nil, err
		}
	}
	return out, nil
}
