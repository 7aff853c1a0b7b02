// Package experiment reproduces the study of when deterministic neural flows
// fail: the experiments (width, variance, rank, mnist, stochastic, latent,
// phase, conditional), one file each, and the runner that writes their run
// folders.
//
// Every experiment has the same shape (plan): its spec (title, question, the
// seed's claim), setup(scale) → cells → measure each cell → figures →
// findings. The study's list and order of experiments lives here (Names).
//
// Every cell runs with several seeds (2 at smoke, 5 at quick, 3 at paper).
// Each finding is of one kind (the seed's claim quoted from the study,
// flowlab's hypothesis, or a check of the code), judged by a criterion fixed
// in the code before any result: the metric, the side of a threshold the
// claim is on, and why that threshold. The verdict comes from the 95 %
// Student t interval of the metric's mean over seeds.
//
// Run writes runs/NAME/config.json (the scale, the seed and every
// hyperparameter chosen for that scale), metrics.json (the measurements and
// the verdicts computed from them, byte-identical for the same seed and
// scale), times.json (wall times, kept apart because they vary) and
// figures/*.png, each atomically. The metrics.json layout includes
// report.Summary, which the report package renders.
package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowlab/flowlab/report"
)

// Scale is how much work an experiment does.
type Scale string

// The scales: smoke runs in seconds (tests and CI), quick runs all the
// experiments in about ten minutes on two cores, paper is the seed's scale.
const (
	Smoke Scale = "smoke"
	Quick Scale = "quick"
	Paper Scale = "paper"
)

// ParseScale reads a scale name.
func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case Smoke, Quick, Paper:
		return Scale(s), nil
	}
	return "", fmt.Errorf("%w %q (want smoke, quick or paper)", ErrUnknownScale, s)
}

// pick returns the value for the scale.
func pick[T any](s Scale, smoke, quick, paper T) T {
	switch s {
	case Smoke:
		return smoke
	case Quick:
		return quick
	}
	return paper
}

// ErrUnknownScale and ErrUnknownExperiment are wrapped by the errors for a
// scale or experiment name that does not exist.
var (
	ErrUnknownScale      = errors.New("unknown scale")
	ErrUnknownExperiment = errors.New("unknown experiment")
)

// study returns the experiments in the study's order.
func study() []spec {
	return []spec{widthSpec(), varianceSpec(), rankSpec(), mnistSpec(), stochasticSpec(), latentSpec(), phaseSpec(), conditionalSpec()}
}

// Names lists the experiments in the study's order.
func Names() []string {
	var n []string
	for _, s := range study() {
		n = append(n, s.name)
	}
	return n
}

// find returns the experiment called name.
func find(name string) (spec, bool) {
	i := slices.IndexFunc(study(), func(s spec) bool { return s.name == name })
	if i < 0 {
		return spec{}, false
	}
	return study()[i], true
}

// Options are settings of a run that do not change its metrics.
type Options struct {
	// Progress receives one line per finished piece of work; nil: silent.
	Progress io.Writer
	// MNISTDir is where the MNIST IDX files are looked for first
	// (dist.FindMNIST); "" for the defaults.
	MNISTDir string
}

// env is what an experiment's code sees.
type env struct {
	ctx    context.Context
	name   string // what progress lines start with
	scale  Scale
	seed   uint64
	seeds  int    // seeds per cell when > 0, instead of the scale's (a sweep's --seeds)
	dir    string // the run folder (a cell's folder while it is measured)
	opts   Options
	start  time.Time
	timing map[string]float64 // wall seconds of the named parts
	logMu  sync.Mutex         // parallel runs log at once; Progress need not be safe for that
}

// figure returns the path of a figure file in the run folder.
func (e *env) figure(name string) string { return filepath.Join(e.dir, "figures", name) }

// logf writes a progress line.
func (e *env) logf(format string, args ...any) {
	if e.opts.Progress != nil {
		e.logMu.Lock()
		defer e.logMu.Unlock()
		fmt.Fprintf(e.opts.Progress, "%s [%5.1fs] %s\n", e.name, time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// timed records the wall time of part.
func (e *env) timed(part string, t0 time.Time) {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	e.timing[part] += time.Since(t0).Seconds()
}

// outcome is what an experiment returns: its hyperparameters (config.json),
// raw measurements (metrics.json "results") and the summary for the report.
type outcome struct {
	config  any
	results any
	stats   []cellStat
	summary report.Summary
}

// spec is one experiment: what it asks, and the plan that answers. run is
// the plan's run: it sets the experiment up and lists its cells, which are
// then measured (in this process or in a sweep's) and finished.
type spec struct {
	name, title, question, claim string
	run                          func(e *env) (cellSet, error)
}

// plan is the shape every experiment has: setup chooses the setting for the
// scale, cells lists the pieces of work, measure fills one cell (cells run
// in parallel, in their own processes in a sweep, largest estimated cost
// first), figures draws them and findings turns them into verdicts
// and tables. results is what metrics.json's "results" holds (the cells
// themselves when nil).
//
// A cell X is a pointer to a struct. measure writes its results into X's
// exported fields only (with json tags; figure state tagged figure:"true"),
// since a sweep writes X to a file and reads it back elsewhere for figures
// and findings; unexported fields are inputs that cells prepares, again in
// every process. cells must be deterministic and cheap: a sweep calls it
// in every process. cost is a cell's estimated work in multiply-adds,
// which a sweep turns into CPU seconds (cost.go's cellSeconds) to estimate
// and order the cells; the first six experiments' estimates are in cost.go.
type plan[C, X any] struct {
	setup    func(s Scale) C
	cells    func(e *env, c C) ([]X, error)
	cost     func(x X) int
	needs    func(xs []X, i int) []int // the cells xs[i] reads when measured: measured first, needing none themselves
	measure  func(e *env, c C, x X) error
	figures  func(e *env, c C, xs []X) ([]report.Figure, error)
	findings func(c C, xs []X) ([]report.Finding, []report.Table)
	results  func(c C, xs []X) any
	stats    func(c C, xs []X) []cellStat
}

// run sets the plan up at e's scale and lists its cells.
func (p plan[C, X]) run(e *env) (cellSet, error) {
	c := p.setup(e.scale)
	if e.seeds > 0 {
		setSeeds(&c, e.seeds)
	}
	xs, err := p.cells(e, c)
	if err != nil {
		return nil, err
	}
	return &cellsOf[C, X]{p: p, c: c, xs: xs}, nil
}

// Run runs the experiment name ("all" for every one, in order) at scale with
// seed, writing runs into outDir/NAME.
func Run(ctx context.Context, name string, scale Scale, outDir string, seed uint64) error {
	return RunWith(ctx, name, scale, outDir, seed, Options{})
}

// RunWith is Run with options. Each experiment is planned as a sweep in a
// temporary folder, its cells run on GOMAXPROCS workers and collected into
// outDir: the code path of flowlab sweep plan, local and collect, so the
// bytes are a sweep's.
func RunWith(ctx context.Context, name string, scale Scale, outDir string, seed uint64, opts Options) error {
	names, err := expand(name, scale)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := reproduce(ctx, n, scale, outDir, seed, opts); err != nil {
			return err
		}
	}
	return nil
}

// expand checks the scale and turns name ("all" or one experiment) into the
// experiments' names.
func expand(name string, scale Scale) ([]string, error) {
	if _, err := ParseScale(string(scale)); err != nil {
		return nil, err
	}
	if name == "all" {
		return Names(), nil
	}
	if _, ok := find(name); !ok {
		return nil, fmt.Errorf("%w %q (want one of %s or all)", ErrUnknownExperiment, name, strings.Join(Names(), ", "))
	}
	return []string{name}, nil
}

// loadAverage returns the machine's one-minute load average where the
// system reports it (/proc/loadavg), to tell a busy machine's times from an
// idle one's.
func loadAverage() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	l, err := strconv.ParseFloat(f[0], 64)
	return l, err == nil
}
