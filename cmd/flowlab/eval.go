package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newEvalCmd is a placeholder until the eval command lands.
func newEvalCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "eval",
		Short: "eval (not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("eval: not built yet")
		},
	}
}
