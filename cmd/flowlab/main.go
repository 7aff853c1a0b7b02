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
	"math"
	"math/bits"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/mat"
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
		newSweepCmd(),
		newReportCmd(),
		newDiagnoseCmd(),
		newCompareCmd(),
		newLikelihoodCmd(),
		newFDMNISTCmd(),
		newAECmd(),
	)
	return root
}

// run executes the command line args and returns the process exit status:
// 2 for a usageError or for any error cobra returns before a command starts
// (unknown command or flag, a flag value of the wrong type, wrong number of
// arguments), 130 for errInterrupted, 1 for any other error. The error is
// printed as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	// Cobra parses the command line and checks the arguments before it runs
	// the persistent pre-run hook, so an error returned while started is
	// false is the command line's fault. (No subcommand sets its own
	// PersistentPreRun, which would replace this one.)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	if err := mat.KernelEnvError(); err != nil {
		fmt.Fprintln(stderr, "flowlab: warning:", err)
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "flowlab:", oneLine(err.Error()))
	var ue usageError
	switch {
	case errors.As(err, &ue) || !started:
		return 2
	case errors.Is(err, errInterrupted):
		return 130
	default:
		return 1
	}
}

// oneLine joins the lines of a multi-line message with "; ", so that an error
// is always one line on stderr.
func oneLine(msg string) string {
	msg = strings.TrimRight(strings.ReplaceAll(msg, "\r", ""), "\n")
	return strings.ReplaceAll(msg, "\n", "; ")
}

// memBytes returns the product of its factors (a number of bytes),
// saturating at math.MaxUint64 instead of overflowing.
func memBytes(factors ...uint64) uint64 {
	p := uint64(1)
	for _, f := range factors {
		hi, lo := bits.Mul64(p, f)
		if hi != 0 {
			return math.MaxUint64
		}
		p = lo
	}
	return p
}

// sat returns a + b, saturating at math.MaxUint64.
func sat(a, b uint64) uint64 {
	if s, c := bits.Add64(a, b, 0); c == 0 {
		return s
	}
	return math.MaxUint64
}

// checkMemory returns a usage error naming what when need bytes are more than
// half the memory the system has available (or, when it cannot tell, more
// than 1 TiB), so that a request that cannot fit is refused up front instead
// of by the out-of-memory killer.
func checkMemory(what string, need uint64) error {
	avail := availableMemory()
	limit := avail / 2
	if avail == 0 {
		limit = 1 << 40
	}
	if need <= limit {
		return nil
	}
	if need == math.MaxUint64 {
		return usagef("%s: needs more memory than can be counted in 64 bits", what)
	}
	if avail == 0 {
		return usagef("%s: needs %d MiB of memory, more than the 1 TiB allowed when the available memory is unknown", what, need>>20)
	}
	return usagef("%s: needs %d MiB of memory, but only %d MiB is available", what, need>>20, avail>>20)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels ctx (the command saves its state and
	// returns); from then on the default action is restored, so that a
	// second Ctrl-C ends a process that is slow to stop.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
