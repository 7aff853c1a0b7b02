package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// splitModel returns a DriftSplit model with two fresh random networks.
func splitModel(t *testing.T, d int) *Model {
	t.Helper()
	return freshModel(t, Config{Dim: d, Hidden: []int{16, 16}, Gamma: "1", Drift: DriftSplit})
}

// freshModel returns the model of cfg (after Defaults) with fresh random
// drift and denoiser networks.
func freshModel(t *testing.T, cfg Config) *Model {
	t.Helper()
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	v, err := nn.New(cfg.NetConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	eta, err := nn.New(cfg.NetConfig(), 2)
	if err != nil {
		t.Fatal(err)
	}
	return &Model{Config: cfg, Net: v, Eta: eta}
}

// TestSplitDriftEval checks b = v + γ̇·η against the two networks evaluated
// apart and γ̇ from Coeffs in float64, γ̇ taken at t clamped to the training
// range [TEps, 1−TEps] (so at t = 0 it is γ̇(TEps) ≈ 15.8, not +Inf). Bound:
// float32 rounding of |v| + |γ̇·η|, 1e-6 relative. DriftRows, with a time per
// row, must give each row the value Eval gives at that row's time (the times
// are exact in float32, so that the two see the same t).
func TestSplitDriftEval(t *testing.T) {
	ts := []float64{0, 1.0 / 4096, 1.0 / 1024, 0.25, 0.5, 0.75, 1 - 1.0/1024, 1}
	n, d := len(ts), 3
	m := splitModel(t, d)
	ip := mustIP(t, m.Config)
	rng := rand.New(rand.NewPCG(5, 6))
	x := mat.New(n, d)
	interp.FillNormal(rng, x)
	b, err := m.drift(SampleOptions{}, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]float32, n)
	for k, tt := range ts {
		rows[k] = float32(tt)
	}
	byRow := m.DriftRows(x, rows)
	for r, tt := range ts {
		got, v, e := mat.New(n, d), mat.New(n, d), mat.New(n, d)
		b.Eval(tt, x, got)
		m.Net.Eval(tt, x, v)
		m.Eta.Eval(tt, x, e)
		rate := ip.Coeffs(min(max(tt, interp.TEps), 1-interp.TEps)).DG
		if math.IsInf(rate, 0) || math.IsNaN(rate) {
			t.Fatalf("t=%v: γ̇ %v at the clamped time", tt, rate)
		}
		for i := range got.Data {
			want := float64(v.Data[i]) + rate*float64(e.Data[i])
			scale := math.Abs(float64(v.Data[i])) + math.Abs(rate*float64(e.Data[i]))
			if !(math.Abs(float64(got.Data[i])-want) <= 1e-6*(1+scale)) {
				t.Fatalf("t=%v: b %v, v + γ̇·η %v", tt, got.Data[i], want)
			}
		}
		for j := range d {
			if a, w := byRow.At(r, j), got.At(r, j); !(math.Abs(float64(a-w)) <= 1e-6*(1+math.Abs(float64(w)))) {
				t.Fatalf("t=%v row %d: DriftRows %v, Eval %v", tt, r, a, w)
			}
		}
	}
}

// TestSplitSample checks that Model.Sample carries points with b, not with
// v alone, on the ODE and on the SDE path (ε = 0: the drift's Euler steps),
// and with classifier-free guidance: one Euler step of length 1 from t = 0
// must land at x + b_w(x, 0), where b_w = b(∅) + w·(b(y) − b(∅)) and each b
// is v + γ̇(TEps)·η with the nets evaluated here, apart, label by label.
// Bound: float32 rounding of the sums, 1e-5 of 1 + |b|.
func TestSplitSample(t *testing.T) {
	const n, d, classes = 4, 2, 3
	m := freshModel(t, Config{Dim: d, Hidden: []int{16}, Gamma: "1", Drift: DriftSplit, Cond: "label", CondDrop: 0.1, Classes: classes})
	cfg, v, eta := m.Config, m.Net, m.Eta
	// Fresh heads are zero; give the label tables and η some weight.
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range [][]float32{v.Params(), eta.Params()} {
		for i := range p {
			p[i] += float32(0.3 * rng.NormFloat64())
		}
	}
	x0 := mat.New(n, d)
	interp.FillNormal(rng, x0)
	labels := []int{0, 2, nn.Null, 1}
	rate := mustIP(t, cfg).Coeffs(interp.TEps).DG
	bAt := func(lab []int) *mat.Dense {
		vo, eo := mat.New(n, d), mat.New(n, d)
		v.SetLabels(lab)
		v.Eval(0, x0, vo)
		eta.SetLabels(lab)
		eta.Eval(0, x0, eo)
		v.SetLabels(nil)
		eta.SetLabels(nil)
		for i := range vo.Data {
			vo.Data[i] += float32(rate) * eo.Data[i]
		}
		return vo
	}
	null, cond := bAt(nil), bAt(labels)
	for _, w := range []float64{1, 0, 2.5} {
		want := mat.New(n, d)
		for i := range want.Data {
			want.Data[i] = x0.Data[i] + null.Data[i] + float32(w)*(cond.Data[i]-null.Data[i])
		}
		for _, o := range []SampleOptions{
			{Solver: "euler", NFE: 1, Labels: labels, Guidance: &w},
			{SDE: true, Solver: "euler-maruyama", NFE: 1, Eps: 0, Labels: labels, Guidance: &w},
		} {
			x := x0.Clone()
			if _, err := m.Sample(context.Background(), x, o, rand.New(rand.NewPCG(1, 1))); err != nil {
				t.Fatal(err)
			}
			for i := range x.Data {
				if !(math.Abs(float64(x.Data[i]-want.Data[i])) <= 1e-5*(1+math.Abs(float64(want.Data[i]-x0.Data[i])))) {
					t.Fatalf("w=%v sde=%v: point %v, want x + b_w = %v", w, o.SDE, x.Data[i], want.Data[i])
				}
			}
		}
	}
}

// TestSplitDriftJVP checks DriftJVP against central differences of the
// drift in a random direction, (b(x + h·u) − b(x − h·u))/2h with h = 1e-2:
// the truncation error h²·|b”'| and the float32 rounding of b over 2h are
// both below 1e-4 of |b| for these smooth (SiLU) nets, so the bound 1e-3 of
// 1 + |∂b·u| leaves room without hiding a missing or misscaled η term
// (γ̇ ≥ 0.5 in magnitude away from t = ½).
func TestSplitDriftJVP(t *testing.T) {
	const n, d, h = 4, 3, 1e-2
	m := splitModel(t, d)
	f, err := m.DriftJVP()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	x, u := mat.New(n, d), mat.New(n, d)
	interp.FillNormal(rng, x)
	interp.FillNormal(rng, u)
	for _, tt := range []float64{0.01, 0.2, 0.8} {
		out, dout := mat.New(n, d), mat.New(n, d)
		f.JVP(tt, x, u, out, dout)
		ev := mat.New(n, d)
		f.Eval(tt, x, ev)
		xp, xm, bp, bm := x.Clone(), x.Clone(), mat.New(n, d), mat.New(n, d)
		for i := range x.Data {
			xp.Data[i] += h * u.Data[i]
			xm.Data[i] -= h * u.Data[i]
		}
		f.Eval(tt, xp, bp)
		f.Eval(tt, xm, bm)
		for i := range dout.Data {
			if out.Data[i] != ev.Data[i] {
				t.Fatalf("t=%v: JVP's value %v, Eval %v", tt, out.Data[i], ev.Data[i])
			}
			fd := (float64(bp.Data[i]) - float64(bm.Data[i])) / (2 * h)
			if !(math.Abs(float64(dout.Data[i])-fd) <= 1e-3*(1+math.Abs(fd))) {
				t.Fatalf("t=%v: ∂b·u %v, central difference %v", tt, dout.Data[i], fd)
			}
		}
	}
}

// A split model without its denoiser cannot form b: every entry point says
// so instead of integrating v alone.
func TestSplitDriftNeedsEta(t *testing.T) {
	m := splitModel(t, 2)
	m.Eta = nil
	x := mat.New(3, 2)
	if _, err := m.Sample(context.Background(), x, SampleOptions{}, nil); err == nil {
		t.Fatal("Sample of a split drift without η: no error")
	}
	if _, err := m.DriftJVP(); err == nil {
		t.Fatal("DriftJVP of a split drift without η: no error")
	}
}

// TestFitSplitDrift trains the split drift on N(0,½I_2) → N(0,I_2) with the
// Brownian γ = √(t(1−t)) and measures b = v + γ̇·η against the exact drift
// (exact.GaussianField.Eval64) at t = 0.2, 0.5 and 0.8, on points drawn from
// the exact marginal of x_t. Bound: relative L2 error 0.25 at each t. A
// 32×32 net trained 3000 steps came within 0.05–0.18 (the drift trained on b
// with the same budget: 0.16 at t = 0.2). A drift that leaves the η term
// out is off by the noise part's share of b, |γ̇·η|/|b| (3.0 at t = 0.2,
// 0.75 at 0.8, computed here from the closed form), at least twice the
// bound; at t = ½, where γ̇ = 0, the test checks v alone. Near the ends the
// split's b is worse than the full drift's (γ̇ amplifies η's error;
// docs/STOCHASTIC.md): this test does not look there.
func TestFitSplitDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	const k, n, bound = 2, 4000, 0.25
	src, tgt := gauss(t, k, 0.5), gauss(t, k, 1)
	cfg := Config{Hidden: []int{32, 32}, Steps: 3000, Batch: 256, LR: 5e-3, Schedule: "cosine", Gamma: "1", Drift: DriftSplit, Seed: 2}
	res, err := Fit(context.Background(), src, tgt, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ip := mustIP(t, res.Config)
	g := exact.Isotropic(k, 0.5, 1)
	g.Interp = ip
	rng := rand.New(rand.NewPCG(3, 3))
	for _, tt := range []float64{0.2, 0.5, 0.8} {
		c := ip.Coeffs(tt)
		sd2 := c.A*c.A*0.5 + c.B*c.B + c.G*c.G // Var(x_t) per coordinate
		// Slopes of b and of its noise part γ̇·η = γ̇γ·x/sd2 on x_t.
		slopeB := (c.A*c.DA*0.5 + c.B*c.DB + c.G*c.DG) / sd2
		share := math.Abs(c.G * c.DG / sd2 / slopeB)
		if tt != 0.5 && share < 2*bound {
			t.Fatalf("t=%v: the noise part is %.3f of b, too little to tell a missing η term from the bound", tt, share)
		}
		x, ts := mat.New(n, k), make([]float32, n)
		for i := range x.Data {
			x.Data[i] = float32(math.Sqrt(sd2) * rng.NormFloat64())
		}
		for i := range ts {
			ts[i] = float32(tt)
		}
		f := res.DriftRows(x, ts)
		var num, den float64
		ex := make([]float64, k)
		x64 := make([]float64, k)
		for i := range n {
			for j, v := range x.Row(i) {
				x64[j] = float64(v)
			}
			g.Eval64(tt, x64, ex)
			for j := range k {
				e := float64(f.At(i, j)) - ex[j]
				num += e * e
				den += ex[j] * ex[j]
			}
		}
		rel := math.Sqrt(num / den)
		t.Logf("t=%v: relative L2 error of b = v + γ̇·η %.4f (noise part / b = %.3f)", tt, rel, share)
		if !(rel < bound) {
			t.Errorf("t=%v: split drift relative L2 error %.4f, want < %v", tt, rel, bound)
		}
	}
}

// countField counts its evaluations of f.
type countField struct {
	f solve.Field
	n int
}

func (c *countField) Dim() int { return c.f.Dim() }
func (c *countField) Eval(t float64, x, out *mat.Dense) {
	c.n++
	c.f.Eval(t, x, out)
}

// TestSplitSDEShared checks that the split drift's SDE evaluates η once a
// step and gives the bits of the plain construction, which evaluates it
// twice (inside b and for the score): lastEval answers only an exact repeat
// of (t, x).
func TestSplitSDEShared(t *testing.T) {
	const n, d, steps = 6, 2, 20
	m := splitModel(t, d)
	ip := mustIP(t, m.Config)
	x0 := mat.New(n, d)
	interp.FillNormal(rand.New(rand.NewPCG(4, 4)), x0)
	got := x0.Clone()
	o := SampleOptions{SDE: true, NFE: steps, Eps: DefaultEps}
	if _, err := m.Sample(context.Background(), got, o, rand.New(rand.NewPCG(8, 8))); err != nil {
		t.Fatal(err)
	}
	want := x0.Clone()
	eta := &countField{f: m.Eta}
	so := solve.SDEOptions{Method: solve.EulerMaruyama, Steps: steps, Eps: Diffusion(ip, DefaultEps)}
	if _, err := solve.IntegrateSDE(context.Background(), newSplitDrift(m.Net, eta, ip), solve.ScoreFromDenoiser(eta, ip.NoiseScale), want, rand.New(rand.NewPCG(8, 8)), so); err != nil {
		t.Fatal(err)
	}
	if !sameBits(got.Data, want.Data) {
		t.Fatalf("SDE with the shared η %v, with two evaluations %v", got.Data, want.Data)
	}
	if eta.n <= steps {
		t.Fatalf("the plain construction evaluated η %d times in %d steps: the comparison shows nothing", eta.n, steps)
	}

	c := &countField{f: m.Eta}
	l := &lastEval{f: c, x: mat.New(0, d), out: mat.New(0, d)}
	out := mat.New(n, d)
	x := x0.Clone()
	l.Eval(0.3, x, out)
	l.Eval(0.3, x, out)
	if c.n != 1 {
		t.Fatalf("a repeat of (t, x): %d evaluations, want 1", c.n)
	}
	x.Data[3] = math.Nextafter32(x.Data[3], 10)
	l.Eval(0.3, x, out)
	l.Eval(0.4, x, out)
	if c.n != 3 {
		t.Fatalf("x one ulp off, then another t: %d evaluations, want 3", c.n)
	}
}
