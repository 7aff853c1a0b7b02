package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

// newReportCmd renders the HTML report of a runs folder.
func newReportCmd() *cobra.Command {
	var runs, out string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "write the study's HTML report from the run folders",
		Long: `report reads RUNS/*/metrics.json and figures and writes one self-contained HTML
page (figures embedded, no scripts): a table of the seed's claims against the
measurements, then each experiment's question, claim, figures, verdicts and tables.`,
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
			return nil
		},
	}
	cmd.Flags().StringVar(&runs, "runs", "runs", "folder holding the run folders")
	cmd.Flags().StringVar(&out, "out", "report.html", "the HTML file to write")
	return cmd
}
