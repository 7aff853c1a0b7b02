package metrics

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	gmat "gonum.org/v1/gonum/mat"
)

// TestCovariance against a plain two-pass float64 reference (tolerance
// 1e-13 relative to the largest entry: the blocked sum only reorders
// additions), and bit-identical under GOMAXPROCS 1 and 2.
func TestCovariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n, d := 1000, 37
	x := randn(rng, n, d, 1)
	for i := 0; i < n; i++ {
		x.Set(i, 5, 3) // a constant column
		x.Set(i, 7, x.At(i, 6)*2)
	}
	mean, cov := Covariance(x)
	ref := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			ref[j] += float64(x.At(i, j))
		}
	}
	for j := range ref {
		ref[j] /= float64(n)
		if !(math.Abs(mean[j]-ref[j]) <= 1e-15) {
			t.Fatalf("mean[%d] = %v, want %v", j, mean[j], ref[j])
		}
	}
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			var s float64
			for i := 0; i < n; i++ {
				s += (float64(x.At(i, a)) - ref[a]) * (float64(x.At(i, b)) - ref[b])
			}
			s /= float64(n - 1)
			if !(math.Abs(cov.At(a, b)-s) <= 1e-13*4) {
				t.Fatalf("cov[%d][%d] = %v, want %v", a, b, cov.At(a, b), s)
			}
		}
	}
	if cov.At(5, 5) != 0 || cov.At(5, 0) != 0 {
		t.Errorf("constant column has covariance %v, %v", cov.At(5, 5), cov.At(5, 0))
	}
	old := runtime.GOMAXPROCS(1)
	_, c1 := Covariance(x)
	runtime.GOMAXPROCS(2)
	_, c2 := Covariance(x)
	runtime.GOMAXPROCS(old)
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			if math.Float64bits(c1.At(a, b)) != math.Float64bits(c2.At(a, b)) {
				t.Fatalf("GOMAXPROCS changes cov[%d][%d]", a, b)
			}
		}
	}
	if NonConstant(x) != d-1 {
		t.Errorf("NonConstant = %d, want %d", NonConstant(x), d-1)
	}
}

// TestSpectrumEmbedded: a rank-r Gaussian rotated into D dimensions has
// numerical rank exactly r at NumPy's tolerance (its null eigenvalues are
// rounding, ~1e-16·λmax, the tolerance D·eps·λmax), and its eigenvectors
// reproduce the covariance (V·diag(λ)·Vᵀ = C to 1e-12).
func TestSpectrumEmbedded(t *testing.T) {
	s, err := dist.Parse("embedded:dim=40,rank=13,var=0.5,rotate=true,seed=3")
	if err != nil {
		t.Fatal(err)
	}
	x := mat.New(2000, 40)
	s.Sample(rand.New(rand.NewPCG(2, 2)), x)
	r, err := Spectrum(x, SpectrumOptions{Fractions: []float64{1}, Thresholds: []float64{0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rank != 13 || r.NonConstant != 40 || r.Above[0].Count != 13 || r.Explained[0].Count > 13 {
		t.Errorf("rank %d, nonconstant %d, above 0.1: %d, 100%% variance: %d; want 13, 40, 13, ≤13",
			r.Rank, r.NonConstant, r.Above[0].Count, r.Explained[0].Count)
	}
	if !sortedDesc(r.Eigenvalues) {
		t.Error("eigenvalues not descending")
	}
	_, cov := Covariance(x)
	vals, vecs, err := Eigen(cov, true)
	if err != nil {
		t.Fatal(err)
	}
	var rec gmat.Dense
	rec.Mul(vecs, gmat.NewDiagDense(len(vals), vals))
	rec.Mul(&rec, vecs.T())
	for i := 0; i < 40; i++ {
		for j := 0; j < 40; j++ {
			if !(math.Abs(rec.At(i, j)-cov.At(i, j)) <= 1e-12) {
				t.Fatalf("V·Λ·Vᵀ[%d][%d] = %v, C = %v", i, j, rec.At(i, j), cov.At(i, j))
			}
		}
	}
}

// TestCounts on eigenvalues worked by hand.
func TestCounts(t *testing.T) {
	e := []float64{4, 3, 2, 1, 0, -1e-17}
	// Totals 10: 4 → 40 %, 7 → 70 %, 9 → 90 %, 10 → 100 %.
	for frac, want := range map[float64]int{0.4: 1, 0.41: 2, 0.7: 2, 0.9: 3, 0.95: 4, 1: 4} {
		if got := CountExplained(e, frac); got != want {
			t.Errorf("CountExplained(%v) = %d, want %d", frac, got, want)
		}
	}
	if CountAbove(e, 2) != 2 || CountAbove(e, 0) != 5 {
		t.Errorf("CountAbove: %d, %d", CountAbove(e, 2), CountAbove(e, 0))
	}
	if tol := NumPyRankTol(-5, 784); tol != 5*784*math.Pow(2, -52) {
		t.Errorf("NumPyRankTol = %v", tol)
	}
}

// TestMNISTSpectrum checks the outside reference (NumPy on MNIST train,
// pixels in [0, 1], float64 covariance): 717 non-constant pixels, rank 712
// at σ_max·n·eps, 154 and 331 components for 95 % and 99 % of the variance,
// 228 eigenvalues above 0.012.
func TestMNISTSpectrum(t *testing.T) {
	if testing.Short() {
		t.Skip("MNIST spectrum takes ~10 s")
	}
	m, err := dist.LoadMNIST(dist.MNISTOptions{})
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	r, err := Spectrum(m.Data(), SpectrumOptions{Fractions: []float64{0.95, 0.99}, Thresholds: []float64{0.012}})
	if err != nil {
		t.Fatal(err)
	}
	if r.NonConstant != 717 || r.Rank != 712 || r.Explained[0].Count != 154 || r.Explained[1].Count != 331 || r.Above[0].Count != 228 {
		t.Errorf("MNIST: nonconstant %d rank %d (tol %g) 95%% %d 99%% %d above 0.012 %d; want 717 712 154 331 228",
			r.NonConstant, r.Rank, r.RankTol, r.Explained[0].Count, r.Explained[1].Count, r.Above[0].Count)
	}
	// The rank does not hinge on the tolerance: the gap around it spans
	// orders of magnitude on both sides.
	t.Logf("λ_712 = %g, tol = %g, λ_713 = %g", r.Eigenvalues[711], r.RankTol, r.Eigenvalues[712])
	if r.Eigenvalues[711] < 100*r.RankTol || r.Eigenvalues[712] > r.RankTol/100 {
		t.Errorf("rank 712 sits within a factor 100 of the tolerance")
	}
}
