package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/sweep"
)

// ResultFile is the file in a cell's folder that holds its measured result.
const ResultFile = "result.json"

// Runner plans, runs and collects the study's experiments as sweeps of
// cells: a cell is one experiment's cell i at a scale and base seed; running
// it sets the experiment up, lists its cells and measures cell i; collecting
// sets it up again, reads every cell's result back, draws the figures and
// writes the run folder. Runner is a sweep.Runner. It sets each experiment
// up once per process and is safe for concurrent use.
type Runner struct {
	opts Options
	mu   sync.Mutex
	sets map[setKey]*prepared
}

// NewRunner returns a Runner with opts.
func NewRunner(opts Options) *Runner { return &Runner{opts: opts, sets: map[setKey]*prepared{}} }

// setKey names an experiment set up at a scale and seed.
type setKey struct {
	name  string
	scale Scale
	seed  uint64
	seeds int
}

// prepared is an experiment set up, with its setting and its cells as
// listed (before any measure) encoded for comparison with a plan.
type prepared struct {
	once    sync.Once
	set     cellSet
	setting json.RawMessage
	planned []json.RawMessage
	timing  map[string]float64 // parts timed while setting up
	start   time.Time
	err     error

	mu   sync.Mutex
	have map[int]bool // cells measured or read back in this process
}

// cellConfig is a cell's config in a plan folder's cells.jsonl.
type cellConfig struct {
	Scale   Scale           `json:"scale"`
	Seed    uint64          `json:"seed"`
	Seeds   int             `json:"seeds,omitempty"` // seeds per cell; 0: the scale's
	Index   int             `json:"index"`           // into the experiment's cells
	Of      int             `json:"of"`              // how many cells it has
	Setting json.RawMessage `json:"setting"`         // the experiment's config at this scale
	Cell    json.RawMessage `json:"cell"`            // the cell as listed, before measuring
}

// Plan lists the cells of experiment name ("all": every one, in order) at
// scale with seed; seeds > 0 sets the seeds of every cell instead of the
// scale's. Each cell's Cost is its estimated CPU seconds (cellSeconds),
// which also orders a local run (largest first).
func (r *Runner) Plan(ctx context.Context, name string, scale Scale, seed uint64, seeds int) (*sweep.Plan, error) {
	names, err := expand(name, scale)
	if err != nil {
		return nil, err
	}
	p := &sweep.Plan{Experiments: names, Scale: string(scale), Seeds: seeds, Seed: seed}
	for _, n := range names {
		k := setKey{n, scale, seed, seeds}
		pr, err := r.prepare(ctx, k)
		if err != nil {
			return nil, err
		}
		width, first := len(strconv.Itoa(pr.set.len()-1)), len(p.Cells)
		for i := range pr.set.len() {
			b, err := json.Marshal(cellConfig{Scale: scale, Seed: seed, Seeds: seeds, Index: i, Of: pr.set.len(), Setting: pr.setting, Cell: pr.planned[i]})
			if err != nil {
				return nil, fmt.Errorf("experiment %s: cell %d: %w", n, i, err)
			}
			var needs []int
			for _, j := range pr.set.needs(i) {
				needs = append(needs, first+j)
			}
			p.Cells = append(p.Cells, sweep.Cell{ID: fmt.Sprintf("%s/%0*d", n, width, i), Experiment: n, Config: b,
				Cost: cellSeconds(pr.set.setting(), pr.set.cell(i), pr.set.cost(i)), Needs: needs})
		}
	}
	return p, nil
}

// prepare sets experiment k up once and returns it.
func (r *Runner) prepare(ctx context.Context, k setKey) (*prepared, error) {
	r.mu.Lock()
	pr := r.sets[k]
	if pr == nil {
		pr = &prepared{have: map[int]bool{}}
		r.sets[k] = pr
	}
	r.mu.Unlock()
	pr.once.Do(func() {
		sp, ok := find(k.name)
		if !ok {
			pr.err = fmt.Errorf("%w %q (want one of %v)", ErrUnknownExperiment, k.name, Names())
			return
		}
		e := r.env(ctx, k, "", k.name)
		pr.start, pr.timing = e.start, e.timing
		if pr.set, pr.err = sp.run(e); pr.err != nil {
			pr.err = fmt.Errorf("experiment %s: %w", k.name, pr.err)
			return
		}
		if pr.setting, pr.err = json.Marshal(pr.set.setting()); pr.err != nil {
			return
		}
		for i := range pr.set.len() {
			x, nf, err := encodeCell(pr.set.cell(i))
			if err != nil || len(nf) > 0 {
				pr.err = fmt.Errorf("experiment %s: cell %d as listed has %d non-finite values, or: %v", k.name, i, len(nf), err)
				return
			}
			pr.planned = append(pr.planned, x)
		}
	})
	return pr, pr.err
}

// forget drops experiment k's cells.
func (r *Runner) forget(k setKey) {
	r.mu.Lock()
	delete(r.sets, k)
	r.mu.Unlock()
}

// env returns the environment of a piece of work on experiment k.
func (r *Runner) env(ctx context.Context, k setKey, dir, name string) *env {
	return &env{ctx: ctx, name: name, scale: k.scale, seed: k.seed, seeds: k.seeds, dir: dir, opts: r.opts,
		start: time.Now(), timing: map[string]float64{}}
}

// readConfig reads cell c's config and sets its experiment up.
func (r *Runner) readConfig(ctx context.Context, c sweep.Cell) (cellConfig, setKey, *prepared, error) {
	var cfg cellConfig
	if err := json.Unmarshal(c.Config, &cfg); err != nil {
		return cfg, setKey{}, nil, fmt.Errorf("%w: cell %s: config: %v", sweep.ErrPlan, c.ID, err)
	}
	if _, err := ParseScale(string(cfg.Scale)); err != nil {
		return cfg, setKey{}, nil, fmt.Errorf("%w: cell %s: %w", sweep.ErrPlan, c.ID, err)
	}
	if _, ok := find(c.Experiment); !ok {
		return cfg, setKey{}, nil, fmt.Errorf("%w: cell %s: %w %q", sweep.ErrPlan, c.ID, ErrUnknownExperiment, c.Experiment)
	}
	k := setKey{c.Experiment, cfg.Scale, cfg.Seed, cfg.Seeds}
	pr, err := r.prepare(ctx, k)
	if err != nil {
		return cfg, k, nil, err
	}
	return cfg, k, pr, pr.matches(c.ID, cfg)
}

// matches checks a planned cell against the experiment as this flowlab
// sets it up: the same setting, number of cells and cell.
func (pr *prepared) matches(id string, cfg cellConfig) error {
	if cfg.Of != pr.set.len() || cfg.Index < 0 || cfg.Index >= cfg.Of ||
		!sameJSON(cfg.Setting, pr.setting) || !sameJSON(cfg.Cell, pr.planned[cfg.Index]) {
		return fmt.Errorf("%w: cell %s no longer matches the cells this flowlab lists (%d cells; setting or cell changed): plan again with flowlab sweep plan",
			sweep.ErrPlan, id, pr.set.len())
	}
	return nil
}

// sameJSON reports whether a and b are the same JSON up to white space.
func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// RunCell measures cell c in its folder dir and writes its result there
// (ResultFile, atomically), after reading back the results of the cells it
// needs (inputs) unless this process measured them. A cell stopped part
// way has no result and runs again from the start: measuring trains in
// memory, without checkpoints, and the same seed gives the same bits.
func (r *Runner) RunCell(ctx context.Context, c sweep.Cell, dir string, inputs []sweep.Input) error {
	cfg, k, pr, err := r.readConfig(ctx, c)
	if err != nil {
		return err
	}
	if err := r.readInputs(ctx, c, cfg, pr, inputs); err != nil {
		return err
	}
	e := r.env(ctx, k, dir, cellName(c.Experiment, cfg.Index))
	if err := pr.set.measure(e, cfg.Index); err != nil {
		return err
	}
	pr.mu.Lock()
	pr.have[cfg.Index] = true
	pr.mu.Unlock()
	end := time.Now()
	x, nf, err := encodeCell(pr.set.cell(cfg.Index))
	if err != nil {
		return fmt.Errorf("cell %s: result: %w", c.ID, err)
	}
	f := cellFile{Experiment: c.Experiment, Index: cfg.Index, X: x, NonFinite: nf, Times: cellTimes{
		Start: unix(e.start), End: unix(end), Wall: end.Sub(e.start).Seconds(), Parts: e.timing}}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, ResultFile), append(b, '\n'))
}

// readInputs reads the results of the cells that cell c needs into their
// cells (once per process; a cell this process measured is not read).
func (r *Runner) readInputs(ctx context.Context, c sweep.Cell, cfg cellConfig, pr *prepared, inputs []sweep.Input) error {
	want := pr.set.needs(cfg.Index)
	if len(inputs) != len(want) {
		return fmt.Errorf("%w: cell %s reads %d cells, the plan gives %d", sweep.ErrPlan, c.ID, len(want), len(inputs))
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for k, in := range inputs {
		icfg, _, ipr, err := r.readConfig(ctx, in.Cell)
		if err != nil {
			return err
		}
		if ipr != pr || icfg.Index != want[k] {
			return fmt.Errorf("%w: cell %s reads cell %d of %s, the plan gives %s", sweep.ErrPlan, c.ID, want[k], c.Experiment, in.Cell.ID)
		}
		if pr.have[icfg.Index] {
			continue
		}
		if _, err := readResult(filepath.Join(in.Dir, ResultFile), c.Experiment, icfg.Index, pr.set.cell(icfg.Index)); err != nil {
			return err
		}
		pr.have[icfg.Index] = true
	}
	return nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Collect reads the results of every cell of p and writes each
// experiment's run folder under out, which must exist:
// out/NAME/{config.json, metrics.json, times.json, figures/}.
func (r *Runner) Collect(ctx context.Context, p *sweep.Plan, cellDir func(sweep.Cell) string, out string) error {
	by := map[string][]sweep.Cell{}
	for _, c := range p.Cells {
		by[c.Experiment] = append(by[c.Experiment], c)
	}
	for _, name := range p.Experiments {
		if len(by[name]) == 0 {
			return fmt.Errorf("%w: %s has no cells", sweep.ErrPlan, name)
		}
		if err := r.collect(ctx, name, by[name], cellDir, out); err != nil {
			return err
		}
	}
	return nil
}

// collect reads the cells of experiment name back and writes its run
// folder.
func (r *Runner) collect(ctx context.Context, name string, cells []sweep.Cell, cellDir func(sweep.Cell) string, out string) error {
	load0, hasLoad := loadAverage()
	_, k, pr, err := r.readConfig(ctx, cells[0])
	if err != nil {
		return err
	}
	defer r.forget(k)
	e := r.env(ctx, k, filepath.Join(out, name), name)
	if len(cells) != pr.set.len() {
		return fmt.Errorf("%w: %s has %d cells in the plan, %d here", sweep.ErrPlan, name, len(cells), pr.set.len())
	}
	seen := make([]bool, len(cells))
	var times []cellTimes
	for _, c := range cells {
		cfg, _, _, err := r.readConfig(ctx, c)
		if err != nil {
			return err
		}
		if seen[cfg.Index] {
			return fmt.Errorf("%w: cell %d of %s is planned twice", sweep.ErrPlan, cfg.Index, name)
		}
		seen[cfg.Index] = true
		t, err := readResult(filepath.Join(cellDir(c), ResultFile), name, cfg.Index, pr.set.cell(cfg.Index))
		if err != nil {
			return err
		}
		times = append(times, t)
	}
	if _, err := os.Stat(out); err != nil {
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "figures"), 0o755); err != nil {
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	sp, _ := find(name)
	o, err := pr.set.finish(e)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	return writeRun(e, sp, o, runTimes(e, pr.timing, pr.start, times, load0, hasLoad))
}

// readResult reads a cell's result file into x.
func readResult(path, name string, index int, x any) (cellTimes, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return cellTimes{}, fmt.Errorf("%w: %w", sweep.ErrPlan, err)
	}
	var f cellFile
	if err := json.Unmarshal(b, &f); err != nil {
		return cellTimes{}, fmt.Errorf("%w: %s: %v", sweep.ErrPlan, path, err)
	}
	if f.Experiment != name || f.Index != index {
		return cellTimes{}, fmt.Errorf("%w: %s holds cell %d of %s, want cell %d of %s", sweep.ErrPlan, path, f.Index, f.Experiment, index, name)
	}
	if err := decodeCell(x, f.X, f.NonFinite); err != nil {
		return cellTimes{}, fmt.Errorf("%w: %s: %v", sweep.ErrPlan, path, err)
	}
	return f.Times, nil
}

// reproduce runs experiment name as a sweep: planned in a temporary
// folder, its cells run on GOMAXPROCS workers (largest cost first),
// collected into outDir.
func reproduce(ctx context.Context, name string, scale Scale, outDir string, seed uint64, opts Options) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	r := NewRunner(opts)
	r.env(ctx, setKey{name, scale, seed, 0}, "", name).logf("start (scale %s, seed %d)", scale, seed)
	p, err := r.Plan(ctx, name, scale, seed, 0)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "flowlab-"+name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := sweep.Write(dir, p); err != nil {
		return err
	}
	if err := sweep.Local(ctx, dir, p, r, runtime.GOMAXPROCS(0), nil); err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("experiment %s: %w", name, context.Canceled)
		}
		return fmt.Errorf("experiment %s: %w", name, err)
	}
	return sweep.Collect(ctx, dir, p, r, outDir)
}
