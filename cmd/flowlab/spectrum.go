package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSpectrumCmd is a placeholder until the spectrum command lands.
func newSpectrumCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "spectrum",
		Short: "spectrum (not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("spectrum: not built yet")
		},
	}
}
