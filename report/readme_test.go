package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The README's study section is what docs/results/quick.json generates
// (go generate ./report): a hand edit of a number there, or a new results
// file without regenerating, fails here.
func TestReadmeMatchesResults(t *testing.T) {
	r, err := ReadResults(filepath.Join("..", "docs", "results", "quick.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadmeSection(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ReadmeSectionOf(string(b))
	if !ok {
		t.Fatal("README.md has no study section markers")
	}
	if got != want {
		t.Errorf("README's study section differs from docs/results/quick.json; run go generate ./report")
	}
}

// ReadmeSection takes every number from the results: a finding's interval
// appears as "mean [lo, hi]", and a finding the template names but the
// results lack is an error, not a blank.
func TestReadmeSectionFromResults(t *testing.T) {
	r, err := ReadResults(filepath.Join("..", "docs", "results", "quick.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.finding("rank/far")
	if err != nil {
		t.Fatal(err)
	}
	x := 123.456
	f.Mean, f.Lo, f.Hi = &x, &x, &x
	for i, e := range r.Experiments {
		for j := range e.Findings {
			if e.Findings[j].ID == "rank/far" {
				r.Experiments[i].Findings[j] = f
			}
		}
	}
	s, err := ReadmeSection(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "123 [123, 123]") {
		t.Error("a changed interval does not reach the section")
	}
	r.Experiments = r.Experiments[:1]
	if _, err := ReadmeSection(r); err == nil {
		t.Error("results without the rank experiment: want an error naming the missing finding")
	}
}

// ReplaceSection swaps the text between the markers and keeps the rest.
func TestReplaceSection(t *testing.T) {
	doc := "a\n" + ReadmeBegin + "\nold\n" + ReadmeEnd + "\nb\n"
	got, err := ReplaceSection(doc, ReadmeBegin+"\nnew\n"+ReadmeEnd)
	if err != nil || got != "a\n"+ReadmeBegin+"\nnew\n"+ReadmeEnd+"\nb\n" {
		t.Errorf("ReplaceSection = %q, %v", got, err)
	}
	if _, err := ReplaceSection("no markers", "x"); err == nil {
		t.Error("no markers: want error")
	}
}

// cores takes the number of cores from the results (GOMAXPROCS) and calls
// them shared when the load at an experiment's start exceeds that number
// by more than ½ (the run itself is a load of about one per core).
func TestCores(t *testing.T) {
	cases := []struct {
		name  string
		procs float64
		load  []float64
		want  string
	}{
		{"two idle", 2, []float64{1.9, 2}, "two otherwise idle cores"},
		{"two shared", 2, []float64{3.1, 3}, "two cores shared with other work"},
		{"sixteen idle", 16, []float64{3.1, 3}, "16 otherwise idle cores"},
		{"one shared", 1, []float64{2, 2}, "one core shared with other work"},
		{"unrecorded", 0, nil, "an unrecorded number of cores"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Results{Experiments: []ExperimentResults{{Name: "x", GoMaxProcs: c.procs, LoadAverage: c.load}}}
			if got := r.cores(); got != c.want {
				t.Errorf("cores() = %q, want %q", got, c.want)
			}
		})
	}
}

// LoadResults reads times.json when it is there, skips it when it is
// missing, and reports it when it cannot be read (here: a folder in its
// place) instead of writing zero seconds.
func TestLoadResultsTimes(t *testing.T) {
	metrics := []byte(`{"scale":"smoke","seed":1,"findings":[],"stats":[]}`)
	cases := []struct {
		name    string
		times   func(dir string) error
		seconds float64
		wantErr bool
	}{
		{"present", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "times.json"), []byte(`{"total":12.5}`), 0o644)
		}, 12.5, false},
		{"missing", func(string) error { return nil }, 0, false},
		{"unreadable", func(dir string) error { return os.Mkdir(filepath.Join(dir, "times.json"), 0o755) }, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := runFolderX(t, metrics, c.times)
			r, err := LoadResults(runs, []string{"x"})
			if c.wantErr {
				if err == nil {
					t.Error("want an error for an unreadable times.json")
				}
				return
			}
			if err != nil || r.Experiments[0].Seconds != c.seconds {
				t.Errorf("LoadResults = %+v, %v; want %g seconds", r.Experiments, err, c.seconds)
			}
		})
	}
}

// runFolderX makes a runs folder holding one run folder, x, with the given
// metrics.json; then add puts whatever else the case needs into x.
func runFolderX(t *testing.T, metrics []byte, add func(dir string) error) string {
	t.Helper()
	runs := t.TempDir()
	dir := filepath.Join(runs, "x")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), metrics, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := add(dir); err != nil {
		t.Fatal(err)
	}
	return runs
}

// The phase paragraph appears only when the results hold the phase
// experiment (so the README stays what quick.json gives until quick.json
// has it), and then takes its numbers from the results.
func TestReadmePhaseParagraph(t *testing.T) {
	r, err := ReadResults(filepath.Join("..", "docs", "results", "quick.json"))
	if err != nil {
		t.Fatal(err)
	}
	without := slices.DeleteFunc(slices.Clone(r.Experiments), func(e ExperimentResults) bool { return e.Name == "phase" })
	r.Experiments = without
	s, err := ReadmeSection(r)
	if err != nil || strings.Contains(s, "**phase**") {
		t.Fatalf("results without phase: %v, phase paragraph present: %v", err, strings.Contains(s, "**phase**"))
	}
	x := 0.5
	ph := ExperimentResults{Name: "phase"}
	for _, id := range []string{"ode-keeps", "eps-reaches", "sde-reaches", "eps-lip-grows", "eps-lip-price"} {
		ph.Findings = append(ph.Findings, FindingResult{ID: "phase/" + id, Verdict: "confirmed", Interval: Interval{N: 3, Mean: &x, Lo: &x, Hi: &x}})
	}
	r.Experiments = append(slices.Clone(without), ph)
	s, err = ReadmeSection(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "**phase**") || !strings.Contains(s, "gain 0.5 [0.5, 0.5]") || !strings.Contains(s, "docs/figures/phase.png") {
		t.Errorf("results with phase: the paragraph or its numbers are missing:\n%s", s)
	}
	r.Experiments[len(r.Experiments)-1].Findings = ph.Findings[1:]
	if _, err := ReadmeSection(r); err == nil {
		t.Error("phase without its ode-keeps finding: want an error naming it")
	}
}

// The optional paragraphs (phase, conditional) come and go with their
// experiment, and the sentence with the run's time stays either way.
func TestReadmeOptionalParagraphs(t *testing.T) {
	r, err := ReadResults(filepath.Join("..", "docs", "results", "quick.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"phase", "conditional"} {
		t.Run(name, func(t *testing.T) {
			without := r
			without.Experiments = slices.DeleteFunc(slices.Clone(r.Experiments), func(e ExperimentResults) bool { return e.Name == name })
			if len(without.Experiments) == len(r.Experiments) {
				t.Fatalf("quick.json has no %s experiment", name)
			}
			s, err := ReadmeSection(without)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s, "**"+name+"**") {
				t.Errorf("results without %s: its paragraph is present", name)
			}
			if !strings.Contains(s, "per experiment:") || !strings.Contains(s, "Build:") {
				t.Errorf("results without %s: the sentence with the run's time is gone:\n%s", name, s)
			}
		})
	}
}
