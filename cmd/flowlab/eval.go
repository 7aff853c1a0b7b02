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
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := run.Evaluate(ctx, train.EvalOptions{N: f.n, Solver: f.solver, NFE: f.nfe, Seed: f.seed})
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
