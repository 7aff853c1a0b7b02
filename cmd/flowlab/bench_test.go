package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

func TestBenchCmdJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--case", "tiny", "--steps", "3", "--samples", "32", "--ode-steps", "2", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	// The fields of torch_fm.py's JSON line.
	for _, k := range []string{"impl", "case", "dim", "width", "depth", "batch", "params", "threads",
		"train_steps_per_s", "train_gflops", "ode_evals_per_s", "ode_samples", "final_loss"} {
		if _, ok := r[k]; !ok {
			t.Errorf("field %q missing from %s", k, out.String())
		}
	}
	// Parameters of Linear(3,64), Linear(64,64)×2, Linear(64,2): Σ (in+1)·out.
	want := 0
	for _, l := range [][2]int{{3, 64}, {64, 64}, {64, 64}, {64, 2}} {
		want += (l[0] + 1) * l[1]
	}
	if r["params"] != float64(want) || r["case"] != "tiny" || r["threads"] != float64(runtime.GOMAXPROCS(0)) || r["ode_samples"] != 32.0 {
		t.Errorf("unexpected fields: %v", r)
	}
	if !strings.HasPrefix(r["impl"].(string), "flowlab-") {
		t.Errorf("impl %q", r["impl"])
	}
	// The loss of the linear interpolant starts near E‖x1 − x0‖²/D = 1.5
	// (plus the untrained output) and cannot go below the floor 1.11 by much
	// over 23 steps; it must at least be a finite positive number.
	if l := r["final_loss"].(float64); !(l > 0 && l < 100) {
		t.Errorf("final loss %g", l)
	}
}

func TestBenchCmdTextAndProfile(t *testing.T) {
	var out, errb bytes.Buffer
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code := run(context.Background(), []string{"bench", "--case", "tiny", "--steps", "1", "--samples", "8", "--ode-steps", "1", "--cpuprofile", prof}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "train steps/s") {
		t.Fatalf("exit %d, output %q, stderr %q", code, out.String(), errb.String())
	}
}

func TestBenchCmdBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--case", "huge"},
		{"bench", "--steps", "0"},
		{"bench", "--samples", "-1"},
		{"bench", "--ode-steps", "0"},
		{"bench", "--steps", "many"},
		{"bench", "extra"},
		// 10¹² points cannot be held: refused before any training.
		{"bench", "--case", "mnist", "--samples", "1000000000000"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); lines != 0 {
			t.Errorf("%v: stderr has %d lines, want one: %q", args, lines+1, errb.String())
		}
	}
}

// stdNormalCDF is Φ(x).
func stdNormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// TestNormal32 checks the ziggurat against N(0, 1) with n = 200000 draws.
func TestNormal32(t *testing.T) {
	const n = 200000
	r := newNormal32(3)
	x := make([]float32, n)
	r.fill(x, 1)
	var s, ss float64
	tail := 0
	for _, v := range x {
		s += float64(v)
		ss += float64(v) * float64(v)
		if math.Abs(float64(v)) > 3.442620 { // beyond the base layer: the tail path
			tail++
		}
	}
	mean := s / n
	vr := ss/n - mean*mean
	// 5 standard errors: mean 1/√n, variance √(2/n).
	if !(math.Abs(mean) <= 5/math.Sqrt(n)) || !(math.Abs(vr-1) <= 5*math.Sqrt(2.0/n)) {
		t.Errorf("mean %g, variance %g", mean, vr)
	}
	// Tail count ~ Binomial(n, 2Φ(−3.44262)): within 5 sd.
	p := 2 * stdNormalCDF(-3.442620)
	if d := math.Abs(float64(tail) - n*p); d > 5*math.Sqrt(n*p*(1-p)) {
		t.Errorf("%d draws beyond 3.44262, expected %.1f", tail, n*p)
	}
	// Kolmogorov–Smirnov: D > 1.95/√n has probability 0.001 under H0.
	xs := make([]float64, n)
	for i, v := range x {
		xs[i] = float64(v)
	}
	slices.Sort(xs)
	d := 0.0
	for i, v := range xs {
		f := stdNormalCDF(v)
		d = math.Max(d, math.Max(math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f)))
	}
	if d > 1.95/math.Sqrt(n) {
		t.Errorf("KS statistic %g > %g", d, 1.95/math.Sqrt(n))
	}
	// Scale, and determinism for a seed.
	y := make([]float32, 10)
	newNormal32(3).fill(y, 2)
	for i := range y {
		if y[i] != 2*x[i] {
			t.Fatalf("draw %d: %g with scale 2, %g with scale 1", i, y[i], x[i])
		}
	}
	// Uniforms: mean ½ within 5 standard errors (1/√(12n)).
	var us float64
	for i := 0; i < n; i++ {
		u := r.uniform()
		if u < 0 || u >= 1 {
			t.Fatalf("uniform %g outside [0, 1)", u)
		}
		us += float64(u)
	}
	if !(math.Abs(us/n-0.5) <= 5/math.Sqrt(12*n)) {
		t.Errorf("uniform mean %g", us/n)
	}
}

// TestFMBatch checks the minibatch against torch_fm.py's definitions and
// the loss gradient against finite differences.
func TestFMBatch(t *testing.T) {
	f := newFMBatch(4, 3, 5)
	f.sample()
	for i := 0; i < 4; i++ {
		tt := f.t[i]
		for j := 0; j < 3; j++ {
			x0, x1 := f.x0[i*3+j], f.x1[i*3+j]
			if f.xt.At(i, j) != float32((1-tt)*x0)+float32(tt*x1) || f.target[i*3+j] != x1-x0 {
				t.Fatalf("row %d col %d: x_t or target wrong", i, j)
			}
		}
	}
	out := mat.New(4, 3)
	for i := range out.Data {
		out.Data[i] = float32(i) / 7
	}
	g := mat.New(4, 3)
	lossGrad := func(out *mat.Dense) float64 { return f.lossRows(0, out, g) / 12 }
	loss := lossGrad(out)
	want := 0.0
	for i, o := range out.Data {
		e := float64(o) - float64(f.target[i])
		want += e * e / 12
	}
	// float32 squared errors summed in float32 per row: relative 1e-6.
	if !(math.Abs(loss-want) <= 1e-6*want) {
		t.Errorf("loss %g, want %g", loss, want)
	}
	const h = 1e-3
	for i := range out.Data {
		old := out.Data[i]
		out.Data[i] = old + h
		lp := lossGrad(out)
		out.Data[i] = old - h
		lm := lossGrad(out)
		out.Data[i] = old
		lossGrad(out)
		// The loss is quadratic, so central differences are exact up to
		// float32 rounding of o ± h (6e-8·|o|/h ≲ 1e-4 relative).
		if fd := (lp - lm) / (2 * h); !(math.Abs(float64(g.Data[i])-fd) <= 1e-3*math.Max(1, math.Abs(fd))) {
			t.Errorf("dL/dv[%d] = %g, finite differences %g", i, g.Data[i], fd)
		}
	}
	// Rows 2 and 3 alone (as one of Grad's shards sees them): the same
	// gradient rows, and the loss of those rows.
	lossGrad(out)
	part := mat.NewFrom(2, 3, out.Data[6:])
	g2 := mat.New(2, 3)
	l2 := f.lossRows(2, part, g2)
	var w2 float64
	for i := 6; i < 12; i++ {
		e := out.Data[i] - f.target[i]
		w2 += float64(e * e)
		if g2.Data[i-6] != g.Data[i] {
			t.Errorf("rows from 2: gradient %d is %g, want %g", i, g2.Data[i-6], g.Data[i])
		}
	}
	if !(math.Abs(l2-w2) <= 1e-6*w2) {
		t.Errorf("rows from 2: loss %g, want %g", l2, w2)
	}
}

// TestFMBatchThreads: the batch is the same bits whether its halves are
// drawn on one core or two.
func TestFMBatchThreads(t *testing.T) {
	draw := func(procs int) []float32 {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		f := newFMBatch(128, 64, 9)
		f.sample()
		f.sample()
		return append(append([]float32(nil), f.xt.Data...), f.t...)
	}
	one, two := draw(1), draw(2)
	for i := range one {
		if math.Float32bits(one[i]) != math.Float32bits(two[i]) {
			t.Fatalf("value %d: %g with GOMAXPROCS=1, %g with 2", i, one[i], two[i])
		}
	}
	for _, c := range []struct {
		v    int32
		want uint32
	}{{0, 0}, {5, 5}, {-5, 5}, {math.MaxInt32, math.MaxInt32}, {math.MinInt32, 1 << 31}} {
		if got := absInt32(c.v); got != c.want {
			t.Errorf("absInt32(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestZigTables checks the ziggurat's constants against their defining
// equations: zigN layers of area zigV (the base strip, a rectangle under
// the tail from zigR plus the tail itself, has area zigV too), so the
// recursion x_{i−1} = f⁻¹(zigV/x_i + f(x_i)) from x = zigR down the layers
// must leave a top layer of area x₁(1 − f(x₁)) = zigV. The published
// constants satisfy it to about 1e-9; an error in either constant breaks it
// by far more than the 1e-7 allowed (5 % off zigV leaves no real x₁ at all).
// The tables must also be finite and strictly monotone.
func TestZigTables(t *testing.T) {
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	x := zigR
	for i := zigN - 2; i >= 1; i-- {
		x = math.Sqrt(-2 * math.Log(zigV/x+f(x)))
	}
	if top := x * (1 - f(x)); !(math.Abs(top/zigV-1) < 1e-7) {
		t.Fatalf("top layer area %g, want %g (x₁ = %g)", top, zigV, x)
	}
	if tail := zigR*f(zigR) + math.Sqrt(math.Pi/2)*math.Erfc(zigR/math.Sqrt2); math.Abs(tail/zigV-1) > 1e-7 {
		t.Fatalf("base strip area %g, want %g", tail, zigV)
	}
	for i := 1; i < zigN; i++ {
		if !(zigF[i] < zigF[i-1]) || math.IsNaN(float64(zigW[i])) || zigW[i] <= 0 {
			t.Fatalf("layer %d: f %g (previous %g), w %g", i, zigF[i], zigF[i-1], zigW[i])
		}
	}
}
