package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newReproduceCmd is a placeholder until the reproduce command lands.
func newReproduceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reproduce",
		Short: "reproduce (not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("reproduce: not built yet")
		},
	}
}
