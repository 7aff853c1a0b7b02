package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"gonum.org/v1/gonum/mathext"
)

func randn(rng *rand.Rand, n, d int, scale float64) *mat.Dense {
	x := mat.New(n, d)
	for i := range x.Data {
		x.Data[i] = float32(scale * rng.NormFloat64())
	}
	return x
}

// bruteW2 is W2² by trying every permutation (n ≤ 8), in float64.
func bruteW2(x, y *mat.Dense) float64 {
	n := x.R
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(1)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			var s float64
			for i, j := range perm {
				for c := 0; c < x.C; c++ {
					d := float64(x.At(i, c)) - float64(y.At(j, c))
					s += d * d
				}
			}
			best = math.Min(best, s/float64(n))
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

// TestW2Brute: the assignment W2 equals the minimum over all permutations
// on tiny samples; both sum the same float64 terms, so they agree to a few
// ulps (tolerance 1e-12 relative).
func TestW2Brute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 40; trial++ {
		n := 1 + trial%8
		d := 1 + trial%3
		x, y := randn(rng, n, d, 1), randn(rng, n, d, 2)
		got, err := W2(context.Background(), x, y)
		if err != nil {
			t.Fatal(err)
		}
		want := math.Sqrt(bruteW2(x, y))
		if !(math.Abs(got-want) <= 1e-12*want) {
			t.Errorf("n=%d d=%d: W2 %.15g, brute force %.15g", n, d, got, want)
		}
	}
}

// TestW2Shift: for y = x + s (rows permuted), the optimal plan undoes the
// permutation and W2 = ‖s‖ exactly (the cross term vanishes because a
// permutation keeps the mean). Tolerance 1e-6 relative: float32 storage of
// x + s rounds each coordinate by 2⁻²⁴.
func TestW2Shift(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	n, d := 300, 3
	x := randn(rng, n, d, 1)
	s := []float32{0.3, -0.4, 1.2}
	y := mat.New(n, d)
	p := rng.Perm(n)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			y.Set(p[i], j, x.At(i, j)+s[j])
		}
	}
	got, err := W2(context.Background(), x, y)
	if err != nil {
		t.Fatal(err)
	}
	want := math.Sqrt(0.09 + 0.16 + 1.44)
	if !(math.Abs(got-want) <= 1e-6*want) {
		t.Errorf("W2 of a shift %v, want %v", got, want)
	}
	if z, _ := W2(context.Background(), x, x); z != 0 {
		t.Errorf("W2(x, x) = %v", z)
	}
}

func TestW2Errors(t *testing.T) {
	ctx := context.Background()
	if _, err := W2(ctx, mat.New(3, 2), mat.New(4, 2)); err == nil || !strings.Contains(err.Error(), "3 and 4") {
		t.Errorf("unequal sizes: %v", err)
	}
	// 20000² float64 = 3 GiB: refused before anything is allocated.
	big := &mat.Dense{R: 20000, C: 1, Data: make([]float32, 20000)}
	if _, err := W2(ctx, big, big); err == nil || !strings.Contains(err.Error(), "MiB") {
		t.Errorf("too large: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	x := randn(rand.New(rand.NewPCG(1, 2)), 200, 2, 1)
	if _, err := W2(cctx, x, x); err == nil {
		t.Error("cancelled context: no error")
	}
	nan := mat.New(2, 1)
	nan.Data[0] = float32(math.NaN())
	if _, err := W2(ctx, nan, mat.New(2, 1)); err == nil {
		t.Error("NaN sample: no error")
	}
}

// TestW2Sorted1D: in 1-D the optimal plan is the sorted matching, so for
// equal sizes W2Sorted1D equals the assignment W2²; for sizes 2 and 1,
// {0, 2} against {1}: each half of the mass moves by 1, W2² = 1.
func TestW2Sorted1D(t *testing.T) {
	if got := W2Sorted1D([]float64{0, 2}, []float64{1}); !(math.Abs(got-1) <= 1e-15) {
		t.Errorf("W2²({0,2},{1}) = %v, want 1", got)
	}
	// {0, 1, 2} against {0, 3}: quantiles on (0,⅓): 0 vs 0; (⅓,½): 1 vs 0;
	// (½,⅔): 1 vs 3; (⅔,1): 2 vs 3 → (1/6)·1 + (1/6)·4 + (1/3)·1 = 7/6.
	if got := W2Sorted1D([]float64{0, 1, 2}, []float64{0, 3}); !(math.Abs(got-7.0/6) <= 1e-15) {
		t.Errorf("W2²({0,1,2},{0,3}) = %v, want 7/6", got)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	x, y := randn(rng, 50, 1, 1), randn(rng, 50, 1, 1.5)
	w, _ := W2(context.Background(), x, y)
	a, b := toF64(x), toF64(y)
	av, bv := make([]float64, 50), make([]float64, 50)
	for i := range av {
		av[i], bv[i] = a[i][0], b[i][0]
	}
	sortF(av)
	sortF(bv)
	if got := W2Sorted1D(av, bv); !(math.Abs(got-w*w) <= 1e-12*w*w) {
		t.Errorf("1-D sorted %v, assignment %v", got, w*w)
	}
}

func sortF(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// TestSlicedW2: 0 for identical samples; for y = x + s every projection is
// shifted by θ·s, so SW2² = mean (θ·s)² over the drawn θ, whose
// expectation is ‖s‖²/d and whose variance per projection is
// ‖s‖⁴(3/(d(d+2)) − 1/d²) for θ uniform on the sphere; bound 5 standard
// errors.
func TestSlicedW2(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := randn(rng, 500, 5, 1)
	if got := SlicedW2(x, x, 50, rand.New(rand.NewPCG(1, 1))); got != 0 {
		t.Errorf("SW2(x, x) = %v", got)
	}
	d := 5.0
	var prev float64
	for _, a := range []float64{0.25, 0.5, 1, 2} {
		y := x.Clone()
		for i := 0; i < y.R; i++ {
			y.Set(i, 0, y.At(i, 0)+float32(a))
		}
		const np = 400
		got := SlicedW2(x, y, np, rand.New(rand.NewPCG(5, 5)))
		want2 := a * a / d
		se := math.Sqrt(math.Pow(a, 4)*(3/(d*(d+2))-1/(d*d))) / math.Sqrt(np)
		if !(math.Abs(got*got-want2) <= 5*se+1e-6) {
			t.Errorf("shift %v: SW2² = %v, want %v ± %v", a, got*got, want2, 5*se)
		}
		if got <= prev {
			t.Errorf("SW2 does not grow with the shift: %v after %v", got, prev)
		}
		prev = got
	}
}

// TestMMD: 0 for identical samples; grows with a shift; and matches the
// population value for N(0, σ²I) against N(μ, σ²I) with one RBF scale s,
//
//	MMD² = 2 (s²/(s² + 2σ²))^{d/2} (1 − exp(−‖μ‖²/(2(s² + 2σ²)))),
//
// within 5 standard errors of the mean of 8 independent estimates plus the
// V-statistic's bias, at most 2/n (the diagonal terms k(x, x) = 1).
func TestMMD(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := randn(rng, 400, 3, 1)
	if got := MMD(x, x, nil); !(got <= 1e-7) {
		t.Errorf("MMD(x, x) = %v", got)
	}
	var prev float64
	for _, a := range []float64{0.1, 0.5, 1, 2} {
		y := x.Clone()
		for i := range y.Data {
			y.Data[i] += float32(a)
		}
		got := MMD(x, y, []float64{0.5, 1, 2})
		if got <= prev {
			t.Errorf("MMD does not grow with the shift: %v after %v", got, prev)
		}
		prev = got
	}
	const n, d, s, sg = 300, 2, 1.0, 1.0
	mu := []float64{0.8, 0}
	pop := 2 * math.Pow(s*s/(s*s+2*sg*sg), d/2.0) * (1 - math.Exp(-0.64/(2*(s*s+2*sg*sg))))
	var est []float64
	for k := 0; k < 8; k++ {
		r := rand.New(rand.NewPCG(uint64(10+k), 1))
		a, b := randn(r, n, d, sg), randn(r, n, d, sg)
		for i := 0; i < n; i++ {
			b.Set(i, 0, b.At(i, 0)+float32(mu[0]))
		}
		m := MMD(a, b, []float64{s})
		est = append(est, m*m)
	}
	mean, sd := meanSD(est)
	if !(math.Abs(mean-pop) <= 5*sd/math.Sqrt(8)+2.0/n) {
		t.Errorf("MMD² %v ± %v, population %v", mean, sd/math.Sqrt(8), pop)
	}
}

func meanSD(v []float64) (float64, float64) {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)-1))
}

// TestEnergy1D: in one dimension the energy distance of two empirical
// measures equals 2∫(F_n − G_m)² dt (Székely's identity), computed here
// exactly on the step functions; tolerance 1e-12 relative (float64 sums).
func TestEnergy1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x, y := randn(rng, 40, 1, 1), randn(rng, 30, 1, 2)
	got := EnergyDistance(x, y)
	var pts []float64
	var xs, ys []float64
	for _, v := range x.Data {
		xs = append(xs, float64(v))
		pts = append(pts, float64(v))
	}
	for _, v := range y.Data {
		ys = append(ys, float64(v))
		pts = append(pts, float64(v))
	}
	sortF(pts)
	ecdf := func(s []float64, t float64) float64 {
		k := 0
		for _, v := range s {
			if v <= t {
				k++
			}
		}
		return float64(k) / float64(len(s))
	}
	var want float64
	for i := 0; i+1 < len(pts); i++ {
		f := ecdf(xs, pts[i]) - ecdf(ys, pts[i])
		want += 2 * f * f * (pts[i+1] - pts[i])
	}
	if !(math.Abs(got-want) <= 1e-12*want) {
		t.Errorf("energy distance %v, 2∫(F−G)² = %v", got, want)
	}
	if e := EnergyDistance(x, x); !(e <= 1e-12) {
		t.Errorf("E(x, x) = %v", e)
	}
}

// chiCDF is the CDF of s·Chi(k), P(k/2, r²/(2s²)), for the KS tests (the
// library's own is exact.Chi.Cdf, which metrics cannot import: exact
// imports metrics).
func chiCDF(k int, s float64) func(float64) float64 {
	return func(r float64) float64 {
		if r <= 0 {
			return 0
		}
		return mathext.GammaIncReg(float64(k)/2, r*r/(2*s*s))
	}
}

// TestKS: the statistic on hand-worked samples; the p-value at the
// tabulated critical values (Massey 1951: n = 20, α = 0.05 at D = 0.29408;
// the asymptotic 1.3581/√n at n = 10000), within 0.005; and the test
// accepts Chi(64) norms and rejects √½·Chi(64) norms at size α = 0.01 with
// n = 1000.
func TestKS(t *testing.T) {
	u := func(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
	if d, _, _ := KS([]float64{0.5}, u); !(math.Abs(d-0.5) <= 1e-15) {
		t.Errorf("D({0.5}) = %v, want 0.5", d)
	}
	if d, _, _ := KS([]float64{0.9, 0.1}, u); !(math.Abs(d-0.4) <= 1e-15) {
		t.Errorf("D({0.1, 0.9}) = %v, want 0.4", d)
	}
	if p := KSPValue(0.29408, 20); !(math.Abs(p-0.05) <= 0.005) {
		t.Errorf("p(0.294, 20) = %v, want 0.05", p)
	}
	if p := KSPValue(1.3581/100, 10000); !(math.Abs(p-0.05) <= 0.005) {
		t.Errorf("p(1.358/√n, 10000) = %v, want 0.05", p)
	}
	if _, _, err := KS(nil, u); err == nil {
		t.Error("empty sample: no error")
	}
	const k, n, alpha = 64, 1000, 0.01
	rng := rand.New(rand.NewPCG(8, 8))
	good := Norms(randn(rng, n, k, 1))
	half := Norms(randn(rng, n, k, math.Sqrt(0.5)))
	_, p, _ := KS(good, chiCDF(k, 1))
	if p < alpha {
		t.Errorf("Chi(64) sample rejected: p = %v", p)
	}
	d, p, _ := KS(half, chiCDF(k, 1))
	if p >= alpha {
		t.Errorf("√½·Chi(64) sample accepted: D = %v, p = %v", d, p)
	}
	if _, p, _ := KS(half, chiCDF(k, math.Sqrt(0.5))); p < alpha {
		t.Errorf("√½·Chi(64) sample rejected against its own law: p = %v", p)
	}
}

// TestNormStats: for N(0, I_k) the norm is Chi(k), with mean
// √2·Γ((k+1)/2)/Γ(k/2) and variance k − mean²; bounds 5 standard errors.
func TestNormStats(t *testing.T) {
	const k, n = 128, 4000
	x := randn(rand.New(rand.NewPCG(9, 9)), n, k, 1)
	st := NormStatsOf(x)
	lg1, _ := math.Lgamma((k + 1) / 2.0)
	lg2, _ := math.Lgamma(k / 2.0)
	mean := math.Sqrt2 * math.Exp(lg1-lg2)
	sd := math.Sqrt(k - mean*mean)
	if !(math.Abs(st.Mean-mean) <= 5*sd/math.Sqrt(n)) {
		t.Errorf("mean norm %v, want %v", st.Mean, mean)
	}
	// sd of the sample sd ≈ sd/√(2(n−1)) for a near-normal law.
	if !(math.Abs(st.SD-sd) <= 5*sd/math.Sqrt(2*(n-1))) {
		t.Errorf("sd of norm %v, want %v", st.SD, sd)
	}
}

// TestModeCoverage: 8gaussians samples cover all 8 modes, and the share
// within 3σ of a centre is P(‖N(0, σ²I₂)‖ ≤ 3σ) = 1 − e^{−9/2} (the other
// centres are 7σ away and add < 1e-9), within 5 binomial standard errors.
// A sample from 3 of the modes covers 3.
func TestModeCoverage(t *testing.T) {
	s, _ := dist.Parse("8gaussians")
	g := s.(*dist.Toy2D)
	const n = 8000
	x := mat.New(n, 2)
	g.Sample(rand.New(rand.NewPCG(1, 1)), x)
	sg := math.Sqrt(g.Var) // std 0.1^¼
	m := ModeCoverage(x, g.Centres(), 3*sg, 1.0/32)
	p := 1 - math.Exp(-4.5)
	if m.Covered != 8 || !(math.Abs(m.InRadius-p) <= 5*math.Sqrt(p*(1-p)/n)) {
		t.Errorf("coverage %+v, want 8 modes, in-radius share %v", m, p)
	}
	three := mat.New(0, 2)
	for i := 0; i < n; i++ {
		r := x.Row(i)
		if r[0] > 2 && r[1] > -2 { // modes at 0°, 45° and 90°
			three.Data = append(three.Data, r...)
			three.R++
		}
	}
	if m := ModeCoverage(three, g.Centres(), 3*sg, 1.0/32); m.Covered != 2 {
		// x > 2 keeps the 0° and 45° modes only (90° has x ≈ 0).
		t.Errorf("two-mode sample covers %d", m.Covered)
	}
}

// TestKernelHighDim: in 16 or more dimensions the distances come from the
// Gram matrix; MMD and energy distance must match a direct float64
// reference computed here (tolerance 1e-10 relative: the Gram form loses
// about ‖x‖²·2⁻⁵² per squared distance), be 0 for identical samples, and
// be bit-identical under GOMAXPROCS 1 and 4.
func TestKernelHighDim(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	x, y := randn(rng, 120, 20, 1), randn(rng, 90, 20, 1.2)
	xf, yf := toF64(x), toF64(y)
	direct := func(a, b [][]float64, k func(float64) float64) float64 {
		var s float64
		for _, ai := range a {
			for _, bj := range b {
				s += k(sqdist(ai, bj))
			}
		}
		return s / float64(len(a)*len(b))
	}
	rbf := func(d2 float64) float64 { return math.Exp(-d2 / 8) } // scale 2
	wantM := math.Sqrt(direct(xf, xf, rbf) + direct(yf, yf, rbf) - 2*direct(xf, yf, rbf))
	wantE := 2*direct(xf, yf, math.Sqrt) - direct(xf, xf, math.Sqrt) - direct(yf, yf, math.Sqrt)
	gotM, gotE := MMD(x, y, []float64{2}), EnergyDistance(x, y)
	if !(math.Abs(gotM-wantM) <= 1e-10*wantM) || !(math.Abs(gotE-wantE) <= 1e-10*wantE) {
		t.Errorf("MMD %v (direct %v), energy %v (direct %v)", gotM, wantM, gotE, wantE)
	}
	if m, e := MMD(x, x, nil), EnergyDistance(x, x); m != 0 || e > 1e-6 {
		t.Errorf("identical samples: MMD %v, energy %v", m, e)
	}
	// Large enough (256-row blocks against 600 columns) for gonum's Dgemm
	// to split its work.
	x, y = randn(rng, 600, 40, 1), randn(rng, 600, 40, 1)
	old := runtime.GOMAXPROCS(1)
	m1 := MMD(x, y, nil)
	runtime.GOMAXPROCS(4)
	m2 := MMD(x, y, nil)
	runtime.GOMAXPROCS(old)
	if m1 != m2 {
		t.Errorf("MMD depends on GOMAXPROCS: %v vs %v", m1, m2)
	}
}

// TestKSSize: the p-value is calibrated: over 400 independent Chi(16)
// samples of 100 points, the test at α = 0.05 rejects a Binomial(400, 0.05)
// number of them (mean 20, sd 4.4); bound 5 sd either side. Stephens's
// approximation is conservative by at most a few per cent at n = 100.
func TestKSSize(t *testing.T) {
	const trials, n, k, alpha = 400, 100, 16, 0.05
	rng := rand.New(rand.NewPCG(12, 12))
	cdf := chiCDF(k, 1)
	rej := 0
	for i := 0; i < trials; i++ {
		_, p, _ := KS(Norms(randn(rng, n, k, 1)), cdf)
		if p < alpha {
			rej++
		}
	}
	mean, sd := trials*alpha, math.Sqrt(trials*alpha*(1-alpha))
	if !(math.Abs(float64(rej)-mean) <= 5*sd) {
		t.Errorf("rejected %d of %d at α = %v, want %v ± %.1f", rej, trials, alpha, mean, 5*sd)
	}
	t.Logf("rejected %d of %d at α = %v", rej, trials, alpha)
}

// KSCritical is the Kolmogorov limit law's upper α quantile over √n: the
// tabulated 1.3581 (α = 0.05) and 1.6276 (α = 0.01) at n = 1, and at large
// n the point where KSPValue (the same law, Stephens's correction
// negligible: it moves λ by 0.012 % at n = 10⁶, the p-value by under 5e-5)
// gives back α.
func TestKSCritical(t *testing.T) {
	for _, c := range []struct{ alpha, q float64 }{{0.05, 1.3581}, {0.01, 1.6276}} {
		if got := KSCritical(1, c.alpha); math.Abs(got-c.q) > 1e-4 {
			t.Errorf("KSCritical(1, %v) = %.5f, want %.4f", c.alpha, got, c.q)
		}
		const n = 1000000
		if p := KSPValue(KSCritical(n, c.alpha), n); math.Abs(p-c.alpha) > 1e-4 {
			t.Errorf("KSPValue(KSCritical(%d, %v)) = %.6f, want %v", n, c.alpha, p, c.alpha)
		}
	}
}
