package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/experiment"
	"github.com/flowlab/flowlab/report"
)

// newReportCmd renders the HTML report of a runs folder.
func newReportCmd() *cobra.Command {
	var runs, out, results string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "write the study's HTML report from the run folders",
		Long: `report reads RUNS/*/metrics.json and figures and writes one self-contained HTML
page (figures embedded, no scripts): the findings (the seed's claims first, then
flowlab's hypotheses, then checks of the code), then each experiment's question,
claim, figures, verdicts and tables. --results also writes the numbers alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if st, err := os.Stat(runs); errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) {
				return usagef("report: --runs %s is not a folder", runs)
			}
			if out == "" {
				return usagef("report: --out must name the HTML file to write")
			}
			if err := writeReport(runs, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out)
			if results == "" {
				return nil
			}
			res, err := report.LoadResults(runs, experiment.Names())
			if err != nil {
				return err
			}
			if err := report.WriteResults(results, res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "results: %s\n", results)
			return nil
		},
	}
	cmd.Flags().StringVar(&runs, "runs", "runs", "folder holding the run folders")
	cmd.Flags().StringVar(&out, "out", "report.html", "the HTML file to write")
	cmd.Flags().StringVar(&results, "results", "", "also write the numbers (findings, intervals, times) to this JSON file, as reproduce all writes OUT/results.json")
	return cmd
}
