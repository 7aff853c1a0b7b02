package experiment

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/nn"
)

// The numerical rank of the Jacobian of a network with a width-2 bottleneck
// in 8 dimensions is at most 2; a wide network's Jacobian is generically of
// full rank 8.
func TestJacobianRank(t *testing.T) {
	x := []float32{0.3, -1, 0.5, 2, -0.7, 0.1, 1.2, -0.4}
	for _, c := range []struct {
		hidden []int
		lo, hi int
	}{{[]int{16, 2, 16}, 1, 2}, {[]int{32, 32}, 8, 8}} {
		net, err := nn.New(nn.Config{Dim: 8, Hidden: c.hidden}, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range []float64{0.1, 0.9} {
			if r := jacobianRank(net, x, tm); r < c.lo || r > c.hi {
				t.Errorf("hidden %v, t=%g: rank %d, want in [%d, %d]", c.hidden, tm, r, c.lo, c.hi)
			}
		}
	}
}

// The Chi law ksChi uses (exact.Chi) must agree with gonum's independent
// Chi distribution to rounding (1e-12) in CDF and density, and a sample of
// the law itself must pass the 1 % test.
func TestKSChi(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const k, s, n = 16, 0.7, 3000
	x := mat.New(n, k)
	for i := range x.Data {
		x.Data[i] = float32(s * rng.NormFloat64())
	}
	nr := norms(x)
	got := ksChi(nr, k, s)
	ref := distuv.Chi{K: k}
	for _, r := range []float64{0.3, 1.5, 2.8, 3.6, 5} {
		law := exact.Chi{K: k, S: s}
		if c, w := law.Cdf(r), ref.CDF(r/s); !(math.Abs(c-w) <= 1e-12) {
			t.Errorf("Chi CDF(%v) = %.15f, gonum %.15f", r, c, w)
		}
		if p, w := chiPDF(k, s)(r), ref.Prob(r/s)/s; !(math.Abs(p-w) <= 1e-12) {
			t.Errorf("Chi pdf(%v) = %.15f, gonum %.15f", r, p, w)
		}
	}
	if got > ksCrit(n, 0.01) {
		t.Errorf("KS of a Chi sample %.4f above the 1 %% bound %.4f", got, ksCrit(n, 0.01))
	}
	// Chi moments from gonum against the design's facts' source: Chi(128)
	// has mean √2·Γ(64.5)/Γ(64), computed here through Lgamma.
	lg1, _ := math.Lgamma(64.5)
	lg0, _ := math.Lgamma(64)
	if m := math.Sqrt2 * math.Exp(lg1-lg0); math.Abs(chiMean(128, 1)-m) > 1e-9 {
		t.Errorf("chiMean(128) = %.12f, want %.12f", chiMean(128, 1), m)
	}
}

// modeAspect: isotropic clusters give ≈ 1 (λmin/λmax of a 2×2 sample
// covariance of 400 points: within 0.3 of 1 with overwhelming probability),
// points on a line through the centres give 0 up to float32 rounding.
func TestModeAspect(t *testing.T) {
	centres := [][]float64{{5, 0}, {-5, 0}}
	rng := rand.New(rand.NewPCG(7, 8))
	iso := mat.New(800, 2)
	line := mat.New(800, 2)
	for i := range 800 {
		c := centres[i%2]
		iso.Set(i, 0, float32(c[0]+0.5*rng.NormFloat64()))
		iso.Set(i, 1, float32(c[1]+0.5*rng.NormFloat64()))
		u := rng.NormFloat64() * 0.5
		line.Set(i, 0, float32(c[0]+u))
		line.Set(i, 1, float32(c[1]+u))
	}
	if a := modeAspect(iso, centres, 2); a < 0.7 || a > 1 {
		t.Errorf("isotropic aspect %.3f, want in [0.7, 1]", a)
	}
	if a := modeAspect(line, centres, 2); a > 1e-6 {
		t.Errorf("line aspect %.3g, want ≈ 0", a)
	}
	if a := modeAspect(iso, [][]float64{{100, 100}}, 1); !math.IsNaN(a) {
		t.Errorf("no point near the centre: aspect %v, want NaN", a)
	}
}

func TestSubSeed(t *testing.T) {
	// The definition: FNV-1a of "seed/label/i…".
	h := fnv.New64a()
	h.Write([]byte("1/a/2"))
	if got, want := subSeed(1, "a", 2), h.Sum64(); got != want {
		t.Errorf("subSeed(1, a, 2) = %#x, want FNV-1a(\"1/a/2\") = %#x", got, want)
	}
	if subSeed(1, "a", 2) == subSeed(1, "a", 3) || subSeed(1, "a") == subSeed(2, "a") || subSeed(1, "a", 12) == subSeed(1, "a1", 2) {
		t.Error("subSeed collides on different labels")
	}
}

func TestParseScale(t *testing.T) {
	for _, s := range []string{"smoke", "quick", "paper"} {
		if _, err := ParseScale(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseScale("huge"); err == nil {
		t.Error("ParseScale(huge): want error")
	}
}

// TestCutFor: the reported cut is half-open as CountAbove's strict ">"
// makes it: k eigenvalues above its lower end, k−1 above its upper end.
func TestCutFor(t *testing.T) {
	desc := []float64{9, 7, 5, 3, 1}
	for k := 1; k < len(desc); k++ {
		c := cutFor(desc, k)
		if got := metrics.CountAbove(desc, c[0]); got != k {
			t.Errorf("k = %d: %d eigenvalues above lo = %v", k, got, c[0])
		}
		if got := metrics.CountAbove(desc, math.Nextafter(c[1], math.Inf(-1))); got != k {
			t.Errorf("k = %d: %d eigenvalues just below hi = %v", k, got, c[1])
		}
		if got := metrics.CountAbove(desc, c[1]); got != k-1 {
			t.Errorf("k = %d: %d eigenvalues above hi = %v, want k−1", k, got, c[1])
		}
	}
}

// sweepGap takes per seed the largest |learned − exact| dead variance over
// its SDE runs (the default ε's and the sweep's, not the probability flow's),
// and sweepNote lists each ε's learned and exact figures in its own place.
func TestSweepGapAndNote(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	bound := 0.02
	run := func(seed int, eps, dead, ks, exDead, exKS float64) *rankRun {
		return &rankRun{Seed: seed, Gamma: "sqrt", EpsPeak: eps, DeadVar: f(dead), KSFull: ks * bound,
			Exact: &exactRun{DeadVar: exDead, KSFull: exKS * bound}}
	}
	runs := []*rankRun{
		run(1, 0, 0.95, 4, 0.95, 4.5), run(1, 1, 1.01, 2, 0.99, 1),
		run(2, 0, 0.94, 5, 0.96, 4), run(2, 1, 1.03, 3, 0.99, 0.5),
		{Seed: 1, Gamma: "sqrt", Sampler: pfName, DeadVar: f(0.1), Exact: &exactRun{DeadVar: 0.9}}, // not an SDE
		run(0, 1, 5, 5, 0, 0), // selection seed
	}
	gap := sweepGap(runs)
	want := []float64{0.02, 0.04}
	if len(gap) != len(want) {
		t.Fatalf("sweepGap = %v, want %v", gap, want)
	}
	for i := range want {
		if math.Abs(gap[i]-want[i]) > 1e-12 {
			t.Errorf("sweepGap[%d] = %g, want %g", i, gap[i], want[i])
		}
	}
	note := sweepNote(runs, bound)
	for _, s := range []string{
		"ε = 0.5: dead variance 0.945 [", "(exact SDE 0.955, closed form 0.957), KS 4.50 [", "bounds (exact SDE 4.25)",
		"ε = 1: dead variance 1.020 [", "(exact SDE 0.990, closed form 0.998), KS 2.50 [", "bounds (exact SDE 0.75)",
	} {
		if !strings.Contains(note, s) {
			t.Errorf("sweepNote lacks %q:\n%s", s, note)
		}
	}
	if strings.Index(note, "ε = 0.5") > strings.Index(note, "ε = 1") {
		t.Errorf("sweepNote not in order of ε:\n%s", note)
	}
}
