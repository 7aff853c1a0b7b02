package experiment

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/flowlab/flowlab/report"
)

// cellSet is a plan set up at a scale, its cells listed: what a sweep
// measures one cell at a time and collects.
type cellSet interface {
	// setting is the experiment's config (config.json's "config").
	setting() any
	// len is the number of cells.
	len() int
	// cost is cell i's plan.cost, 0 when the plan has none.
	cost(i int) int
	// cell is cell i (a pointer to a struct), measured or not.
	cell(i int) any
	// needs lists the cells whose results cell i reads when it is
	// measured (sweep.Cell.Needs, within the experiment).
	needs(i int) []int
	// measure measures cell i.
	measure(e *env, i int) error
	// finish draws the figures and computes the findings from the measured
	// cells.
	finish(e *env) (*outcome, error)
}

// cellsOf is plan p set up as c with cells xs.
type cellsOf[C, X any] struct {
	p  plan[C, X]
	c  C
	xs []X
}

func (s *cellsOf[C, X]) setting() any { return s.c }
func (s *cellsOf[C, X]) len() int     { return len(s.xs) }
func (s *cellsOf[C, X]) cell(i int) any {
	return s.xs[i]
}

func (s *cellsOf[C, X]) cost(i int) int {
	if s.p.cost == nil {
		return 0
	}
	return s.p.cost(s.xs[i])
}

func (s *cellsOf[C, X]) needs(i int) []int {
	if s.p.needs == nil {
		return nil
	}
	return s.p.needs(s.xs, i)
}

func (s *cellsOf[C, X]) measure(e *env, i int) error { return s.p.measure(e, s.c, s.xs[i]) }

func (s *cellsOf[C, X]) finish(e *env) (*outcome, error) {
	p, c, xs := s.p, s.c, s.xs
	out := &outcome{config: c, results: any(xs)}
	if p.results != nil {
		out.results = p.results(c, xs)
	}
	var err error
	if out.summary.Figures, err = p.figures(e, c, xs); err != nil {
		return nil, err
	}
	out.summary.Findings, out.summary.Tables = p.findings(c, xs)
	if p.stats != nil {
		out.stats = p.stats(c, xs)
	}
	return out, nil
}

// setSeeds sets the int field of the setting *c whose JSON name is "seeds"
// (the seeds every cell runs with) to n; a setting without one is left
// alone.
func setSeeds(c any, n int) {
	v := reflect.ValueOf(c).Elem()
	if v.Kind() != reflect.Struct {
		return
	}
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name == "seeds" && f.CanSet() && f.Kind() == reflect.Int {
			f.SetInt(int64(n))
			return
		}
	}
}

// summaryOf completes an outcome's summary with the experiment's
// description and the run's scale and seed.
func summaryOf(sp spec, out *outcome, scale Scale, seed uint64) report.Summary {
	s := out.summary
	s.Experiment, s.Title, s.Question, s.SeedClaim = sp.name, sp.title, sp.question, sp.claim
	s.Scale, s.Seed = string(scale), seed
	return s
}

// cellName is how progress lines name cell i of an experiment.
func cellName(name string, i int) string { return fmt.Sprintf("%s#%d", name, i) }
