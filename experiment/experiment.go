// Package experiment reproduces the study of when deterministic neural flows
// fail: six experiments (width, variance, rank, mnist, stochastic, latent),
// one file each, and the runner that writes their run folders.
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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/report"
)

// Scale is how much work an experiment does.
type Scale string

// The scales: smoke runs in seconds (tests and CI), quick runs all six
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
	return []spec{widthSpec(), varianceSpec(), rankSpec(), mnistSpec(), stochasticSpec(), latentSpec()}
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
	scale  Scale
	seed   uint64
	dir    string // the run folder
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
		fmt.Fprintf(e.opts.Progress, "%s [%5.1fs] %s\n", filepath.Base(e.dir), time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// timed records the wall time of part.
func (e *env) timed(part string, t0 time.Time) { e.timing[part] += time.Since(t0).Seconds() }

// outcome is what an experiment returns: its hyperparameters (config.json),
// raw measurements (metrics.json "results") and the summary for the report.
type outcome struct {
	config  any
	results any
	stats   []cellStat
	summary report.Summary
}

// spec is one experiment: what it asks, and the plan that answers.
type spec struct {
	name, title, question, claim string
	run                          func(e *env) (*outcome, error)
}

// plan is the shape every experiment has: setup chooses the setting for the
// scale, cells lists the pieces of work, measure fills one cell (cells run
// in parallel, largest cost first when cost is set), figures draws them and
// findings turns them into verdicts and tables. results is what
// metrics.json's "results" holds (the cells themselves when nil).
type plan[C, X any] struct {
	setup    func(s Scale) C
	cells    func(e *env, c C) ([]X, error)
	cost     func(x X) int
	measure  func(e *env, c C, x X) error
	figures  func(e *env, c C, xs []X) ([]report.Figure, error)
	findings func(c C, xs []X) ([]report.Finding, []report.Table)
	results  func(c C, xs []X) any
	stats    func(c C, xs []X) []cellStat
}

// run runs the plan in its order.
func (p plan[C, X]) run(e *env) (*outcome, error) {
	c := p.setup(e.scale)
	xs, err := p.cells(e, c)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	if p.cost != nil {
		slices.SortStableFunc(order, func(a, b int) int { return p.cost(xs[b]) - p.cost(xs[a]) })
	}
	if err := parallel(e.ctx, len(xs), func(i int) error { return p.measure(e, c, xs[order[i]]) }); err != nil {
		return nil, err
	}
	out := &outcome{config: c, results: any(xs)}
	if p.results != nil {
		out.results = p.results(c, xs)
	}
	if out.summary.Figures, err = p.figures(e, c, xs); err != nil {
		return nil, err
	}
	out.summary.Findings, out.summary.Tables = p.findings(c, xs)
	if p.stats != nil {
		out.stats = p.stats(c, xs)
	}
	return out, nil
}

// Run runs the experiment name ("all" for the six in order) at scale with
// seed, writing runs into outDir/NAME.
func Run(ctx context.Context, name string, scale Scale, outDir string, seed uint64) error {
	return RunWith(ctx, name, scale, outDir, seed, Options{})
}

// RunWith is Run with options.
func RunWith(ctx context.Context, name string, scale Scale, outDir string, seed uint64, opts Options) error {
	if _, err := ParseScale(string(scale)); err != nil {
		return err
	}
	names := []string{name}
	if name == "all" {
		names = Names()
	} else if _, ok := find(name); !ok {
		return fmt.Errorf("%w %q (want one of %s or all)", ErrUnknownExperiment, name, strings.Join(Names(), ", "))
	}
	for _, n := range names {
		if err := runOne(ctx, n, scale, outDir, seed, opts); err != nil {
			return err
		}
	}
	return nil
}

func runOne(ctx context.Context, name string, scale Scale, outDir string, seed uint64, opts Options) error {
	sp, ok := find(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownExperiment, name)
	}
	dir := filepath.Join(outDir, name)
	if err := os.MkdirAll(filepath.Join(dir, "figures"), 0o755); err != nil {
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	e := &env{ctx: ctx, scale: scale, seed: seed, dir: dir, opts: opts, start: time.Now(), timing: map[string]float64{}}
	e.timing["gomaxprocs"] = float64(runtime.GOMAXPROCS(0))
	if l, ok := loadAverage(); ok {
		e.timing["load_average_start"] = l
	}
	e.logf("start (scale %s, seed %d)", scale, seed)
	out, err := sp.run(e)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	s := out.summary
	s.Experiment, s.Title, s.Question, s.SeedClaim = name, sp.title, sp.question, sp.claim
	s.Scale, s.Seed = string(scale), seed

	cfg := struct {
		Experiment string `json:"experiment"`
		Scale      Scale  `json:"scale"`
		Seed       uint64 `json:"seed"`
		Config     any    `json:"config"`
	}{name, scale, seed, out.config}
	met := struct {
		report.Summary
		Intervals string     `json:"intervals"`
		Stats     []cellStat `json:"stats"`
		Results   any        `json:"results"`
	}{s, intervalRule, out.stats, out.results}
	defer hideFigures(out.results)()
	e.timing["total"] = time.Since(e.start).Seconds()
	if l, ok := loadAverage(); ok {
		e.timing["load_average_end"] = l
	}
	for _, f := range []struct {
		file string
		v    any
	}{{"config.json", cfg}, {"metrics.json", met}, {"times.json", e.timing}} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f.v); err != nil {
			return fmt.Errorf("experiment %s: %s: %w", name, f.file, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.file), b.Bytes()); err != nil {
			return fmt.Errorf("experiment %s: %w", name, err)
		}
	}
	e.logf("done")
	return nil
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
