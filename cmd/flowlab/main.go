// Command flowlab trains, samples, measures and benchmarks flow-matching and
// stochastic-interpolant velocity fields, and reproduces the study of when
// deterministic neural flows fail.
//
// Exit status: 0 on success, 1 on a failed run, 2 on bad usage, with one clear
// line on standard error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// usageError marks an error as the user's command line being wrong (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit status 2).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errInterrupted is returned by commands stopped by SIGINT after saving their state.
var errInterrupted = errors.New("interrupted")

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "flowlab",
		Short:         "flow matching and stochastic interpolants: train, sample, measure, reproduce",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newBenchCmd(),
		newTrainCmd(),
		newSampleCmd(),
		newEvalCmd(),
		newSpectrumCmd(),
		newReproduceCmd(),
		newReportCmd(),
	)
	return root
}

// run executes the command line args and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "flowlab:", err)
	var ue usageError
	switch {
	case errors.As(err, &ue) || isCobraUsage(err):
		return 2
	case errors.Is(err, errInterrupted):
		return 130
	default:
		return 1
	}
}

// isCobraUsage recognises cobra's own argument errors (unknown command, wrong
// number of arguments), which it does not wrap in a type.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "invalid argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
