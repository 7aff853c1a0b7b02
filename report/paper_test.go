package report

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fp(x float64) *float64 { return &x }

// twoRuns are results of two separate paper-scale runs.
func twoRuns() []Results {
	f := func(id string, m float64) FindingResult {
		return FindingResult{ID: id, Kind: "hypothesis", Verdict: "confirmed", Metric: "m of " + id, Rule: "< 2",
			Interval: Interval{N: 3, Mean: fp(m), Lo: fp(m - 1), Hi: fp(m + 1)}}
	}
	return []Results{
		{Scale: "paper", Seed: 1, Build: "b2", Date: "2026-12-04 15:00 UTC", Experiments: []ExperimentResults{
			{Name: "rank", CellSeconds: 7200, Seeds: 5, Findings: []FindingResult{f("rank/far", 30), {Kind: "note"}}}}},
		{Scale: "paper", Seed: 1, Build: "b1", Date: "2026-12-04 14:00 UTC", Experiments: []ExperimentResults{
			{Name: "width", CellSeconds: 3600, Seeds: 3, Findings: []FindingResult{f("width/new", 5)}}}},
	}
}

// TestMergeResults: experiments in the study's order, each with its run's
// build; the missing ones pending; clashes refused.
func TestMergeResults(t *testing.T) {
	order := []string{"width", "variance", "rank"}
	m, err := MergeResults(twoRuns(), order)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Experiments) != 2 || m.Experiments[0].Name != "width" || m.Experiments[0].Build != "b1" || m.Experiments[1].Build != "b2" {
		t.Errorf("experiments %+v", m.Experiments)
	}
	if m.Date != "2026-12-04 15:00 UTC" || m.Build != "b1; b2" || strings.Join(m.Pending, ",") != "variance" {
		t.Errorf("date %q build %q pending %v", m.Date, m.Build, m.Pending)
	}
	for name, rs := range map[string][]Results{
		"twice":       append(twoRuns(), twoRuns()[0]),
		"other seed":  {twoRuns()[0], {Scale: "paper", Seed: 2}},
		"other scale": {twoRuns()[0], {Scale: "quick", Seed: 1}},
		"nothing":     nil,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := MergeResults(rs, order); err == nil {
				t.Error("merged")
			}
		})
	}
}

// TestPaperSection: a row per tested finding with the quick scale's
// verdict and interval beside (— where quick has none), a line per run,
// the pending experiments.
func TestPaperSection(t *testing.T) {
	p, err := MergeResults(twoRuns(), []string{"width", "variance", "rank"})
	if err != nil {
		t.Fatal(err)
	}
	q := Results{Experiments: []ExperimentResults{{Name: "rank", Findings: []FindingResult{
		{ID: "rank/far", Verdict: "refuted", Interval: Interval{N: 5, Mean: fp(40), Lo: fp(39), Hi: fp(41)}}}}}}
	s, err := PaperSection(q, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		PaperBegin + "\n", "| width/new | m of width/new | < 2 | — | confirmed 5 [4, 6] |\n",
		"| rank/far | m of rank/far | < 2 | refuted 40 [39, 41] | confirmed 30 [29, 31] |\n",
		"- width: build b1, 3 seeds a cell, written ", "add up to 1.00 hours", "- rank: build b2, 5 seeds a cell",
		"three seeds a cell (rank: five), where quick has five", "Not yet run at the paper scale: variance.\n" + PaperEnd,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "width/new") > strings.Index(s, "rank/far") {
		t.Error("rows not in the study's order")
	}
}

// TestPaperSectionOneIDSeveralClaims: a criterion that judges several
// claims (rank's per-network findings) gives rows that name their claims,
// each beside the quick finding of the same claim.
func TestPaperSectionOneIDSeveralClaims(t *testing.T) {
	f := func(claim string, m float64) FindingResult {
		return FindingResult{ID: "rank/arch", Verdict: "confirmed", Metric: "dead", Rule: "< 0.5", Claim: claim,
			Interval: Interval{N: 3, Mean: fp(m), Lo: fp(m), Hi: fp(m)}}
	}
	p := Results{Experiments: []ExperimentResults{{Name: "rank", Findings: []FindingResult{f("A.", 1), f("B.", 2)}}}}
	q := Results{Experiments: []ExperimentResults{{Name: "rank", Findings: []FindingResult{f("B.", 3)}}}}
	s, err := PaperSection(q, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| rank/arch | dead: A. | < 0.5 | — | confirmed 1 [1, 1] |\n",
		"| rank/arch | dead: B. | < 0.5 | confirmed 3 [3, 3] | confirmed 2 [2, 2] |\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
}

// A metric written with pipes (|a − b|) keeps its column: the table row has
// the template's six separators and the metric's pipes escaped.
func TestPaperSectionEscapesPipes(t *testing.T) {
	f := FindingResult{ID: "stochastic/gap", Verdict: "confirmed", Metric: "largest |a − b|", Rule: "< 0.03",
		Interval: Interval{N: 3, Mean: fp(0.02), Lo: fp(0.01), Hi: fp(0.03)}}
	p := Results{Experiments: []ExperimentResults{{Name: "stochastic", Findings: []FindingResult{f}}}}
	s, err := PaperSection(Results{}, p)
	if err != nil {
		t.Fatal(err)
	}
	want := `| stochastic/gap | largest \|a − b\| | < 0.03 | — | confirmed 0.02 [0.01, 0.03] |` + "\n"
	if !strings.Contains(s, want) {
		t.Errorf("section lacks %q:\n%s", want, s)
	}
}

// The README's paper section is what docs/results/paper.json generates.
func TestReadmeMatchesPaper(t *testing.T) {
	p, err := ReadResults(filepath.Join("..", "docs", "results", "paper.json"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no paper-scale results yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	q, err := ReadResults(filepath.Join("..", "docs", "results", "quick.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := PaperSection(q, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReplaceBetween(string(b), PaperBegin, PaperEnd, want)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(b) {
		t.Error("README's paper section differs from docs/results/paper.json; run go generate ./report")
	}
}

// TestFoldResults: an experiment run again replaces its old results in
// place, each experiment keeps its build, a new one is appended.
func TestFoldResults(t *testing.T) {
	base := Results{Scale: "quick", Seed: 1, Build: "old", Date: "2026-12-04 12:00 UTC", Experiments: []ExperimentResults{
		{Name: "width", Date: "2026-12-04 12:00 UTC"}, {Name: "conditional", Seconds: 35, Date: "2026-12-04 12:00 UTC"}}}
	up := Results{Scale: "quick", Seed: 1, Build: "new", Experiments: []ExperimentResults{
		{Name: "conditional", Seconds: 40, Date: "2026-12-04 14:00 UTC"}, {Name: "extra", Date: "2026-12-04 14:00 UTC"}}}
	f, err := FoldResults(base, up)
	if err != nil {
		t.Fatal(err)
	}
	var names, builds []string
	for _, e := range f.Experiments {
		names, builds = append(names, e.Name), append(builds, e.Build)
	}
	if strings.Join(names, ",") != "width,conditional,extra" || strings.Join(builds, ",") != "old,new,new" ||
		f.Experiments[1].Seconds != 40 || f.Build != "old; new" || f.Date != "2026-12-04 14:00 UTC" {
		t.Errorf("folded %+v", f)
	}
	if _, err := FoldResults(base, Results{Scale: "paper", Seed: 1}); err == nil {
		t.Error("folded another scale")
	}
}

// LoadResults takes a cell's seeds from config.json when it names them,
// 0 when the file is absent or names none, and an error for a file it
// cannot parse.
func TestLoadResultsSeeds(t *testing.T) {
	metrics := []byte(`{"scale":"paper","seed":1,"findings":[],"stats":[]}`)
	for _, c := range []struct {
		name, config string // config "": no file
		seeds        int
		wantErr      bool
	}{
		{"named", `{"experiment":"x","config":{"dim":128,"seeds":5}}`, 5, false},
		{"absent", "", 0, false},
		{"not named", `{"experiment":"x","config":{"subsets":3}}`, 0, false},
		{"malformed", `{"config":{"seeds":"five"}}`, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := runFolderX(t, metrics, func(dir string) error {
				if c.config == "" {
					return nil
				}
				return os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.config), 0o644)
			})
			r, err := LoadResults(runs, []string{"x"})
			if c.wantErr {
				if err == nil {
					t.Error("want an error for a config.json with seeds not a number")
				}
				return
			}
			if err != nil || r.Experiments[0].Seeds != c.seeds {
				t.Errorf("LoadResults = %+v, %v; want %d seeds", r.Experiments, err, c.seeds)
			}
		})
	}
}

// seedsPhrase names the most common number of seeds (the smaller on a
// tie) and the experiments that differ.
func TestSeedsPhrase(t *testing.T) {
	e := func(name string, seeds int) ExperimentResults { return ExperimentResults{Name: name, Seeds: seeds} }
	for _, c := range []struct {
		name string
		es   []ExperimentResults
		want string
	}{
		{"all alike", []ExperimentResults{e("width", 3), e("mnist", 0), e("rank", 3)}, "three seeds a cell"},
		{"one differs", []ExperimentResults{e("width", 3), e("rank", 5), e("phase", 3)}, "three seeds a cell (rank: five)"},
		{"tie", []ExperimentResults{e("width", 5), e("rank", 3)}, "three seeds a cell (width: five)"},
		{"many", []ExperimentResults{e("a", 12), e("b", 12)}, "12 seeds a cell"},
		{"unknown", []ExperimentResults{e("mnist", 0)}, "the seeds a cell that each experiment's config.json names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := seedsPhrase(c.es); got != c.want {
				t.Errorf("seedsPhrase = %q, want %q", got, c.want)
			}
		})
	}
}
