package report

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
)

// The README's paper-scale section lies between these markers.
const (
	PaperBegin = "<!-- paper:begin (generated from docs/results/paper.json by go generate ./report; do not edit) -->"
	PaperEnd   = "<!-- paper:end -->"
)

// MergeResults joins the results of separate runs at one scale and seed,
// such as the folders of a sweep planned experiment by experiment, in the
// study's order (experiments not in order come last); the experiments of
// order that no run holds are listed in Pending. Each experiment keeps the
// build of its run (Build), and the merged Build lists the builds in the
// study's order. An experiment in two runs, or runs of different scales or
// seeds, is an error.
func MergeResults(rs []Results, order []string) (Results, error) {
	if len(rs) == 0 {
		return Results{}, errors.New("results: nothing to merge")
	}
	m := Results{Scale: rs[0].Scale, Seed: rs[0].Seed, Intervals: rs[0].Intervals}
	for _, r := range rs {
		if r.Scale != m.Scale || r.Seed != m.Seed {
			return Results{}, fmt.Errorf("results: cannot merge scale %s seed %d with scale %s seed %d", r.Scale, r.Seed, m.Scale, m.Seed)
		}
		if r.Date > m.Date { // dateLayout sorts as text
			m.Date = r.Date
		}
		for _, e := range r.Experiments {
			if slices.ContainsFunc(m.Experiments, func(x ExperimentResults) bool { return x.Name == e.Name }) {
				return Results{}, fmt.Errorf("results: experiment %s is in two runs", e.Name)
			}
			if e.Build == "" {
				e.Build = r.Build
			}
			m.Experiments = append(m.Experiments, e)
		}
	}
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(m.Experiments, func(a, b ExperimentResults) int { return rank(a.Name) - rank(b.Name) })
	for _, name := range order {
		if !slices.ContainsFunc(m.Experiments, func(x ExperimentResults) bool { return x.Name == name }) {
			m.Pending = append(m.Pending, name)
		}
	}
	m.Build = buildsOf(m.Experiments)
	return m, nil
}

// buildsOf lists the distinct builds of the experiments, in their order.
func buildsOf(es []ExperimentResults) string {
	var builds []string
	for _, e := range es {
		if !slices.Contains(builds, e.Build) {
			builds = append(builds, e.Build)
		}
	}
	return strings.Join(builds, "; ")
}

// FoldResults returns base with the experiments of update in place of its
// own of the same name (appended when base lacks them): an experiment run
// again at the base's scale and seed. Every experiment keeps the build of
// the run it came from (Build), and Build and Date are recomputed.
func FoldResults(base, update Results) (Results, error) {
	if base.Scale != update.Scale || base.Seed != update.Seed {
		return Results{}, fmt.Errorf("results: cannot fold scale %s seed %d into scale %s seed %d", update.Scale, update.Seed, base.Scale, base.Seed)
	}
	out := base
	out.Experiments = nil
	add := func(e ExperimentResults, build string) {
		if e.Build == "" {
			e.Build = build
		}
		if e.Date > out.Date {
			out.Date = e.Date
		}
		out.Experiments = append(out.Experiments, e)
	}
	for _, e := range base.Experiments {
		if i := slices.IndexFunc(update.Experiments, func(u ExperimentResults) bool { return u.Name == e.Name }); i >= 0 {
			add(update.Experiments[i], update.Build)
		} else {
			add(e, base.Build)
		}
	}
	for _, u := range update.Experiments {
		if !slices.ContainsFunc(base.Experiments, func(e ExperimentResults) bool { return e.Name == u.Name }) {
			add(u, update.Build)
		}
	}
	out.Build = buildsOf(out.Experiments)
	return out, nil
}

// paperRow is one finding of the paper scale beside the quick scale's.
type paperRow struct {
	ID, Metric, Rule, Quick, Paper string
}

// escaped returns r with the pipes in its cells escaped, so that a
// metric such as "|a − b|" stays in its column of the Markdown table.
func (r paperRow) escaped() paperRow {
	e := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	return paperRow{ID: e(r.ID), Metric: e(r.Metric), Rule: e(r.Rule), Quick: e(r.Quick), Paper: e(r.Paper)}
}

// paperTemplate is the README's paper-scale section.
const paperTemplate = `## At the seed's scale

The paper scale runs the seed's own grid (k = 256 with widths 254–258 and snapshots for 10, 100 and 1000 epochs;
{{.Seeds}}, where quick has five) as
sweeps, one plan folder per experiment under [docs/results/paper](docs/results/paper)
(` + "`flowlab sweep plan NAME --scale paper`, `sweep local` or `sweep slurm`, `sweep collect`" + `). Each
finding with a test, the same criterion at both scales; means over seeds with 95 % t intervals, verdict first.

| finding | measured | claim's side | quick | paper |
|---|---|---|---|---|
{{range .Rows}}| {{.ID}} | {{.Metric}} | {{.Rule}} | {{.Quick}} | {{.Paper}} |
{{end}}
{{range .Runs}}{{.}}
{{end}}{{if .Pending}}Not yet run at the paper scale: {{.Pending}}.
{{end}}`

// PaperSection renders the README's paper-scale section (markers
// included): every finding with a test of the paper results p beside the
// same finding in the quick results q, a line per paper run, and the
// experiments p lists as pending.
func PaperSection(q, p Results) (string, error) {
	cell := func(f FindingResult) string { return f.Verdict + " " + f.Interval.String() }
	var data struct {
		Rows    []paperRow
		Runs    []string
		Pending string
		Seeds   string
	}
	data.Seeds = seedsPhrase(p.Experiments)
	for _, e := range p.Experiments {
		ids := map[string]int{}
		for _, f := range e.Findings {
			ids[f.ID]++
		}
		for _, f := range e.Findings {
			if f.ID == "" {
				continue
			}
			row := paperRow{ID: f.ID, Metric: f.Metric, Rule: f.Rule, Quick: "—", Paper: cell(f)}
			if ids[f.ID] > 1 && f.Claim != "" {
				row.Metric = f.Metric + ": " + f.Claim // one criterion, several claims
			}
			if qf, err := q.findingOf(f.ID, f.Claim); err == nil {
				row.Quick = cell(qf)
			}
			data.Rows = append(data.Rows, row.escaped())
		}
		seeds := ""
		if e.Seeds > 0 {
			seeds = fmt.Sprintf(", %d seeds a cell", e.Seeds)
		}
		data.Runs = append(data.Runs, fmt.Sprintf("- %s: build %s%s, written %s; its cells' wall times add up to %.2f hours.",
			e.Name, e.Build, seeds, e.Date, e.CellSeconds/3600))
	}
	data.Pending = strings.Join(p.Pending, ", ")
	t, err := template.New("paper").Parse(paperTemplate)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return PaperBegin + "\n" + b.String() + PaperEnd, nil
}

// seedsPhrase says how many seeds the experiments run a cell: the most
// common number (the smaller on a tie), then the experiments that differ,
// such as "three seeds a cell (rank: five)".
func seedsPhrase(es []ExperimentResults) string {
	count := map[int]int{}
	for _, e := range es {
		if e.Seeds > 0 {
			count[e.Seeds]++
		}
	}
	common := 0
	for n, c := range count {
		if common == 0 || c > count[common] || c == count[common] && n < common {
			common = n
		}
	}
	if common == 0 {
		return "the seeds a cell that each experiment's config.json names"
	}
	var other []string
	for _, e := range es {
		if e.Seeds > 0 && e.Seeds != common {
			other = append(other, e.Name+": "+numberWord(e.Seeds))
		}
	}
	s := numberWord(common) + " seeds a cell"
	if len(other) > 0 {
		s += " (" + strings.Join(other, ", ") + ")"
	}
	return s
}

// numberWord spells n in words up to ten, in digits beyond.
func numberWord(n int) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	if n >= 0 && n < len(words) {
		return words[n]
	}
	return fmt.Sprint(n)
}

// ReplaceBetween replaces the text from begin to end (markers included) in
// doc with section.
func ReplaceBetween(doc, begin, end, section string) (string, error) {
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("readme: no %q … %q markers", begin, end)
	}
	return doc[:i] + section + doc[j+len(end):], nil
}
