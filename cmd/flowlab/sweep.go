package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/experiment"
	"github.com/flowlab/flowlab/sweep"
)

// newSweepCmd groups the sweep subcommands: plan a grid of cells, run them
// (one, all here, or as a Slurm array), see where they stand, collect.
func newSweepCmd() *cobra.Command {
	var (
		mnistDir string
		quiet    bool
	)
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "run the study's experiments as cells: on this machine or as a Slurm job array",
		Long: `sweep runs the study's experiments as independent cells (one training run and
its measurements each) in a plan folder:

  flowlab sweep plan all --scale quick --out DIR   # write the cells, print the estimate
  flowlab sweep slurm DIR                          # or: flowlab sweep local DIR
  flowlab sweep collect DIR                        # DIR/runs: the run folders and the report

A finished cell is skipped, an interrupted one runs again; collect gives the
bytes that flowlab reproduce gives for the same scale and seed.`,
	}
	cmd.PersistentFlags().StringVar(&mnistDir, "mnist-dir", "", "folder with the MNIST IDX files (default: $FLOWLAB_MNIST_DIR or the GoMNIST module)")
	cmd.PersistentFlags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines on standard error")
	runner := func() *experiment.Runner {
		o := experiment.Options{MNISTDir: mnistDir}
		if !quiet {
			o.Progress = cmd.ErrOrStderr()
		}
		return experiment.NewRunner(o)
	}
	cmd.AddCommand(newSweepPlanCmd(runner), newSweepRunCmd(runner), newSweepLocalCmd(runner, &quiet), newSweepSlurmCmd(),
		newSweepStatusCmd(), newSweepCollectCmd(runner))
	return cmd
}

// sweepErr turns what a user can mend (a plan folder from another build, a
// changed cell, an index out of range, a cell another process runs, an
// unknown experiment or scale) into a usage error (exit 2), and a
// cancellation into errInterrupted.
func sweepErr(err error) error {
	var ue usageError
	switch {
	case err == nil || errors.As(err, &ue):
		return err
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %v", errInterrupted, err)
	case errors.Is(err, sweep.ErrPlan), errors.Is(err, sweep.ErrCellBusy), errors.Is(err, sweep.ErrNotReady),
		errors.Is(err, experiment.ErrUnknownExperiment), errors.Is(err, experiment.ErrUnknownScale):
		return usageError{err}
	}
	return err
}

func newSweepPlanCmd(runner func() *experiment.Runner) *cobra.Command {
	var (
		scale, out string
		seed       uint64
		seeds      int
	)
	cmd := &cobra.Command{
		Use:   "plan <" + strings.Join(append(experiment.Names(), "all"), "|") + ">",
		Short: "write an experiment's cells into a new plan folder and print the estimated CPU time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := experiment.ParseScale(scale)
			if err != nil {
				return usagef("--scale: %v", err)
			}
			if out == "" {
				return usagef("sweep plan: --out is required (a new folder for the plan)")
			}
			if seeds < 0 {
				return usagef("sweep plan: --seeds %d: want a positive number (0: the scale's)", seeds)
			}
			if _, err := os.Stat(filepath.Join(out, sweep.PlanFile)); err == nil {
				return usagef("sweep plan: %s already holds a plan: choose another folder", out)
			}
			p, err := runner().Plan(cmd.Context(), args[0], sc, seed, seeds)
			if err != nil {
				return sweepErr(err)
			}
			if err := sweep.Write(out, p); err != nil {
				return sweepErr(err)
			}
			printEstimate(cmd.OutOrStdout(), out, p)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scale, "scale", "quick", "smoke, quick or paper")
	f.StringVar(&out, "out", "", "the plan folder to create")
	f.Uint64Var(&seed, "seed", 1, "base random seed (the seed of flowlab reproduce)")
	f.IntVar(&seeds, "seeds", 0, "seeds per cell (default: the scale's: 2 smoke, 5 quick, 3 paper)")
	return cmd
}

// printEstimate prints the number of cells and the estimated CPU time, in
// total and per experiment.
func printEstimate(w io.Writer, dir string, p *sweep.Plan) {
	hours := func(s float64) string { return fmt.Sprintf("%.3g", s/3600) }
	fmt.Fprintf(w, "planned %d cells in %s (scale %s, seed %d): estimated %s CPU hours\n", p.NCells, dir, p.Scale, p.Seed, hours(p.CostS))
	for _, name := range p.Experiments {
		n, s := 0, 0.0
		for _, c := range p.Cells {
			if c.Experiment == name {
				n, s = n+1, s+c.Cost
			}
		}
		fmt.Fprintf(w, "  %-10s %4d cells  %8s CPU hours\n", name, n, hours(s))
	}
	fmt.Fprintf(w, "next: flowlab sweep local %s, or flowlab sweep slurm %s; then flowlab sweep collect %s\n", dir, dir, dir)
}

// readPlan reads the plan folder dir, a usage error when it is not one this
// flowlab runs.
func readPlan(dir string) (*sweep.Plan, error) {
	p, err := sweep.Read(dir)
	return p, sweepErr(err)
}

func newSweepRunCmd(runner func() *experiment.Runner) *cobra.Command {
	var index int
	cmd := &cobra.Command{
		Use:   "run DIR",
		Short: "run one cell of a plan (an array task): --index, or $SLURM_ARRAY_TASK_ID, or $JOB_COMPLETION_INDEX",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			i, err := cellIndex(cmd.Flags().Changed("index"), index)
			if err != nil {
				return err
			}
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			o, err := sweep.RunCell(cmd.Context(), args[0], p, i, runner())
			if err != nil {
				return sweepErr(err)
			}
			what := "done"
			if o == sweep.Skipped {
				what = "already done"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cell %d (%s): %s\n", i, p.Cells[i].ID, what)
			return nil
		},
	}
	cmd.Flags().IntVar(&index, "index", 0, "the cell's index (default: $SLURM_ARRAY_TASK_ID, then $JOB_COMPLETION_INDEX)")
	return cmd
}

// cellIndex returns --index when set, else the array task's index from the
// environment: Slurm's SLURM_ARRAY_TASK_ID, or a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX.
func cellIndex(set bool, index int) (int, error) {
	if set {
		return index, nil
	}
	for _, name := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		if v, ok := os.LookupEnv(name); ok {
			i, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, usagef("sweep run: $%s=%q is not a cell index", name, v)
			}
			return i, nil
		}
	}
	return 0, usagef("sweep run: no cell index: give --index, or run as an array task ($SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)")
}

func newSweepLocalCmd(runner func() *experiment.Runner, quiet *bool) *cobra.Command {
	var jobs int
	cmd := &cobra.Command{
		Use:   "local DIR",
		Short: "run every cell of a plan that is not done on this machine, --jobs at a time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if jobs < 1 {
				return usagef("sweep local: --jobs %d: want at least 1", jobs)
			}
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			var progress io.Writer
			if !*quiet {
				progress = cmd.ErrOrStderr()
			}
			if err := sweep.Local(cmd.Context(), args[0], p, runner(), jobs, progress); err != nil {
				return sweepErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "all %d cells done; collect with flowlab sweep collect %s\n", len(p.Cells), args[0])
			return nil
		},
	}
	cmd.Flags().IntVar(&jobs, "jobs", runtime.GOMAXPROCS(0), "cells run at once")
	return cmd
}

func newSweepSlurmCmd() *cobra.Command {
	var o slurmOptions
	cmd := &cobra.Command{
		Use:   "slurm DIR",
		Short: "submit the cells that are not done as a Slurm job array, and a collect job after it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.cpus < 1 || o.maxParallel < 0 {
				return usagef("sweep slurm: --cpus %d, --max-parallel %d: want ≥ 1 and ≥ 0", o.cpus, o.maxParallel)
			}
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			p, err := readPlan(dir)
			if err != nil {
				return err
			}
			st, err := sweep.Status(dir, p)
			if err != nil {
				return err
			}
			idx := sweep.Indices(st, sweep.Missing, sweep.Failed)
			if len(idx) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no cell to submit (all %d done or running); collect with flowlab sweep collect %s\n", len(p.Cells), dir)
				return nil
			}
			if o.flowlab, err = os.Executable(); err != nil {
				return err
			}
			return submitSlurm(cmd.Context(), cmd.OutOrStdout(), dir, p, idx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.partition, "partition", "", "Slurm partition (default: the cluster's)")
	f.StringVar(&o.time, "time", "", "time limit of each task, as sbatch --time takes it")
	f.StringVar(&o.mem, "mem", "", "memory of each task, as sbatch --mem takes it")
	f.IntVar(&o.cpus, "cpus", 1, "CPUs of each task (its GOMAXPROCS)")
	f.IntVar(&o.maxParallel, "max-parallel", 0, "most tasks running at once (the array's %K); 0: no limit")
	f.BoolVar(&o.dryRun, "dry-run", false, "write and print the scripts and the sbatch commands, submit nothing")
	return cmd
}

func newSweepStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status DIR",
		Short: "list a plan's done, running, failed and missing cells",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			st, err := sweep.Status(args[0], p)
			if err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), args[0], st)
			return nil
		},
	}
}

// printStatus prints the count of cells in each state, a line per cell
// that is not done, and how to run the missing and failed ones.
func printStatus(w io.Writer, dir string, st []sweep.CellState) {
	n := map[sweep.State]int{}
	for _, s := range st {
		n[s.State]++
	}
	if n[sweep.Finished] == len(st) {
		fmt.Fprintf(w, "all %d cells done; collect with flowlab sweep collect %s\n", len(st), dir)
		return
	}
	fmt.Fprintf(w, "%d cells: %d done, %d running, %d failed, %d missing\n", len(st), n[sweep.Finished], n[sweep.Running], n[sweep.Failed], n[sweep.Missing])
	for _, s := range st {
		if s.State != sweep.Finished {
			fmt.Fprintf(w, "%-8s %4d %s %s\n", s.State, s.Index, s.ID, s.Error)
		}
	}
	if left := sweep.Indices(st, sweep.Missing, sweep.Failed); len(left) > 0 {
		fmt.Fprintf(w, "to run them: flowlab sweep slurm %s (--array=%s), or flowlab sweep local %s\n", dir, sweep.ArrayList(left), dir)
	}
}

func newSweepCollectCmd(runner func() *experiment.Runner) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "collect DIR",
		Short: "write the run folders, the report and results.json from a plan's finished cells",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(args[0], "runs")
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			if err := sweep.Collect(cmd.Context(), args[0], p, runner(), out); err != nil {
				return sweepErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "collected %d cells of %s into %s\n", len(p.Cells), strings.Join(p.Experiments, ", "), out)
			return writeAll(cmd.OutOrStdout(), out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the run folders (default: DIR/runs)")
	return cmd
}
