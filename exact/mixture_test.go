package exact_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// TestMixtureSingleComponent checks that a one-component mixture is the
// Gaussian field between N(0, σ0²I) and N(μ, σ²I) (float32 outputs, bound 1e-5).
func TestMixtureSingleComponent(t *testing.T) {
	m, err := exact.NewMixtureField(0.5, [][]float64{{1, -2}}, []float64{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := exact.NewGaussianField([]float64{0, 0}, []float64{0.5, 0.5}, []float64{1, -2}, []float64{2, 2}, interp.Interpolant{})
	x := mat.NewFrom(2, 2, []float32{0.3, 1, -2, 0.5})
	a, b := mat.New(2, 2), mat.New(2, 2)
	for _, tt := range []float64{0, 0.2, 0.7, 1} {
		m.Eval(tt, x, a)
		g.Eval(tt, x, b)
		for i := range a.Data {
			if !(math.Abs(float64(a.Data[i]-b.Data[i])) <= 1e-5) {
				t.Errorf("t=%v: mixture %v, Gaussian %v", tt, a.Data, b.Data)
				break
			}
		}
	}
}

// TestMixtureConditionalExpectation checks the defining property
// v(x, t) = E[x1 − x0 | x_t = x] from the outside: the residual
// x1 − x0 − v(x_t, t) is orthogonal to every function of x_t, here φ ∈ {1,
// x_t,1, x_t,2, tanh(x_t,1·x_t,2), sin x_t,1, tanh(x_t,2)·x_t,1²}. Each Monte-Carlo mean must be
// within 4 standard errors of 0, at two times, on 8 gaussians. The Gaussian
// field with the mixture's moments (a wrong answer) must fail the same check
// by more than 10 SE, which shows the check has power.
func TestMixtureConditionalExpectation(t *testing.T) {
	m := exact.EightGaussians()
	v1 := 12.5 + math.Sqrt(0.1) // per-coordinate variance of 8 gaussians
	wrong, _ := exact.NewGaussianField([]float64{0, 0}, []float64{1, 1}, []float64{0, 0}, []float64{v1, v1}, interp.Interpolant{})
	for _, tt := range []float64{0.3, 0.8} {
		if z := orthogonality(m, tt); !(z <= 4) {
			t.Errorf("t=%v: mixture field residual correlates with a function of x_t at %.1f SE", tt, z)
		}
		if z := orthogonality(wrong, tt); z < 10 {
			t.Errorf("t=%v: the wrong (Gaussian) field passes the check (%.1f SE)", tt, z)
		} else {
			t.Logf("t=%v: mixture field %.1f SE, wrong field %.1f SE", tt, orthogonality(m, tt), z)
		}
	}
}

// orthogonality returns the largest |E[(x1 − x0 − v(x_t))·φ(x_t)]| / SE over
// the test functions and both coordinates (n = 40000, fixed seed).
func orthogonality(f solve.Field, tt float64) float64 {
	m := exact.EightGaussians()
	const n = 40000
	rng := rand.New(rand.NewPCG(21, 22))
	x1 := mat.New(n, 2)
	m.SampleTarget(rng, x1)
	xt, u, v := mat.New(n, 2), mat.New(n, 2), mat.New(n, 2)
	for i := range xt.Data {
		x0 := rng.NormFloat64()
		xt.Data[i] = float32((1-tt)*x0 + tt*float64(x1.Data[i]))
		u.Data[i] = float32(float64(x1.Data[i]) - x0)
	}
	f.Eval(tt, xt, v)
	phis := []func(a, b float64) float64{
		func(a, b float64) float64 { return 1 },
		func(a, b float64) float64 { return a },
		func(a, b float64) float64 { return b },
		func(a, b float64) float64 { return math.Tanh(a * b) },
		func(a, b float64) float64 { return math.Sin(a) },
		func(a, b float64) float64 { return math.Tanh(b) * a * a },
	}
	var worst float64
	for _, phi := range phis {
		for j := 0; j < 2; j++ {
			var s, s2 float64
			for i := 0; i < n; i++ {
				r := float64(u.Data[i*2+j]-v.Data[i*2+j]) * phi(float64(xt.Data[i*2]), float64(xt.Data[i*2+1]))
				s += r
				s2 += r * r
			}
			mean := s / n
			se := math.Sqrt((s2/n - mean*mean) / n)
			worst = math.Max(worst, math.Abs(mean)/se)
		}
	}
	return worst
}

// TestMixtureTransport integrates 8 gaussians' exact field from N(0, I) and
// checks mode coverage: every point lands within 4 sd (4·0.562) of a centre,
// and each of the 8 modes holds 1/8 of the points within 4 binomial SE.
func TestMixtureTransport(t *testing.T) {
	m := exact.EightGaussians()
	const n = 4000
	rng := rand.New(rand.NewPCG(31, 32))
	x := mat.New(n, 2)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	if _, err := solve.Integrate(context.Background(), m, x, solve.Options{Method: solve.Dopri5, RTol: 1e-5, ATol: 1e-5}); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 8)
	sd := math.Sqrt(m.Vars[0])
	far := 0
	for i := 0; i < n; i++ {
		best, bd := 0, math.Inf(1)
		for c, mu := range m.Means {
			d := math.Hypot(float64(x.At(i, 0))-mu[0], float64(x.At(i, 1))-mu[1])
			if d < bd {
				best, bd = c, d
			}
		}
		counts[best]++
		if !(bd <= 4*sd) {
			far++
		}
	}
	se := math.Sqrt(n * (1.0 / 8) * (7.0 / 8))
	t.Logf("mode counts %v (expect %d ± %.0f), %d points beyond 4 sd", counts, n/8, se, far)
	for c, k := range counts {
		if !(math.Abs(float64(k)-n/8) <= 4*se) {
			t.Errorf("mode %d holds %d points, want %d ± %.0f", c, k, n/8, 4*se)
		}
	}
	// P(‖N(0, σ²I₂)‖ > 4σ) = exp(−8) ≈ 3.4e-4: about 1 point in 4000.
	if far > 10 {
		t.Errorf("%d points lie beyond 4 sd of every centre", far)
	}
}

// TestMixtureScore checks the mixture score against central differences of
// LogDensity (h = 1e-5 in float64; float32 output, bound 1e-4 relative), and
// the SDE with this score and the exact drift against the mixture's mode
// weights: noise plus score keeps the law (each mode 1/8 within 4 binomial SE).
func TestMixtureScore(t *testing.T) {
	m := exact.EightGaussians()
	x := []float64{1.3, -0.4}
	out := mat.New(1, 2)
	for _, tt := range []float64{0, 0.3, 0.7, 1} {
		m.Score(tt, mat.NewFrom(1, 2, []float32{1.3, -0.4}), out)
		for j := range x {
			xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
			xp[j] += 1e-5
			xm[j] -= 1e-5
			fd := (m.LogDensity(tt, xp) - m.LogDensity(tt, xm)) / 2e-5
			if !(math.Abs(float64(out.Data[j])-fd) <= 1e-4*math.Max(1, math.Abs(fd))) {
				t.Errorf("t=%v dim %d: score %v, finite differences %v", tt, j, out.Data[j], fd)
			}
		}
	}
	const n = 2000
	rng := rand.New(rand.NewPCG(41, 42))
	xs := mat.New(n, 2)
	for i := range xs.Data {
		xs.Data[i] = float32(rng.NormFloat64())
	}
	if _, err := solve.IntegrateSDE(context.Background(), m, m.ScoreField(), xs, rng,
		solve.SDEOptions{Method: solve.SDEHeun, Steps: 100, Eps: solve.EpsConst(0.5)}); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 8)
	for i := 0; i < n; i++ {
		best, bd := 0, math.Inf(1)
		for c, mu := range m.Means {
			if d := math.Hypot(float64(xs.At(i, 0))-mu[0], float64(xs.At(i, 1))-mu[1]); d < bd {
				best, bd = c, d
			}
		}
		counts[best]++
	}
	se := math.Sqrt(n * (1.0 / 8) * (7.0 / 8))
	t.Logf("SDE mode counts %v (expect %d ± %.0f)", counts, n/8, se)
	for c, k := range counts {
		if !(math.Abs(float64(k)-n/8) <= 4*se) {
			t.Errorf("mode %d holds %d points, want %d ± %.0f", c, k, n/8, 4*se)
		}
	}
}

// TestMixtureLogDensityNormalised checks the normalising constant, which the
// finite-difference score test cannot see: a one-component mixture's
// log-density equals the Gaussian field's closed form (float64 both ways,
// bound 1e-12), and a two-component one with equal means is the same law.
func TestMixtureLogDensityNormalised(t *testing.T) {
	one, err := exact.NewMixtureField(0.5, [][]float64{{1, -2}}, []float64{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	two, err := exact.NewMixtureField(0.5, [][]float64{{1, -2}, {1, -2}}, []float64{2, 2}, []float64{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := exact.NewGaussianField([]float64{0, 0}, []float64{0.5, 0.5}, []float64{1, -2}, []float64{2, 2}, interp.Interpolant{})
	for _, tt := range []float64{0, 0.3, 1} {
		x := []float64{0.4, -1.1}
		want := g.LogDensity(tt, x)
		for _, m := range []*exact.MixtureField{one, two} {
			if got := m.LogDensity(tt, x); !(math.Abs(got-want) <= 1e-12) {
				t.Errorf("t=%v, %d components: log-density %v, Gaussian closed form %v", tt, len(m.Means), got, want)
			}
		}
	}
}
