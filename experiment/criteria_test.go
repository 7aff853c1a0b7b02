package experiment

import (
	"math"
	"testing"

	"github.com/flowlab/flowlab/report"
)

// tInterval against a hand computation: values 1…5 have mean 3 and sample
// standard deviation √2.5; Student's t quantile t(0.975, 4) = 2.776445105
// (printed tables), so the half-width is 2.776445105·√2.5/√5 (to 1e-9,
// the table's digits).
func TestTInterval(t *testing.T) {
	iv := tInterval([]float64{1, 2, 3, 4, 5, math.NaN()})
	half := 2.776445105 * math.Sqrt(2.5) / math.Sqrt(5)
	if iv.N != 5 || iv.Mean != 3 || math.Abs(iv.Lo-(3-half)) > 1e-9 || math.Abs(iv.Hi-(3+half)) > 1e-9 {
		t.Errorf("tInterval(1…5) = %+v, want mean 3 ± %.9f over 5 values (NaN left out)", iv, half)
	}
	if one := tInterval([]float64{7}); one.N != 1 || !math.IsInf(one.Lo, -1) || !math.IsInf(one.Hi, 1) {
		t.Errorf("one value: %+v, want the whole line", one)
	}
}

// judge: the interval wholly on the claim's side confirms, wholly on the
// other side refutes, straddling is inconclusive; Every applies the rule
// to each value.
func TestJudge(t *testing.T) {
	below := criterion{Metric: "m", Cmp: "<", Lo: 1}
	above := criterion{Metric: "m", Cmp: ">", Lo: 1}
	in := criterion{Metric: "m", Cmp: "in", Lo: 0.9, Hi: 1.1}
	every := criterion{Metric: "m", Cmp: "<", Lo: 0.5, Every: true}
	cases := []struct {
		name   string
		c      criterion
		values []float64
		want   string
	}{
		{"below, all below", below, []float64{0.5, 0.6, 0.55}, report.Confirmed},
		{"below, all above", below, []float64{1.5, 1.6, 1.55}, report.Refuted},
		{"below, straddles", below, []float64{0.5, 1.5, 1.0}, report.Inconclusive},
		{"above, all above", above, []float64{1.5, 1.6, 1.55}, report.Confirmed},
		{"above, all below", above, []float64{0.5, 0.6, 0.55}, report.Refuted},
		{"in, inside", in, []float64{0.99, 1.01, 1.0}, report.Confirmed},
		{"in, outside", in, []float64{0.5, 0.52, 0.51}, report.Refuted},
		{"in, straddles", in, []float64{0.85, 0.95, 0.9}, report.Inconclusive},
		{"one seed", below, []float64{0.1}, report.Inconclusive},
		{"every, all hold", every, []float64{0, -1, -3}, report.Confirmed},
		{"every, one fails", every, []float64{0, 1, -3}, report.Refuted},
		{"every, none", every, nil, report.Inconclusive},
		{"every, one unmeasured", every, []float64{0, math.NaN(), -3}, report.Inconclusive},
		{"every, unmeasured and a counterexample", every, []float64{math.NaN(), 1}, report.Refuted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.c.judge(c.values); got != c.want {
				t.Errorf("judge(%v) = %s, want %s", c.values, got, c.want)
			}
		})
	}
}

// Every criterion of the study, with one set of per-seed values that must
// confirm it and one that must refute it: a flipped comparison or a
// threshold on the wrong side fails here.
func TestStudyCriteria(t *testing.T) {
	all := map[string]map[string]criterion{
		"width": widthCriteria(), "variance": varianceCriteria(), "rank": rankCriteria(128),
		"mnist": mnistCriteria(), "stochastic": stochasticCriteria(), "latent": latentCriteria(),
		"conditional": condCriteria(),
	}
	type io struct{ confirm, refute []float64 }
	small, large := []float64{0.2, 0.25, 0.3}, []float64{50, 55, 60}
	cases := map[string]io{
		"width/rank": {[]float64{0, -2, -5}, []float64{0, 1, -5}}, "width/bound": {[]float64{1.2, 3}, []float64{1.2, 0.8}},
		"width/hard": {[]float64{3, 4, 5}, small}, "width/imperfect": {large, []float64{1, 1.2, 1.1}},
		"width/undertrained": {small, []float64{0.9, 1, 1.1}}, "width/wide": {small, []float64{2, 3, 2.5}},
		"width/time":    {[]float64{0.6, 0.7, 0.65}, []float64{0, 0.05, 0.1}},
		"width/control": {[]float64{1, 1.2, 1.1}, []float64{5, 6, 5.5}},
		"variance/line": {[]float64{5, 6, 5.5}, []float64{1, 1.1, 1.05}}, "variance/moons": {[]float64{1, 1.1, 1.05}, []float64{5, 6, 5.5}},
		"variance/forward": {[]float64{1, 1.1, 1.05}, []float64{5, 6, 5.5}}, "variance/aspect": {[]float64{0.01, 0.02, 0.03}, []float64{0.9, 1, 0.95}},
		"variance/ideal": {[]float64{1, 1.1, 1.05}, []float64{5, 6, 5.5}},
		"rank/far":       {[]float64{20, 25, 22}, []float64{1, 1.2, 1.1}}, "rank/control": {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}},
		"rank/live": {[]float64{0.98, 1.05, 1.0}, []float64{0.98, 0.5, 1.0}}, "rank/dead": {[]float64{0.1, 0.15, 0.2}, []float64{0.9, 1, 0.95}},
		"rank/nearer": {small, []float64{2, 3, 2.5}}, "rank/exact": {[]float64{0.5, 1, 0.8}, []float64{20, 25, 22}},
		"rank/short":        {[]float64{0.5, 0.52, 0.51}, []float64{0.98, 1.05, 1.0}},
		"rank/arch-dead":    {[]float64{0.01, 0.2, 0.1}, []float64{0.01, 0.7, 0.1}},
		"rank/arch-control": {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}},
		"rank/id":           {[]float64{0.05, 0.1, 0.08}, []float64{0.9, 1, 0.95}},
		"mnist/228":         {[]float64{1}, []float64{0}}, "mnist/subsets": {[]float64{700, 710, 705}, []float64{228, 230, 229}},
		"stochastic/sde-line": {[]float64{1, 1.1, 1.05}, []float64{5, 6, 5.5}}, "stochastic/sde-rank": {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}},
		"stochastic/noise-line": {[]float64{1, 1.1, 1.05}, []float64{5, 6, 5.5}}, "stochastic/noise-rank": {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}},
		"stochastic/noise-lip":      {[]float64{0.98, 1.05, 1.0}, []float64{0.48, 0.5, 0.49}},
		"stochastic/sde-dead":       {[]float64{0.98, 1.05, 1.0}, []float64{0.48, 0.5, 0.49}},
		"stochastic/pf-live":        {[]float64{0.98, 1.05, 1.0}, []float64{0.48, 0.5, 0.49}},
		"stochastic/sde-eps-rank":   {[]float64{0.6, 0.9, 1.2}, []float64{3.9, 4.5, 4.2}},
		"stochastic/sde-eps-dead":   {[]float64{0.004, 0.01, 0.007}, []float64{0.2, 0.25, 0.22}},
		"stochastic/exact-sde-dead": {[]float64{0.98, 1.05, 1.0}, []float64{0.48, 0.5, 0.49}},
		"latent/latent":             {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}}, "latent/full": {[]float64{20, 25, 22}, []float64{1, 1.2, 1.1}},
		"latent/gen": {[]float64{1, 1.1, 1.05}, []float64{5, 6, 5.5}}, "latent/mnist-inv": {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}},
		"latent/mnist-mmd":    {small, []float64{2, 3, 2.5}},
		"latent/fd-ae-pixels": {small, []float64{2, 3, 2.5}}, "latent/fd-ae-pca": {small, []float64{2, 3, 2.5}},
		"latent/ae-coverage": {[]float64{2.29, 2.3, 2.28}, []float64{1.9, 2.0, 1.95}}, "latent/ae-inv": {[]float64{1, 1.2, 1.1}, []float64{20, 25, 22}},
		"conditional/mode": {[]float64{0.998, 0.999, 0.997}, []float64{0.9, 0.92, 0.91}}, "conditional/3sigma": {[]float64{0.985, 0.988, 0.986}, []float64{0.9, 0.92, 0.91}},
		"conditional/null": {[]float64{0.14, 0.15, 0.16}, []float64{0.9, 0.95, 0.92}}, "conditional/guided": {[]float64{0.998, 0.999, 0.997}, []float64{0.9, 0.92, 0.91}},
		"conditional/accuracy": {[]float64{0.97, 0.98, 0.975}, []float64{0.8, 0.82, 0.81}}, "conditional/sharper": {[]float64{0.02, 0.03, 0.025}, []float64{-0.02, -0.03, -0.025}},
		"conditional/diversity": {[]float64{1.5, 1.6, 1.55}, []float64{0.8, 0.82, 0.81}}, "conditional/equal": {[]float64{0.98, 1.02, 1.0}, []float64{1.6, 1.7, 1.65}},
		"conditional/share":      {[]float64{0.98, 1.02, 1.0}, []float64{1.6, 1.7, 1.65}},
		"conditional/classifier": {[]float64{0.981, 0.982, 0.9815}, []float64{0.5, 0.52, 0.51}},
	}
	for exp, cs := range all {
		for name, c := range cs {
			key := exp + "/" + name
			t.Run(key, func(t *testing.T) {
				x, ok := cases[key]
				if !ok {
					t.Fatalf("criterion %s has no test inputs", key)
				}
				if c.ID != key {
					t.Errorf("criterion %s has ID %q", key, c.ID)
				}
				if c.Why == "" || c.Metric == "" {
					t.Errorf("criterion %s does not say what it measures and why its threshold", key)
				}
				if got := c.judge(x.confirm); got != report.Confirmed {
					t.Errorf("%v: %s, want confirmed", x.confirm, got)
				}
				if got := c.judge(x.refute); got != report.Refuted {
					t.Errorf("%v: %s, want refuted", x.refute, got)
				}
			})
		}
	}
}

// An every-cell finding's text gives the range of the measured cells and
// counts the unmeasured ones; a NaN never reaches it.
func TestEveryMeasured(t *testing.T) {
	cases := []struct {
		name   string
		values []float64
		want   string
	}{
		{"all measured", []float64{3, 1, 2}, "m over 3 cells: from 1 to 3."},
		{"NaN first", []float64{math.NaN(), 1, 2}, "m over 2 cells: from 1 to 2; 1 more could not be measured."},
		{"none", []float64{math.NaN()}, "m: none of 1 cells measured."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := everyMeasured("m", c.values); got != c.want {
				t.Errorf("everyMeasured = %q, want %q", got, c.want)
			}
		})
	}
}

// findings lists the seed's claims first, then hypotheses, then checks.
func TestFindingsOrder(t *testing.T) {
	c := criterion{Metric: "m", Cmp: "<", Lo: 1, Why: "w"}
	fs := findings(test{kind: codeCheck, crit: c, values: []float64{0}}, test{kind: hypothesis, crit: c, values: []float64{0, 0}},
		test{kind: seedClaim, crit: c, values: []float64{0, 0}})
	if fs[0].Kind != report.SeedClaim || fs[1].Kind != report.Hypothesis || fs[2].Kind != report.CodeCheck {
		t.Errorf("kinds in order %s, %s, %s", fs[0].Kind, fs[1].Kind, fs[2].Kind)
	}
}

// ks2 against a hand count: {1,2,3} and {2.5,4,5} have empirical CDFs
// 2/3 and 0 at 2, the largest gap; two samples of one law stay below the
// 1 % bound.
func TestKS2(t *testing.T) {
	if d := ks2([]float64{1, 2, 3}, []float64{2.5, 4, 5}); math.Abs(d-2.0/3) > 1e-15 {
		t.Errorf("ks2 = %v, want 2/3", d)
	}
	a, b := make([]float64, 2000), make([]float64, 3000)
	for i := range a {
		a[i] = math.Sin(float64(i) * 12.9898)
	}
	for i := range b {
		b[i] = math.Sin(float64(i)*78.233 + 1)
	}
	if d := ks2(a, b); d > ks2Crit(len(a), len(b), 0.01) {
		t.Errorf("two samples of one law: ks2 %.4f above the 1 %% bound %.4f", d, ks2Crit(len(a), len(b), 0.01))
	}
}
