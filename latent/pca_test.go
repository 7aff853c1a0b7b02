package latent

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
)

func sample(t *testing.T, spec string, n int) *mat.Dense {
	t.Helper()
	s, err := dist.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.New(n, s.Dim())
	s.Sample(rand.New(rand.NewPCG(1, 2)), x)
	return x
}

// TestRoundTripFullDim: with all D components V is orthogonal, so decode ∘
// encode is the identity; the only error is the float32 rounding of z and
// of x̂ (2⁻²⁴ relative each) and float64 rounding (~D·2⁻⁵³), so each
// coordinate must come back within 4·2⁻²⁴·max‖x‖ of itself.
func TestRoundTripFullDim(t *testing.T) {
	x := sample(t, "gaussian:dim=30,var=2,mean=1", 500)
	p, err := Fit(x, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.K != 30 {
		t.Fatalf("K = %d", p.K)
	}
	y := p.Decode(p.Encode(x))
	var maxNorm float64
	for _, n := range metrics.Norms(x) {
		maxNorm = math.Max(maxNorm, n)
	}
	tol := 4 * math.Pow(2, -24) * maxNorm
	for i := range x.Data {
		if d := math.Abs(float64(x.Data[i] - y.Data[i])); !(d <= tol) {
			t.Fatalf("element %d: %v → %v (tol %v)", i, x.Data[i], y.Data[i], tol)
		}
	}
}

// TestExplainedMatchesSpectrum: on a rank-8 Gaussian in 20-D, the PCA's
// variances are the spectrum's eigenvalues (same covariance; the solver
// takes a different LAPACK path with eigenvectors, so they agree to
// rounding, 1e-12·λmax), the encoded coordinates have sample variances equal to
// them (1e-9 relative: float32 storage of z), the fraction option picks
// the spectrum's count, and keeping the rank reconstructs the data.
func TestExplainedMatchesSpectrum(t *testing.T) {
	x := sample(t, "embedded:dim=20,rank=8,var=0.5,rotate=true,seed=4", 3000)
	p, err := Fit(x, Options{Fraction: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := metrics.Spectrum(x, metrics.SpectrumOptions{Fractions: []float64{0.9}})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range sp.Eigenvalues {
		if !(math.Abs(v-p.Variances[i]) <= 1e-12*sp.Eigenvalues[0]) {
			t.Fatalf("eigenvalue %d: PCA %v, spectrum %v", i, p.Variances[i], v)
		}
	}
	if p.K != sp.Explained[0].Count || p.Explained() < 0.9 {
		t.Errorf("fraction 0.9 keeps %d (explains %v), spectrum says %d", p.K, p.Explained(), sp.Explained[0].Count)
	}
	full := p.WithK(20)
	z := full.Encode(x)
	for k := 0; k < 20; k++ {
		var m, s float64
		for i := 0; i < z.R; i++ {
			m += float64(z.At(i, k))
		}
		m /= float64(z.R)
		for i := 0; i < z.R; i++ {
			d := float64(z.At(i, k)) - m
			s += d * d
		}
		s /= float64(z.R - 1)
		if !(math.Abs(s-p.Variances[k]) <= 1e-6*p.Variances[0]) {
			t.Errorf("var(z_%d) = %v, eigenvalue %v", k, s, p.Variances[k])
		}
	}
	r8 := p.WithK(8)
	y := r8.Decode(r8.Encode(x))
	for i := range x.Data {
		if !(math.Abs(float64(x.Data[i]-y.Data[i])) <= 1e-5) {
			t.Fatalf("rank-8 data not reconstructed by 8 components: %v → %v", x.Data[i], y.Data[i])
		}
	}
}

func TestFitErrorsAndDeterminism(t *testing.T) {
	x := sample(t, "gaussian:dim=5", 100)
	for _, o := range []Options{{Dim: 6}, {Dim: -1}, {Fraction: 1.5}, {Dim: 2, Fraction: 0.5}} {
		if _, err := Fit(x, o); err == nil {
			t.Errorf("Fit(%+v): no error", o)
		}
	}
	if _, err := Fit(x.Rows(0, 1), Options{}); err == nil {
		t.Error("one row: no error")
	}
	old := runtime.GOMAXPROCS(1)
	p1, _ := Fit(x, Options{Dim: 3})
	z1 := p1.Encode(x)
	runtime.GOMAXPROCS(2)
	p2, _ := Fit(x, Options{Dim: 3})
	z2 := p2.Encode(x)
	runtime.GOMAXPROCS(old)
	for i := range z1.Data {
		if math.Float32bits(z1.Data[i]) != math.Float32bits(z2.Data[i]) {
			t.Fatal("encoding depends on GOMAXPROCS")
		}
	}
}

// TestConstantData is a regression test: on data without variance the
// explained ratios were 0/0 = NaN (which encoding/json refuses). They must be
// 0, and the round trip must still return the (single) point exactly.
func TestConstantData(t *testing.T) {
	x := mat.New(5, 3)
	for i := 0; i < 5; i++ {
		copy(x.Row(i), []float32{1, -2, 0.5})
	}
	p, err := Fit(x, Options{Fraction: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range p.ExplainedRatio() {
		if r != 0 {
			t.Errorf("ratio %d = %v, want 0", i, r)
		}
	}
	if e := p.Explained(); e != 0 {
		t.Errorf("explained %v, want 0", e)
	}
	y := p.Decode(p.Encode(x))
	for i := range x.Data {
		if x.Data[i] != y.Data[i] {
			t.Fatalf("round trip of constant data: %v, want %v", y.Data, x.Data)
		}
	}
}
