package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/experiment"
	"github.com/flowlab/flowlab/report"
)

// newReproduceCmd runs the study's experiments and, for "all", writes the report.
func newReproduceCmd() *cobra.Command {
	var (
		scale, out, mnistDir string
		seed                 uint64
		quiet                bool
	)
	names := append(experiment.Names(), "all")
	cmd := &cobra.Command{
		Use:   "reproduce <" + strings.Join(names, "|") + ">",
		Short: "run one of the study's experiments (or all) and write its run folder",
		Long: `reproduce runs an experiment of the study and writes OUT/NAME/config.json,
metrics.json, times.json and figures/*.png. "all" runs them all in order and
writes OUT/report.html and OUT/results.json (the numbers only). Scales: smoke
(seconds), quick (all of them, five seeds each, in about a quarter of an hour on two
idle cores), paper (the seed's scale).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			sc, err := experiment.ParseScale(scale)
			if err != nil {
				return usagef("--scale: %v", err)
			}
			known := false
			for _, n := range names {
				known = known || n == name
			}
			if !known {
				return usagef("reproduce: unknown experiment %q (want one of %s)", name, strings.Join(names, ", "))
			}
			opts := experiment.Options{MNISTDir: mnistDir}
			if !quiet {
				opts.Progress = cmd.ErrOrStderr()
			}
			t0 := time.Now()
			err = experiment.RunWith(cmd.Context(), name, sc, out, seed, opts)
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("%w: %v", errInterrupted, err)
			}
			if err != nil {
				return err
			}
			where := filepath.Join(out, name)
			if name == "all" {
				where = out
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: done in %.1fs, results in %s\n", name, time.Since(t0).Seconds(), where)
			if name == "all" {
				return writeAll(cmd.OutOrStdout(), out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scale, "scale", "quick", "smoke, quick or paper")
	f.StringVar(&out, "out", "runs", "folder for the run folders")
	f.Uint64Var(&seed, "seed", 1, "random seed (same seed, same metrics.json)")
	f.StringVar(&mnistDir, "mnist-dir", "", "folder with the MNIST IDX files (default: $FLOWLAB_MNIST_DIR or the GoMNIST module)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress lines on standard error")
	return cmd
}

// writeAll writes the report and results.json of the run folders under out.
func writeAll(w io.Writer, out string) error {
	path := filepath.Join(out, "report.html")
	if err := writeReport(out, path); err != nil {
		return err
	}
	fmt.Fprintf(w, "report: %s\n", path)
	res, err := report.LoadResults(out, experiment.Names())
	if err != nil {
		return err
	}
	path = filepath.Join(out, "results.json")
	if err := report.WriteResults(path, res); err != nil {
		return err
	}
	fmt.Fprintf(w, "results: %s (numbers only; docs/results/quick.json is the quick scale's)\n", path)
	return nil
}

// writeReport renders the report of the run folders under runs to path.
func writeReport(runs, path string) error {
	secs, err := report.Load(runs, experiment.Names())
	if err != nil {
		return err
	}
	if len(secs) == 0 {
		return fmt.Errorf("report: no run folder with a metrics.json under %s", runs)
	}
	return report.Write(path, secs, experiment.Names())
}
