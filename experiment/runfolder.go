package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/report"
)

// writeRun writes the run folder e.dir of experiment sp from its outcome:
// config.json, metrics.json (the figure state of the cells left out) and
// times.json (timing).
func writeRun(e *env, sp spec, out *outcome, timing map[string]float64) error {
	cfg := struct {
		Experiment string `json:"experiment"`
		Scale      Scale  `json:"scale"`
		Seed       uint64 `json:"seed"`
		Config     any    `json:"config"`
	}{sp.name, e.scale, e.seed, out.config}
	met := struct {
		report.Summary
		Intervals string     `json:"intervals"`
		Stats     []cellStat `json:"stats"`
		Results   any        `json:"results"`
	}{summaryOf(sp, out, e.scale, e.seed), intervalRule, out.stats, out.results}
	defer hideFigures(out.results)()
	for _, f := range []struct {
		file string
		v    any
	}{{"config.json", cfg}, {"metrics.json", met}, {"times.json", timing}} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f.v); err != nil {
			return fmt.Errorf("experiment %s: %s: %w", sp.name, f.file, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(e.dir, f.file), b.Bytes()); err != nil {
			return fmt.Errorf("experiment %s: %w", sp.name, err)
		}
	}
	return nil
}

// runTimes is times.json of a run collected from cells: the collecting
// process's own parts (setting up, figures), each cell's parts summed,
// cells_wall_s (the cells' wall times summed), collect_s, and total: from
// the earliest start (of a cell, or of setting up in this process) to now.
// gomaxprocs and the load averages are the collecting process's.
func runTimes(e *env, setup map[string]float64, first time.Time, cells []cellTimes, load0 float64, hasLoad bool) map[string]float64 {
	t := map[string]float64{}
	for k, v := range setup {
		t[k] += v
	}
	for k, v := range e.timing {
		t[k] += v
	}
	for _, c := range cells {
		t["cells_wall_s"] += c.Wall
		for k, v := range c.Parts {
			t[k] += v
		}
		if s := time.Unix(0, int64(c.Start*1e9)); s.Before(first) {
			first = s
		}
	}
	t["collect_s"] = time.Since(e.start).Seconds()
	t["total"] = time.Since(first).Seconds()
	t["gomaxprocs"] = float64(runtime.GOMAXPROCS(0))
	if hasLoad {
		t["load_average_start"] = load0
	}
	if l, ok := loadAverage(); ok {
		t["load_average_end"] = l
	}
	return t
}
