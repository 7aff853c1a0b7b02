package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newTrainCmd is a placeholder until the train command lands.
func newTrainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "train",
		Short: "train (not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("train: not built yet")
		},
	}
}
