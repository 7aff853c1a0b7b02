package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// LawAgainst on exact draws of N(0, vI_k) must accept them, and must see a
// sample with twice the variance as such.
func TestLawAgainst(t *testing.T) {
	const n, k, v = 4000, 32, 0.5
	rng := rand.New(rand.NewPCG(3, 4))
	x := mat.New(n, k)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64() * math.Sqrt(v))
	}
	law, err := LawAgainst(x, v)
	if err != nil {
		t.Fatal(err)
	}
	// KS of a correct sample: P(D > 1.63/√n) ≈ 1 % (Kolmogorov's law).
	if !(law.KSChi < 1.63/math.Sqrt(n)) {
		t.Errorf("KS %.4f of exact draws above the 99 %% bound %.4f", law.KSChi, 1.63/math.Sqrt(n))
	}
	// The mean of k sample variances has sd v·√(2/(n−1))/√k; allow 4 sd.
	if sd := v * math.Sqrt(2/float64(n-1)/k); !(math.Abs(law.VarMean-v) < 4*sd) {
		t.Errorf("var_mean %.4f, want %.2f ± %.4f", law.VarMean, v, 4*sd)
	}
	// Each variance alone: sd v·√(2/(n−1)); the extremes of k stay within 4.5 sd.
	if sd := v * math.Sqrt(2/float64(n-1)); !(law.VarMin > v-4.5*sd && law.VarMax < v+4.5*sd) {
		t.Errorf("variances in [%.4f, %.4f], want within %.2f ± %.4f", law.VarMin, law.VarMax, v, 4.5*sd)
	}
	// The mean norm of s·Chi(k) samples: sd of the mean ≈ s/√(2n).
	if sd := math.Sqrt(v / (2 * n)); !(math.Abs(law.MeanNorm-law.ChiMean) < 4*sd) {
		t.Errorf("mean norm %.4f, Chi mean %.4f ± %.4f", law.MeanNorm, law.ChiMean, 4*sd)
	}
	// The same draws judged against twice the variance: rejected.
	wide, err := LawAgainst(x, 2*v)
	if err != nil {
		t.Fatal(err)
	}
	if !(wide.KSChi > 0.5) {
		t.Errorf("KS %.3f against the wrong scale, want > 0.5", wide.KSChi)
	}
}
