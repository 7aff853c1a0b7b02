package dist

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// moments checks the sample mean and covariance of n draws from s against
// the values worked out by hand. Each entry must lie within z standard
// errors of its expected value; the standard error of a mean is √(Σ_jj/n),
// that of a covariance entry √((E[(x_i−μ_i)²(x_j−μ_j)²] − Σ_ij²)/n), the
// fourth moment estimated from the sample itself. With a fixed seed the
// test is deterministic; z = 5 would fail with probability < 1e-5 per
// entry for a random seed.
func moments(t *testing.T, name string, s Sampler, n int, wantMean []float64, wantCov [][]float64) {
	t.Helper()
	const z = 5
	d := s.Dim()
	x := mat.New(n, d)
	s.Sample(rand.New(rand.NewPCG(1, 2)), x)
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	cov := make([][]float64, d)
	m4 := make([][]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
		m4[i] = make([]float64, d)
	}
	for r := 0; r < n; r++ {
		row := x.Row(r)
		for i := 0; i < d; i++ {
			a := float64(row[i]) - mean[i]
			for j := 0; j < d; j++ {
				b := float64(row[j]) - mean[j]
				cov[i][j] += a * b
				m4[i][j] += a * a * b * b
			}
		}
	}
	for i := 0; i < d; i++ {
		se := math.Sqrt(wantCov[i][i] / float64(n))
		if !(math.Abs(mean[i]-wantMean[i]) <= z*se+1e-6) {
			t.Errorf("%s: mean[%d] = %.5f, want %.5f ± %.5f", name, i, mean[i], wantMean[i], z*se)
		}
		for j := 0; j < d; j++ {
			c := cov[i][j] / float64(n-1)
			v4 := m4[i][j]/float64(n) - c*c
			se := math.Sqrt(math.Max(v4, 0) / float64(n))
			if !(math.Abs(c-wantCov[i][j]) <= z*se+1e-6) {
				t.Errorf("%s: cov[%d][%d] = %.5f, want %.5f ± %.5f", name, i, j, c, wantCov[i][j], z*se)
			}
		}
	}
}

func iso(d int, v float64) [][]float64 {
	c := make([][]float64, d)
	for i := range c {
		c[i] = make([]float64, d)
		c[i][i] = v
	}
	return c
}

func mustParse(t *testing.T, spec string) Sampler {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}

// simpson integrates f over [a, b] with n (even) intervals; the error is
// O(h⁴ f⁗), below 1e-9 for the smooth integrands here with n = 20000.
func simpson(f func(float64) float64, a, b float64, n int) float64 {
	h := (b - a) / float64(n)
	s := f(a) + f(b)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(a+float64(i)*h)
	}
	return s * h / 3
}

func TestToyMoments(t *testing.T) {
	n := 400000
	if testing.Short() {
		n = 100000
	}
	// 8 gaussians: the centres c_k = S(cos kπ/4, sin kπ/4) average to 0 and
	// (1/8)Σ c_k c_kᵀ = S²/2·I (cos² averages ½ over the 8 angles, cos·sin
	// averages 0); the noise adds V·I. torchcfm: S = 5, V = √0.1.
	moments(t, "8gaussians", mustParse(t, "8gaussians"), n, []float64{0, 0}, iso(2, 25.0/2+math.Sqrt(0.1)))
	fs, fv := 4/1.414, 0.25/(1.414*1.414)
	moments(t, "8gaussians:style=ffjord", mustParse(t, "8gaussians:style=ffjord"), n, []float64{0, 0}, iso(2, fs*fs/2+fv))

	// moons, before noise and scaling: half the mass on (cos θ, sin θ), half
	// on (1 − cos θ, ½ − sin θ), θ ~ U(0, π): E cos = 0, E sin = 2/π,
	// E cos² = E sin² = ½, E cos·sin = 0. Hence mean (½, ¼),
	// E x² = (½ + 3/2)/2 = 1, E y² = (½ + ¾ − 2/π)/2, E xy = (½ − 2/π)/2.
	moon := func(noise, scale, sx, sy float64) ([]float64, [][]float64) {
		mx, my := 0.5, 0.25
		vxx := 1 - mx*mx + noise*noise
		vyy := (0.5+0.75-2/math.Pi)/2 - my*my + noise*noise
		vxy := (0.5-2/math.Pi)/2 - mx*my
		s2 := scale * scale
		return []float64{mx*scale + sx, my*scale + sy}, [][]float64{{vxx * s2, vxy * s2}, {vxy * s2, vyy * s2}}
	}
	m, c := moon(0.1, 2, -1, -0.2)
	moments(t, "moons", mustParse(t, "moons"), n, m, c)
	m, c = moon(0.2, 3, -1, -1)
	moments(t, "moons:style=torchcfm", mustParse(t, "moons:style=torchcfm"), n, m, c)

	// line: x ~ U(−a, a) has variance a²/3, y = x; noise adds σ²·I.
	a := 2.5
	moments(t, "line", mustParse(t, "line"), n, []float64{0, 0}, [][]float64{{a * a / 3, a * a / 3}, {a * a / 3, a * a / 3}})
	a, sg := 1.0, 0.1
	moments(t, "line:scale=1,noise=0.1", mustParse(t, "line:scale=1,noise=0.1"), n, []float64{0, 0},
		[][]float64{{a*a/3 + sg*sg, a * a / 3}, {a * a / 3, a*a/3 + sg*sg}})

	// circles: radius 1 or f with probability ½, uniform angle: mean 0,
	// cov = E r²/2·I = (1 + f²)/4·I; noise σ²·I; all times scale².
	f, sg, sc := 0.5, 0.08, 3.0
	moments(t, "circles", mustParse(t, "circles"), n, []float64{0, 0}, iso(2, sc*sc*((1+f*f)/4+sg*sg)))

	// checkerboard (FFJORD's, before ·2): x1 ~ U(−2, 2) has variance 4/3;
	// x2 = u + b with u uniform on [0,1) or [−2,−1) (mean −½, E u² = ½(⅓ + 7/3),
	// variance 13/12) and b = floor(x1) mod 2, a fair bit independent of u
	// (mean ½, variance ¼), so x2 has mean 0 and variance 4/3;
	// cov(x1, x2) = cov(x1, b) = E[x1·b] = ½·E[x1 | b = 1] = ½·½ = ¼.
	sc = 2
	moments(t, "checkerboard", mustParse(t, "checkerboard"), n, []float64{0, 0},
		[][]float64{{sc * sc * 4 / 3, sc * sc / 4}, {sc * sc / 4, sc * sc * 4 / 3}})

	// spirals: r = 3π√u (density 2r/(3π)² on [0, 3π]); the arm
	// d = (−r cos r + ½U₁, r sin r + ½U₂) is negated with probability ½, so the
	// mean is 0 and cov = E[d dᵀ]/9 + σ²·I. E over r by Simpson's rule.
	R := 3 * math.Pi
	er := func(g func(r float64) float64) float64 {
		return simpson(func(r float64) float64 { return g(r) * 2 * r / (R * R) }, 0, R, 20000)
	}
	rc := er(func(r float64) float64 { return r * math.Cos(r) })
	rs := er(func(r float64) float64 { return r * math.Sin(r) })
	exx := er(func(r float64) float64 { return r * r * math.Cos(r) * math.Cos(r) }) - 2*0.25*rc + 1.0/12
	eyy := er(func(r float64) float64 { return r * r * math.Sin(r) * math.Sin(r) }) + 2*0.25*rs + 1.0/12
	exy := -er(func(r float64) float64 { return r * r * math.Cos(r) * math.Sin(r) }) - 0.25*rc + 0.25*rs + 1.0/16
	sg = 0.1
	moments(t, "spirals", mustParse(t, "spirals"), n, []float64{0, 0},
		[][]float64{{exx/9 + sg*sg, exy / 9}, {exy / 9, eyy/9 + sg*sg}})

	// swissroll: t ~ U(1.5π, 4.5π), (t cos t, t sin t) + N(0, σ²I), then ·s.
	lo, hi := 1.5*math.Pi, 4.5*math.Pi
	et := func(g func(float64) float64) float64 { return simpson(g, lo, hi, 20000) / (hi - lo) }
	mx := et(func(t float64) float64 { return t * math.Cos(t) })
	my := et(func(t float64) float64 { return t * math.Sin(t) })
	cxx := et(func(t float64) float64 { return t * t * math.Cos(t) * math.Cos(t) }) - mx*mx + 1
	cyy := et(func(t float64) float64 { return t * t * math.Sin(t) * math.Sin(t) }) - my*my + 1
	cxy := et(func(t float64) float64 { return t * t * math.Sin(t) * math.Cos(t) }) - mx*my
	s := 0.2
	moments(t, "swissroll", mustParse(t, "swissroll"), n, []float64{mx * s, my * s},
		[][]float64{{cxx * s * s, cxy * s * s}, {cxy * s * s, cyy * s * s}})
}

func TestGaussianMoments(t *testing.T) {
	moments(t, "gaussian", mustParse(t, "gaussian:dim=5,var=0.5,mean=2"), 100000,
		[]float64{2, 2, 2, 2, 2}, iso(5, 0.5))
	// Unrotated: variance var on the first rank coordinates, eps on the rest.
	c := iso(6, 0.5)
	for i := 2; i < 6; i++ {
		c[i][i] = 0.01
	}
	moments(t, "embedded", mustParse(t, "embedded:dim=6,rank=2,var=0.5,eps=0.01"), 100000, make([]float64, 6), c)
	for i := 2; i < 6; i++ {
		c[i][i] = 0
	}
	moments(t, "embedded eps=0", mustParse(t, "embedded:dim=6,rank=2,var=0.5"), 100000, make([]float64, 6), c)
}

// TestEmbeddedRotated checks that the rotation is orthogonal (QᵀQ = I to
// 1e-12, rounding of a 12×12 QR), that Cov() is Q·diag·Qᵀ with rank r, and
// that samples have that covariance.
func TestEmbeddedRotated(t *testing.T) {
	s := mustParse(t, "embedded:dim=12,rank=3,var=2,rotate=true,seed=7")
	e := s.(*Embedded)
	q := e.Basis()
	for i := 0; i < 12; i++ {
		for j := 0; j < 12; j++ {
			var dot float64
			for k := 0; k < 12; k++ {
				dot += q.At(k, i) * q.At(k, j)
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if !(math.Abs(dot-want) <= 1e-12) {
				t.Fatalf("QᵀQ[%d][%d] = %g, want %g", i, j, dot, want)
			}
		}
	}
	cov := e.Cov()
	want := make([][]float64, 12)
	var tr float64
	for i := range want {
		want[i] = make([]float64, 12)
		for j := range want[i] {
			want[i][j] = cov.At(i, j)
		}
		tr += want[i][i]
	}
	if !(math.Abs(tr-3*2) <= 1e-12) {
		t.Errorf("trace of Cov = %g, want rank·var = 6", tr)
	}
	moments(t, "embedded rotated", s, 100000, make([]float64, 12), want)
	// A different seed gives a different rotation; the same seed the same.
	e2 := mustParse(t, "embedded:dim=12,rank=3,var=2,rotate=true,seed=7").(*Embedded)
	e3 := mustParse(t, "embedded:dim=12,rank=3,var=2,rotate=true,seed=8").(*Embedded)
	if e2.Basis().At(0, 0) != q.At(0, 0) || e3.Basis().At(0, 0) == q.At(0, 0) {
		t.Error("rotation does not follow the seed")
	}
}

// TestSameSeedSameBits: the same seed gives identical samples, a different
// seed different ones.
func TestSameSeedSameBits(t *testing.T) {
	for _, spec := range append(ToyKinds(), "gaussian:dim=3", "embedded:dim=8,rank=2,rotate=true,eps=0.1") {
		s := mustParse(t, spec)
		a, b, c := mat.New(64, s.Dim()), mat.New(64, s.Dim()), mat.New(64, s.Dim())
		s.Sample(rand.New(rand.NewPCG(3, 4)), a)
		s.Sample(rand.New(rand.NewPCG(3, 4)), b)
		s.Sample(rand.New(rand.NewPCG(5, 6)), c)
		same, diff := true, false
		for i := range a.Data {
			same = same && math.Float32bits(a.Data[i]) == math.Float32bits(b.Data[i])
			diff = diff || a.Data[i] != c.Data[i]
		}
		if !same || !diff {
			t.Errorf("%s: same seed same bits %v, other seed differs %v", spec, same, diff)
		}
	}
}
