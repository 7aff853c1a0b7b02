package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/flowlab/flowlab/internal/atomicfile"
)

//go:generate go run ./gen -results ../docs/results/quick.json -paper-dir ../docs/results/paper -paper ../docs/results/paper.json -readme ../README.md

// Results is the numbers of a study run without figures or prose: each
// finding's verdict and interval, each cell's metrics over seeds, and the
// wall time of each experiment. docs/results/quick.json holds the quick
// scale's, and the README's study section is generated from it.
type Results struct {
	Scale string `json:"scale"`
	Seed  uint64 `json:"seed"`
	// Build is the flowlab build that gathered the results (Build; for
	// reproduce all, the one that ran them), Date when the newest
	// metrics.json among them was written (UTC).
	Build       string              `json:"build"`
	Date        string              `json:"date"`
	Intervals   string              `json:"intervals"`
	Experiments []ExperimentResults `json:"experiments"`
	// Pending lists the study's experiments that merged results
	// (MergeResults) lack: not yet run at this scale.
	Pending []string `json:"pending,omitempty"`
}

// ExperimentResults is one experiment's numbers.
type ExperimentResults struct {
	Name string `json:"name"`
	Date string `json:"date,omitempty"` // when its metrics.json was written (UTC)
	// Build is the build that gathered this experiment's results, set when
	// results of several runs are merged (MergeResults).
	Build       string          `json:"build,omitempty"`
	Seconds     float64         `json:"seconds"`
	Seeds       int             `json:"seeds,omitempty"`        // seeds a cell, from config.json; 0 where it names none
	CellSeconds float64         `json:"cell_seconds,omitempty"` // the cells' wall times added up
	GoMaxProcs  float64         `json:"gomaxprocs,omitempty"`
	LoadAverage []float64       `json:"load_average,omitempty"` // one-minute load at the start and the end
	Findings    []FindingResult `json:"findings"`
	Stats       []Stat          `json:"stats"`
}

// FindingResult is a finding's verdict and the interval it was judged on.
type FindingResult struct {
	ID      string     `json:"id"`
	Kind    string     `json:"kind"`
	Verdict string     `json:"verdict"`
	Metric  string     `json:"metric,omitempty"` // what the interval measures
	Rule    string     `json:"rule,omitempty"`   // the claim's side: "< 2", "in [0.9, 1.1]"
	Claim   string     `json:"claim,omitempty"`  // the claim in words: tells apart findings of one ID
	Values  []*float64 `json:"values"`
	Interval
}

// Interval is a mean over seeds with its 95 % interval (null ends when it
// could not be computed).
type Interval struct {
	N    int      `json:"n"`
	Mean *float64 `json:"mean"`
	Lo   *float64 `json:"lo"`
	Hi   *float64 `json:"hi"`
}

// Stat is one metric of one cell over seeds.
type Stat struct {
	Cell     string   `json:"cell"`
	Metric   string   `json:"metric"`
	Interval Interval `json:"interval"`
}

// metricsFile is the part of metrics.json that Results reads.
type metricsFile struct {
	Scale     string `json:"scale"`
	Seed      uint64 `json:"seed"`
	Intervals string `json:"intervals"`
	Findings  []struct {
		Kind    string `json:"kind"`
		Claim   string `json:"claim"`
		Verdict string `json:"verdict"`
		Test    *struct {
			ID        string     `json:"id"`
			Metric    string     `json:"metric"`
			Cmp       string     `json:"cmp"`
			Threshold float64    `json:"threshold"`
			Upper     float64    `json:"upper"`
			Values    []*float64 `json:"values"`
			Interval  Interval   `json:"interval"`
		} `json:"test"`
	} `json:"findings"`
	Stats []Stat `json:"stats"`
}

// LoadResults reads the numbers of every experiment in order from
// runsDir/NAME/metrics.json and times.json; a missing folder is skipped,
// and a missing times.json leaves the times at zero.
func LoadResults(runsDir string, order []string) (Results, error) {
	r := Results{Build: Build()}
	var newest time.Time
	for _, name := range order {
		dir := filepath.Join(runsDir, name)
		b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Results{}, fmt.Errorf("results: %w", err)
		}
		written := writtenAt(filepath.Join(dir, "metrics.json"))
		if written.After(newest) {
			newest = written
		}
		var m metricsFile
		if err := json.Unmarshal(b, &m); err != nil {
			return Results{}, fmt.Errorf("results: %s: %w", filepath.Join(dir, "metrics.json"), err)
		}
		r.Scale, r.Seed, r.Intervals = m.Scale, m.Seed, m.Intervals
		e := ExperimentResults{Name: name, Date: written.Format(dateLayout), Stats: m.Stats}
		for _, f := range m.Findings {
			fr := FindingResult{Kind: f.Kind, Verdict: f.Verdict, Claim: f.Claim}
			if t := f.Test; t != nil {
				fr.ID, fr.Metric, fr.Values, fr.Interval = t.ID, t.Metric, t.Values, t.Interval
				fr.Rule = fmt.Sprintf("%s %.3g", t.Cmp, t.Threshold)
				if t.Cmp == "in" {
					fr.Rule = fmt.Sprintf("in [%.3g, %.3g]", t.Threshold, t.Upper)
				}
			}
			e.Findings = append(e.Findings, fr)
		}
		if e.Seeds, err = configSeeds(filepath.Join(dir, "config.json")); err != nil {
			return Results{}, err
		}
		t, err := os.ReadFile(filepath.Join(dir, "times.json"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Results{}, fmt.Errorf("results: %w", err)
		}
		if err == nil {
			var times map[string]float64
			if err := json.Unmarshal(t, &times); err != nil {
				return Results{}, fmt.Errorf("results: %s: %w", filepath.Join(dir, "times.json"), err)
			}
			e.Seconds, e.CellSeconds, e.GoMaxProcs = times["total"], times["cells_wall_s"], times["gomaxprocs"]
			if l0, ok := times["load_average_start"]; ok {
				e.LoadAverage = []float64{l0, times["load_average_end"]}
			}
		}
		r.Experiments = append(r.Experiments, e)
	}
	if len(r.Experiments) == 0 {
		return Results{}, fmt.Errorf("results: no run folder with a metrics.json under %s", runsDir)
	}
	r.Date = newest.Format(dateLayout)
	return r, nil
}

// configSeeds returns the number of seeds a cell that a run folder's
// config.json names ("config": {"seeds": N}); 0 when the file is absent or
// names none.
func configSeeds(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("results: %w", err)
	}
	var c struct {
		Config struct {
			Seeds int `json:"seeds"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return 0, fmt.Errorf("results: %s: %w", path, err)
	}
	return c.Config.Seeds, nil
}

// WriteResults writes r as indented JSON to path, atomically.
func WriteResults(path string, r Results) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// ReadResults reads a results file.
func ReadResults(path string) (Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Results{}, fmt.Errorf("results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return Results{}, fmt.Errorf("results: %s: %w", path, err)
	}
	return r, nil
}

// The README's study section lies between these markers.
const (
	ReadmeBegin = "<!-- study:begin (generated from docs/results/quick.json by go generate ./report; do not edit) -->"
	ReadmeEnd   = "<!-- study:end -->"
)

// finding returns the finding with id.
func (r Results) finding(id string) (FindingResult, error) {
	return r.findingOf(id, "")
}

// findingOf returns the finding id whose claim is claim, where both
// results record claims (one criterion judges several claims, as rank's
// per-network findings); the first of that id otherwise.
func (r Results) findingOf(id, claim string) (FindingResult, error) {
	for _, e := range r.Experiments {
		for _, f := range e.Findings {
			if f.ID == id && (claim == "" || f.Claim == "" || f.Claim == claim) {
				return f, nil
			}
		}
	}
	return FindingResult{}, fmt.Errorf("results: no finding %q", id)
}

// stat returns the interval of metric in cell.
func (r Results) stat(exp, cell, metric string) (Interval, error) {
	for _, e := range r.Experiments {
		if e.Name != exp {
			continue
		}
		for _, s := range e.Stats {
			if s.Cell == cell && s.Metric == metric {
				return s.Interval, nil
			}
		}
	}
	return Interval{}, fmt.Errorf("results: no %s %q %q", exp, cell, metric)
}

// String prints "mean [lo, hi]" with three significant digits.
func (iv Interval) String() string {
	f := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.3g", *p)
	}
	if iv.Lo == nil || iv.Hi == nil {
		return f(iv.Mean)
	}
	return fmt.Sprintf("%s [%s, %s]", f(iv.Mean), f(iv.Lo), f(iv.Hi))
}

// ReadmeSection renders the README's study section (markers included)
// from r: every number in it comes from r.
func ReadmeSection(r Results) (string, error) {
	t, err := template.New("readme").Funcs(template.FuncMap{
		"iv": func(id string) (string, error) {
			f, err := r.finding(id)
			return f.Interval.String(), err
		},
		"verdict": func(id string) (string, error) {
			f, err := r.finding(id)
			return f.Verdict, err
		},
		"stat": func(exp, cell, metric string) (string, error) {
			iv, err := r.stat(exp, cell, metric)
			return iv.String(), err
		},
		"has": func(name string) bool {
			return slices.ContainsFunc(r.Experiments, func(e ExperimentResults) bool { return e.Name == name })
		},
		"seeds": func() (int, error) {
			f, err := r.finding("rank/far")
			return f.N, err
		},
		"minutes": func() string {
			s := 0.0
			for _, e := range r.Experiments {
				s += e.Seconds
			}
			return fmt.Sprintf("%.1f", s/60)
		},
		"cores": r.cores,
		"load": func() string {
			var l []string
			for _, e := range r.Experiments {
				if len(e.LoadAverage) > 0 {
					l = append(l, fmt.Sprintf("%.1f", e.LoadAverage[0]))
				}
			}
			return strings.Join(l, ", ")
		},
		"times": r.times,
		"mixed": r.mixed,
	}).Parse(readmeTemplate)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, r); err != nil {
		return "", err
	}
	return ReadmeBegin + "\n" + b.String() + ReadmeEnd, nil
}

// mixed reports whether the experiments cannot all come from one run:
// their dates differ and one is not a date, or they span more than the sum
// of their times (plus a minute of rounding).
func (r Results) mixed() bool {
	var first, last time.Time
	total := time.Minute
	for _, e := range r.Experiments {
		total += time.Duration(e.Seconds * float64(time.Second))
		if e.Date != r.Experiments[0].Date {
			if _, err := time.Parse(dateLayout, e.Date); err != nil {
				return true
			}
			if _, err := time.Parse(dateLayout, r.Experiments[0].Date); err != nil {
				return true
			}
		}
		t, err := time.Parse(dateLayout, e.Date)
		if err != nil {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return last.Sub(first) > total
}

// times lists each experiment's wall time, with the date each was written
// when they cannot all come from one run (mixed).
func (r Results) times() string {
	mixed := r.mixed()
	var l []string
	for _, e := range r.Experiments {
		t := fmt.Sprintf("%s %.0f s", e.Name, e.Seconds)
		if mixed {
			t += " (written " + e.Date + ")"
		}
		l = append(l, t)
	}
	return strings.Join(l, ", ")
}

// cores describes the cores the run had: their number (GOMAXPROCS, from
// the first experiment that recorded it) and whether other work shared
// them. A run on n cores is itself a load of about n; more than n + ½ at an
// experiment's start means other work shared them.
func (r Results) cores() string {
	n := 0.0
	for _, e := range r.Experiments {
		if e.GoMaxProcs > 0 {
			n = e.GoMaxProcs
			break
		}
	}
	if n == 0 {
		return "an unrecorded number of cores"
	}
	count, noun := fmt.Sprintf("%g", n), "cores"
	if words := []string{"", "one", "two", "three", "four"}; int(n) < len(words) && float64(int(n)) == n {
		count = words[int(n)]
	}
	if n == 1 {
		noun = "core"
	}
	for _, e := range r.Experiments {
		if len(e.LoadAverage) > 0 && e.LoadAverage[0] > n+0.5 {
			return count + " " + noun + " shared with other work"
		}
	}
	return count + " otherwise idle " + noun
}

// ReplaceSection returns readme with the text between the markers (and
// the markers) replaced by section.
func ReplaceSection(readme, section string) (string, error) {
	return ReplaceBetween(readme, ReadmeBegin, ReadmeEnd, section)
}

// ReadmeSectionOf returns the text between the markers, markers included.
func ReadmeSectionOf(readme string) (string, bool) {
	i, j := strings.Index(readme, ReadmeBegin), strings.Index(readme, ReadmeEnd)
	if i < 0 || j < i {
		return "", false
	}
	return readme[i : j+len(ReadmeEnd)], true
}
