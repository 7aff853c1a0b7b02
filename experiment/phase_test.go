package experiment

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlab/flowlab/report"
)

// TestPhaseSmoke runs the experiment and checks the cell contract: the
// cells read back from metrics.json (exported fields only) give the same
// findings, byte for byte, and the same figures without error. And the
// theorem the ODE cells rest on: a flow of the plain rank-r source leaves
// the dead directions far below the target's variance 1 (the exact flow
// keeps them at 0).
func TestPhaseSmoke(t *testing.T) {
	dir := runSmoke(t, "phase", 1)
	var cells []*phaseCell
	results(t, dir, &cells)
	c := phaseSetup(Smoke)
	if want := c.Seeds * (3*len(c.Ranks)*len(c.Widths) + len(c.SweepEps) - 1); len(cells) != want {
		t.Fatalf("%d cells, want %d", len(cells), want)
	}
	for _, x := range cells {
		if len(x.Snaps) != len(c.Steps) {
			t.Fatalf("%s seed %d: %d snapshots, want %d", x.label(), x.Seed, len(x.Snaps), len(c.Steps))
		}
		for _, s := range x.Snaps {
			if x.Method == phaseODE && s.DeadVar > 0.5 {
				t.Errorf("%s seed %d, %d steps: ODE dead-direction variance %.3f, want well below 1", x.label(), x.Seed, s.Steps, s.DeadVar)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Findings []json.RawMessage }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	fs, _ := phaseFindings(c, cells)
	if len(fs) != len(m.Findings) {
		t.Fatalf("%d findings from the read-back cells, %d in metrics.json", len(fs), len(m.Findings))
	}
	for i, f := range fs {
		var got, want bytes.Buffer
		enc := json.NewEncoder(&got)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&want, m.Findings[i]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(got.Bytes()), want.Bytes()) {
			t.Errorf("finding %d from the read-back cells differs:\n%s\nwant\n%s", i, got.Bytes(), want.Bytes())
		}
	}
	e := &env{dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(e.dir, "figures"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := phaseFigures(e, c, cells); err != nil {
		t.Errorf("figures from the read-back cells: %v", err)
	}
}

// exactFieldLip against the closed form written out: the exact field of
// N(0, v) → N(0, b) on the linear interpolant is c(t)·x with
// c(t) = (tb − (1−t)v)/((1−t)²v + t²b), σ₁ the larger |c| of the live (a)
// and dead (ε) directions (to 1e-12, rounding); c(0) = −1 for any v; and
// for small ε the peak over t tends to ½√(b/ε) at t ≈ √(ε/b), with a
// relative correction of order √ε (1 % at ε = 1e-4: tolerance 3 %).
func TestExactFieldLip(t *testing.T) {
	c := func(t, v float64) float64 { return (t*phaseB - (1-t)*v) / ((1-t)*(1-t)*v + t*t*phaseB) }
	for _, tc := range []struct{ t, a, eps float64 }{{0, 0.5, 0.1}, {0.05, 0.5, 0.01}, {0.3, 0.5, 0.1}, {0.9, 0.5, 0.001}, {1, 0.5, 0.3}} {
		want := max(math.Abs(c(tc.t, tc.a)), math.Abs(c(tc.t, tc.eps)))
		if got := exactFieldLip(tc.t, tc.a, tc.eps); math.Abs(got-want) > 1e-12*max(1, want) {
			t.Errorf("t=%g a=%g ε=%g: σ₁ %v, want %v", tc.t, tc.a, tc.eps, got, want)
		}
	}
	if got := exactFieldLip(0, 0.5, 0.01); math.Abs(got-1) > 1e-12 {
		t.Errorf("σ₁ at t = 0: %v, want 1", got)
	}
	eps := 1e-4
	want := 0.5 * math.Sqrt(phaseB/eps)
	if got := exactFieldPeak(grid(0, 1, 100000), 0.5, eps); math.Abs(got-want) > 0.03*want {
		t.Errorf("peak σ₁ at ε = %g: %v, want ≈ ½√(b/ε) = %v", eps, got, want)
	}
}

// phaseSlope recovers the exponent of a power law exactly (to rounding),
// and phaseSweepValues reads the slope 1 and the price 1 from cells whose
// flow maps are the exact √(b/ε).
func TestPhaseSweepValues(t *testing.T) {
	x := []float64{0, 1, 2, 3}
	if s := phaseSlope(x, []float64{1, 1.5, 2, 2.5}); math.Abs(s-0.5) > 1e-12 {
		t.Errorf("slope %v, want 0.5", s)
	}
	c := phaseSetup(Smoke)
	var xs []*phaseCell
	for s := 1; s <= 3; s++ {
		for _, eps := range c.SweepEps {
			snaps := make([]phaseSnap, len(c.Steps))
			snaps[len(snaps)-1].FlowLip = math.Sqrt(phaseB / eps)
			xs = append(xs, &phaseCell{Method: phaseEps, Rank: c.SweepRank, Width: c.Widths[len(c.Widths)-1], Eps: eps, Seed: s, Snaps: snaps})
		}
	}
	c.Seeds = 3
	slopes, price := phaseSweepValues(c, xs)
	if len(slopes) != 3 || len(price) != 3 {
		t.Fatalf("%d slopes and %d prices, want 3 each", len(slopes), len(price))
	}
	for i := range slopes {
		if math.Abs(slopes[i]-1) > 1e-12 || math.Abs(price[i]-1) > 1e-12 {
			t.Errorf("seed %d: slope %v, price %v; want 1, 1", i+1, slopes[i], price[i])
		}
	}
}

// Each phase criterion with one set of values that must confirm it and one
// that must refute it.
func TestPhaseCriteria(t *testing.T) {
	cases := map[string]struct{ confirm, refute []float64 }{
		"ode-keeps":     {[]float64{-0.05, 0.02, 0.1}, []float64{0.02, 0.6, 0.1}},
		"eps-reaches":   {[]float64{0.95, 1, 0.98}, []float64{0.3, 0.35, 0.32}},
		"sde-reaches":   {[]float64{0.95, 1, 0.98}, []float64{0.3, 0.35, 0.32}},
		"eps-lip-grows": {[]float64{0.9, 1, 0.95}, []float64{0.1, 0.05, 0.08}},
		"eps-lip-price": {[]float64{0.95, 1.05, 1}, []float64{0.4, 0.45, 0.42}},
		"id-reference":  {[]float64{0.95, 1.02, 0.9}, []float64{1, 0.7, 0.95}},
	}
	crits := phaseCriteria()
	if len(crits) != len(cases) {
		t.Errorf("%d criteria, %d with test inputs", len(crits), len(cases))
	}
	for name, c := range crits {
		t.Run(name, func(t *testing.T) {
			x, ok := cases[name]
			if !ok {
				t.Fatalf("criterion %s has no test inputs", name)
			}
			if c.ID != "phase/"+name || c.Why == "" || c.Metric == "" {
				t.Errorf("criterion %s: ID %q, metric %q, why %q", name, c.ID, c.Metric, c.Why)
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
