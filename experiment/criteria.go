package experiment

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowlab/flowlab/report"
)

// intervalRule says how metrics.json's intervals are computed.
const intervalRule = "95 % Student t interval over seeds: mean ± t(0.975, n−1)·s/√n (s the sample standard deviation)"

// interval is a metric's mean over seeds with its 95 % Student t interval.
// Non-finite values are left out of N; with fewer than two values the
// interval is the whole line (JSON null), which no criterion can decide.
type interval struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
}

// tInterval returns the 95 % Student t interval of the mean of v.
func tInterval(v []float64) interval {
	var xs []float64
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			xs = append(xs, x)
		}
	}
	iv := interval{N: len(xs), Mean: math.NaN(), Lo: math.Inf(-1), Hi: math.Inf(1)}
	if len(xs) == 0 {
		return iv
	}
	iv.Mean = mean(xs)
	if len(xs) < 2 {
		return iv
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - iv.Mean) * (x - iv.Mean)
	}
	n := float64(len(xs))
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975) * math.Sqrt(ss/(n-1)/n)
	iv.Lo, iv.Hi = iv.Mean-half, iv.Mean+half
	return iv
}

// MarshalJSON writes non-finite values as null.
func (iv interval) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		N    int `json:"n"`
		Mean any `json:"mean"`
		Lo   any `json:"lo"`
		Hi   any `json:"hi"`
	}{iv.N, finite(iv.Mean), finite(iv.Lo), finite(iv.Hi)})
}

// String prints the interval for the report.
func (iv interval) String() string {
	if iv.N < 2 {
		return fmt.Sprintf("%.4g (%d seed, no interval)", iv.Mean, iv.N)
	}
	return fmt.Sprintf("%.4g [%.4g, %.4g] (95 %% t, %d seeds)", iv.Mean, iv.Lo, iv.Hi, iv.N)
}

// The three kinds of finding, kept apart in metrics.json and the report.
const (
	seedClaim  = report.SeedClaim
	hypothesis = report.Hypothesis
	codeCheck  = report.CodeCheck
)

// criterion is a finding's rule, stated before any result: the per-seed
// metric, the side of the threshold the claim is on and why that threshold.
//
// With Cmp "<" (">") the claim holds when the metric is below (above) Lo;
// with "in" when it lies in [Lo, Hi]. The verdict comes from the 95 %
// interval of the metric's mean over seeds: confirmed when the whole
// interval is on the claim's side, refuted when it is wholly on the other
// side, inconclusive otherwise. With Every, the rule applies to each value
// instead (a theorem: one counterexample refutes it, and it is confirmed
// only when every value holds).
type criterion struct {
	ID     string  `json:"id"` // experiment/name, set by named
	Metric string  `json:"metric"`
	Cmp    string  `json:"cmp"`
	Lo     float64 `json:"threshold"`
	Hi     float64 `json:"upper,omitempty"`
	Every  bool    `json:"every,omitempty"`
	Why    string  `json:"why"`
}

// named sets each criterion's ID to exp/key.
func named(exp string, m map[string]criterion) map[string]criterion {
	for k, c := range m {
		c.ID = exp + "/" + k
		m[k] = c
	}
	return m
}

// holds reports whether x is on the claim's side.
func (c criterion) holds(x float64) bool {
	switch c.Cmp {
	case "<":
		return x < c.Lo
	case ">":
		return x > c.Lo
	case "in":
		return c.Lo <= x && x <= c.Hi
	}
	panic("experiment: criterion comparison " + c.Cmp)
}

// judge returns the verdict for the per-seed values.
func (c criterion) judge(values []float64) string {
	if c.Every {
		// A counterexample refutes; a value that could not be measured
		// (NaN) is no counterexample, and leaves the claim unsettled.
		missing := len(values) == 0
		for _, x := range values {
			switch {
			case math.IsNaN(x):
				missing = true
			case !c.holds(x):
				return report.Refuted
			}
		}
		if missing {
			return report.Inconclusive
		}
		return report.Confirmed
	}
	iv := tInterval(values)
	if iv.N < 2 {
		return report.Inconclusive
	}
	switch {
	case c.holds(iv.Lo) && c.holds(iv.Hi):
		return report.Confirmed
	case c.Cmp == "in" && (iv.Hi < c.Lo || iv.Lo > c.Hi):
		return report.Refuted
	case c.Cmp != "in" && !c.holds(iv.Lo) && !c.holds(iv.Hi) && iv.Lo != c.Lo && iv.Hi != c.Lo:
		return report.Refuted
	}
	return report.Inconclusive
}

// String states the rule.
func (c criterion) String() string {
	var rule string
	switch c.Cmp {
	case "in":
		rule = fmt.Sprintf("%s in [%g, %g]", c.Metric, c.Lo, c.Hi)
	default:
		rule = fmt.Sprintf("%s %s %.4g", c.Metric, c.Cmp, c.Lo)
	}
	how := "the 95 % interval of its mean over seeds wholly on the claim's side (refuted: wholly on the other)"
	if c.Every {
		how = "in every cell of every seed (one counterexample refutes it)"
	}
	return fmt.Sprintf("%s, %s. Why this threshold: %s", rule, how, c.Why)
}

// test is one finding before it is judged: its kind, the claim, the
// criterion, the metric's value for each seed (or each cell, with Every) and
// a note on what else was measured.
type test struct {
	kind   string
	claim  string
	crit   criterion
	values []float64
	note   string
}

// testRecord is what metrics.json keeps of a test: the criterion as data,
// the values it was judged on and their interval.
type testRecord struct {
	criterion
	Values   []any    `json:"values"`
	Interval interval `json:"interval"`
}

// everyMeasured describes the values of an every-cell test: their range
// over the cells that were measured, and how many could not be (NaN), so
// that no NaN reaches the text.
func everyMeasured(metric string, values []float64) string {
	lo, hi, missing := math.Inf(1), math.Inf(-1), 0
	for _, x := range values {
		if math.IsNaN(x) {
			missing++
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	n := len(values) - missing
	var s string
	switch n {
	case 0:
		s = fmt.Sprintf("%s: none of %d cells measured", metric, len(values))
	default:
		s = fmt.Sprintf("%s over %d cells: from %.4g to %.4g", metric, n, lo, hi)
		if missing > 0 {
			s += fmt.Sprintf("; %d more could not be measured", missing)
		}
	}
	return s + "."
}

// finding judges the test.
func (t test) finding() report.Finding {
	iv := tInterval(t.values)
	measured := fmt.Sprintf("%s: %s.", t.crit.Metric, iv)
	if t.crit.Every {
		measured = everyMeasured(t.crit.Metric, t.values)
	}
	if t.note != "" {
		measured += " " + t.note
	}
	vals := make([]any, len(t.values))
	for i, x := range t.values {
		vals[i] = finite(x)
	}
	return report.Finding{
		Kind: t.kind, Claim: t.claim, Measured: measured, Criterion: t.crit.String(),
		Verdict: t.crit.judge(t.values),
		Test:    testRecord{criterion: t.crit, Values: vals, Interval: iv},
	}
}

// findings judges tests, the seed's claims first, then flowlab's
// hypotheses, then the checks of the code (stable within each kind).
func findings(ts ...test) []report.Finding {
	rank := map[string]int{seedClaim: 0, hypothesis: 1, codeCheck: 2}
	slices.SortStableFunc(ts, func(a, b test) int { return cmp.Compare(rank[a.kind], rank[b.kind]) })
	out := make([]report.Finding, len(ts))
	for i, t := range ts {
		out[i] = t.finding()
	}
	return out
}

// seedsFor returns the number of seeds every cell runs with: 2 at smoke,
// 5 at quick, 3 at paper (five everywhere does not fit the paper scale's
// budget: docs/PERFORMANCE.md). The rank experiment runs five at paper, as
// the seed does (rankSetup).
func seedsFor(s Scale) int { return pick(s, 2, 5, 3) }

// cellStat is one metric of one cell, over seeds.
type cellStat struct {
	Cell     string   `json:"cell"`
	Metric   string   `json:"metric"`
	Interval interval `json:"interval"`
}

// metric is a named per-seed value.
type metric struct {
	name string
	v    float64
}

// cellStats groups xs by key (in order of first appearance) and returns the
// interval of each metric over the group's seeds.
func cellStats[X any](xs []X, key func(X) string, ms func(X) []metric) []cellStat {
	var keys []string
	vals := map[string]map[string][]float64{}
	names := map[string][]string{}
	for _, x := range xs {
		k := key(x)
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
			vals[k] = map[string][]float64{}
		}
		for _, m := range ms(x) {
			if _, ok := vals[k][m.name]; !ok {
				names[k] = append(names[k], m.name)
			}
			vals[k][m.name] = append(vals[k][m.name], m.v)
		}
	}
	var out []cellStat
	for _, k := range keys {
		for _, n := range names[k] {
			out = append(out, cellStat{Cell: k, Metric: n, Interval: tInterval(vals[k][n])})
		}
	}
	return out
}
