package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSampleCmd is a placeholder until the sample command lands.
func newSampleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sample",
		Short: "sample (not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("sample: not built yet")
		},
	}
}
