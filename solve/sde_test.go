package solve_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// pooledVar returns the mean of x's entries squared (the variance when the
// true mean is 0), pooling every entry of every row.
func pooledVar(x *mat.Dense) float64 {
	var s float64
	for _, v := range x.Data {
		s += float64(v) * float64(v)
	}
	return s / float64(len(x.Data))
}

func normalBatch(rng *rand.Rand, n, k int, variance float64) *mat.Dense {
	x := mat.New(n, k)
	sd := math.Sqrt(variance)
	for i := range x.Data {
		x.Data[i] = float32(sd * rng.NormFloat64())
	}
	return x
}

// emVariance runs Euler–Maruyama's variance recursion for the scalar linear
// SDE dX = λ(t)X dt + √(2ε) dW in float64: V ← (1 + hλ(t))²V + 2ε|h|. It is
// what EM's sample variance converges to, so the test can separate the
// method's O(h) bias from sampling error.
func emVariance(v0 float64, lam func(t float64) float64, eps float64, t0, t1 float64, steps int) float64 {
	v := v0
	for k := 0; k < steps; k++ {
		t := t0 + (t1-t0)*float64(k)/float64(steps)
		h := (t1 - t0) / float64(steps)
		a := 1 + h*lam(t)
		v = a*a*v + 2*eps*math.Abs(h)
	}
	return v
}

// TestSDEExactScore integrates the SDE with the exact drift and score of
// N(0, ½I) → N(0, I) (linear interpolant) from N(0, ½I) samples and checks the
// law at t = 1. The pooled variance of n·k draws has standard error
// √(2/(n·k)); the sample must lie within 4 SE of EM's own expected variance
// (emVariance, which includes its O(h) bias), and that expectation within
// 0.01 of the target 1. Without the score term the same noise lands far away:
// its sample variance sits within 4 SE of its own recursion and more than
// 20 SE from 1. Backward (t: 1 → 0 from N(0, I)) must land on ½.
func TestSDEExactScore(t *testing.T) {
	const n, k, steps, eps = 4000, 4, 200, 0.5
	g := exact.Isotropic(k, 0.5, 1)
	score := g.ScoreField()
	se := func(v float64) float64 { return v * math.Sqrt(2.0/float64(n*k)) }
	// Per-dimension slopes: drift slope(t) and the score's −1/s_t².
	slopeAt := func(tt float64) float64 {
		d := mat.New(1, k)
		x := mat.New(1, k)
		x.Data[0] = 1
		g.Eval(tt, x, d)
		return float64(d.Data[0])
	}
	sVar := func(tt float64) float64 { _, v := g.Marginal(tt, 0); return v }
	cases := []struct {
		name     string
		back     bool
		score    solve.Field
		sign     float64
		v0, want float64
	}{
		{"forward+score", false, score, 1, 0.5, 1},
		{"backward+score", true, score, -1, 1, 0.5},
		{"forward, no score", false, solve.Zero{D: k}, 0, 0.5, math.NaN()},
	}
	for _, c := range cases {
		rng := rand.New(rand.NewPCG(7, 8))
		x := normalBatch(rng, n, k, c.v0)
		_, err := solve.IntegrateSDE(context.Background(), g, c.score, x, rng,
			solve.SDEOptions{Steps: steps, Backward: c.back, Eps: solve.EpsConst(eps)})
		if err != nil {
			t.Fatal(err)
		}
		got := pooledVar(x)
		lam := func(tt float64) float64 { return slopeAt(tt) - c.sign*eps/sVar(tt) }
		t0, t1 := 0.0, 1.0
		if c.back {
			t0, t1 = 1, 0
		}
		exp := emVariance(c.v0, lam, eps, t0, t1, steps)
		t.Logf("%s: sample variance %.4f, EM expectation %.4f, SE %.4f", c.name, got, exp, se(exp))
		if !(math.Abs(got-exp) <= 4*se(exp)) {
			t.Errorf("%s: sample variance %.4f not within 4 SE of %.4f", c.name, got, exp)
		}
		if math.IsNaN(c.want) {
			if math.Abs(got-1) < 20*se(1) {
				t.Errorf("%s: variance %.4f is close to 1, but noise without the score must miss it", c.name, got)
			}
			continue
		}
		if !(math.Abs(exp-c.want) <= 0.01) {
			t.Errorf("%s: EM expectation %.4f, want %.2f ± 0.01", c.name, exp, c.want)
		}
	}
}

// TestSDEHeunStochasticInterpolant samples a stochastic interpolant with
// Brownian γ = √(t(1−t)) between N(0, ½I) and N(0, I) using the exact drift
// (which carries the finite γγ' term at t = 0 and 1) and exact score, with the
// stochastic Heun method and ε(t) = 1, forward (½ → 1) and backward (1 → ½).
// Heun's bias at 100 steps is O(h²) ≈ 1e-4, far below the sampling error, so
// the pooled variance must be within 4 SE (+0.002) of the target, and the
// mean within 4 SE of 0.
func TestSDEHeunStochasticInterpolant(t *testing.T) {
	const n, k = 4000, 4
	g := exact.Isotropic(k, 0.5, 1)
	g.Interp = interp.Interpolant{Gamma: interp.Gamma{Shape: interp.Brownian, A: 1}}
	for _, back := range []bool{false, true} {
		v0, want := 0.5, 1.0
		if back {
			v0, want = 1, 0.5
		}
		rng := rand.New(rand.NewPCG(9, 10))
		x := normalBatch(rng, n, k, v0)
		res, err := solve.IntegrateSDE(context.Background(), g, g.ScoreField(), x, rng,
			solve.SDEOptions{Method: solve.SDEHeun, Steps: 100, Backward: back, Eps: solve.EpsConst(1)})
		if err != nil {
			t.Fatal(err)
		}
		if res.NFE != 200 {
			t.Errorf("NFE %d, want 200", res.NFE)
		}
		got := pooledVar(x)
		se := want * math.Sqrt(2.0/(n*k))
		var mean float64
		for _, v := range x.Data {
			mean += float64(v) / float64(len(x.Data))
		}
		t.Logf("backward=%v: variance %.4f (want %.2f, SE %.4f), mean %.4f", back, got, want, se, mean)
		if !(math.Abs(got-want) <= 4*se+0.002) {
			t.Errorf("backward=%v: variance %.4f, want %.2f ± %.4f", back, got, want, 4*se+0.002)
		}
		if m := 4 * math.Sqrt(want/(n*k)); !(math.Abs(mean) <= m) {
			t.Errorf("backward=%v: mean %.4f, want 0 ± %.4f", back, mean, m)
		}
	}
}

// TestSDEDeterministic checks that the same seed gives the same bits.
func TestSDEDeterministic(t *testing.T) {
	g := exact.Isotropic(3, 0.5, 1)
	run := func() []float32 {
		rng := rand.New(rand.NewPCG(1, 1))
		x := normalBatch(rng, 50, 3, 0.5)
		if _, err := solve.IntegrateSDE(context.Background(), g, g.ScoreField(), x, rng,
			solve.SDEOptions{Method: solve.SDEHeun, Steps: 20, Eps: solve.EpsConst(0.3)}); err != nil {
			t.Fatal(err)
		}
		return x.Data
	}
	if a, b := run(), run(); !slices.Equal(a, b) {
		t.Error("two runs with one seed differ")
	}
}

// TestSDEBadInput checks the user errors.
func TestSDEBadInput(t *testing.T) {
	g := exact.Isotropic(2, 0.5, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	x := mat.New(3, 2)
	bad := []struct {
		score solve.Field
		rng   *rand.Rand
		o     solve.SDEOptions
	}{
		{nil, rng, solve.SDEOptions{Steps: 10, Eps: solve.EpsConst(0.5)}}, // noise without a score
		{g.ScoreField(), rng, solve.SDEOptions{Steps: 0}},
		{g.ScoreField(), rng, solve.SDEOptions{Steps: 10, Method: "milstein"}},
		{g.ScoreField(), nil, solve.SDEOptions{Steps: 10}},
		{g.ScoreField(), rng, solve.SDEOptions{Steps: 10, Eps: solve.EpsConst(-1)}},
		{g.ScoreField(), rng, solve.SDEOptions{Steps: 10, Eps: solve.EpsConst(math.Inf(1))}},
		{g.ScoreField(), rng, solve.SDEOptions{Steps: 10, Eps: solve.EpsConst(math.NaN())}},
	}
	for i, b := range bad {
		if _, err := solve.IntegrateSDE(context.Background(), g, b.score, x, b.rng, b.o); err == nil {
			t.Errorf("case %d: no error", i)
		} else {
			t.Logf("case %d: %v", i, err)
		}
	}
	// ε ≡ 0 without a score is the probability-flow ODE: Euler–Maruyama
	// is then exactly Euler.
	x1 := normalBatch(rng, 5, 2, 1)
	x2 := x1.Clone()
	if _, err := solve.IntegrateSDE(context.Background(), g, nil, x1, rng, solve.SDEOptions{Steps: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := solve.Integrate(context.Background(), g, x2, solve.Options{Method: solve.Euler, Steps: 7}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x1.Data, x2.Data) {
		t.Error("ε = 0 Euler–Maruyama differs from Euler")
	}
}

// TestScoreFromDenoiser checks s = −η/γ on a hand-made denoiser.
func TestScoreFromDenoiser(t *testing.T) {
	eta := solve.FieldFunc{D: 2, F: func(_ float64, x, out *mat.Dense) { copy(out.Data, x.Data) }}
	s := solve.ScoreFromDenoiser(eta, func(t float64) float64 { return 2 * t })
	x := mat.NewFrom(1, 2, []float32{1, -4})
	out := mat.New(1, 2)
	s.Eval(0.5, x, out)
	if out.Data[0] != -1 || out.Data[1] != 4 {
		t.Errorf("score %v, want [-1 4]", out.Data)
	}
	s.Eval(0, x, out)
	if !math.IsNaN(float64(out.Data[0])) {
		t.Errorf("score at γ = 0 is %v, want NaN", out.Data[0])
	}
}

// TestSDENoAllocPerStep checks that 10 and 1000 SDE steps allocate alike.
func TestSDENoAllocPerStep(t *testing.T) {
	g := exact.Isotropic(3, 0.5, 1)
	x := mat.New(8, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, m := range []solve.SDEMethod{solve.EulerMaruyama, solve.SDEHeun} {
		allocs := func(steps int) float64 {
			return testing.AllocsPerRun(3, func() {
				if _, err := solve.IntegrateSDE(context.Background(), g, g.ScoreField(), x, rng,
					solve.SDEOptions{Method: m, Steps: steps, Eps: solve.EpsConst(0.1)}); err != nil {
					t.Fatal(err)
				}
			})
		}
		if a, b := allocs(10), allocs(1000); a != b {
			t.Errorf("%s: %v allocations for 10 steps, %v for 1000", m, a, b)
		}
	}
}

// TestSDERecordAt checks recording: a record time on the step grid changes
// nothing (the same bits as an unrecorded run, and at t = ½ the bits of a
// run that stops there, both drawing the same noise), one between grid
// points splits that step (one more evaluation, recorded at that time), and
// one outside the interval is an error.
func TestSDERecordAt(t *testing.T) {
	lin := solve.FieldFunc{D: 2, F: func(_ float64, x, out *mat.Dense) {
		for i, v := range x.Data {
			out.Data[i] = -v
		}
	}}
	run := func(o solve.SDEOptions) (*mat.Dense, solve.Result, error) {
		x := normalBatch(rand.New(rand.NewPCG(1, 1)), 5, 2, 1)
		r, err := solve.IntegrateSDE(context.Background(), lin, lin, x, rand.New(rand.NewPCG(2, 2)), o)
		return x, r, err
	}
	base := solve.SDEOptions{Steps: 10, Eps: solve.EpsConst(0.3)}
	plain, _, err := run(base)
	if err != nil {
		t.Fatal(err)
	}
	o := base
	o.RecordAt = []float64{0.5}
	end, r, err := run(o)
	if err != nil || !slices.Equal(end.Data, plain.Data) || len(r.Path) != 1 || r.Times[0] != 0.5 || r.NFE != 10 {
		t.Fatalf("on-grid record: %v, end %v vs %v, times %v, NFE %d", err, end.Data, plain.Data, r.Times, r.NFE)
	}
	half := base
	half.Steps, half.End = 5, 0.5
	mid, _, err := run(half)
	if err != nil || !slices.Equal(mid.Data, r.Path[0].Data) {
		t.Fatalf("state at ½ %v, a run to ½ %v (%v)", r.Path[0].Data, mid.Data, err)
	}
	o.RecordAt = []float64{0.55}
	if _, r, err = run(o); err != nil || r.NFE != 11 || r.Steps != 10 || len(r.Times) != 1 || r.Times[0] != 0.55 {
		t.Fatalf("off-grid record: %v, NFE %d, steps %d, times %v", err, r.NFE, r.Steps, r.Times)
	}
	o.RecordAt = []float64{1.5}
	if _, _, err = run(o); err == nil {
		t.Error("record time outside [0, 1]: no error")
	}
}
