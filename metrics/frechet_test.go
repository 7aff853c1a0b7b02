package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/mat"
)

// randomSPD returns A·Aᵀ/d + δI for a d×d Gaussian A: a well-conditioned
// covariance with correlations.
func randomSPD(rng *rand.Rand, d int, delta float64) *gmat.SymDense {
	a := gmat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	s := gmat.NewSymDense(d, nil)
	s.SymOuterK(1/float64(d), a)
	for i := 0; i < d; i++ {
		s.SetSym(i, i, s.At(i, i)+delta)
	}
	return s
}

// TestFrechetClosedForms: diagonal covariances, where the distance is
// ‖μ₁−μ₂‖² + Σ(√a_i − √b_i)²; commuting covariances (same eigenvectors),
// the same in their eigenbasis; the distance of a Gaussian to itself is 0.
// The formula is evaluated in float64 through two eigen-decompositions, so
// the tolerance is 1e-9 relative.
func TestFrechetClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const d = 12
	t.Run("diagonal", func(t *testing.T) {
		a, b := Gaussian{Mean: make([]float64, d), Cov: gmat.NewSymDense(d, nil)}, Gaussian{Mean: make([]float64, d), Cov: gmat.NewSymDense(d, nil)}
		want := 0.0
		for i := 0; i < d; i++ {
			va, vb := 0.1+rng.Float64(), 0.1+3*rng.Float64()
			a.Cov.SetSym(i, i, va)
			b.Cov.SetSym(i, i, vb)
			a.Mean[i], b.Mean[i] = rng.NormFloat64(), rng.NormFloat64()
			dm := a.Mean[i] - b.Mean[i]
			want += dm*dm + (math.Sqrt(va)-math.Sqrt(vb))*(math.Sqrt(va)-math.Sqrt(vb))
		}
		got, err := Frechet(a, b)
		if err != nil || math.Abs(got-want) > 1e-9*want {
			t.Fatalf("got %v (%v), want %v", got, err, want)
		}
	})
	t.Run("commuting", func(t *testing.T) {
		base := randomSPD(rng, d, 0.5)
		_, q, _ := Eigen(base, true)
		mk := func(vals []float64) *gmat.SymDense {
			var m gmat.Dense
			m.Mul(q, gmat.NewDiagDense(d, vals))
			m.Mul(&m, q.T())
			s := gmat.NewSymDense(d, nil)
			for i := 0; i < d; i++ {
				for j := i; j < d; j++ {
					s.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
				}
			}
			return s
		}
		va, vb := make([]float64, d), make([]float64, d)
		want := 0.0
		for i := range va {
			va[i], vb[i] = 0.2+rng.Float64(), 0.05+2*rng.Float64()
			want += (math.Sqrt(va[i]) - math.Sqrt(vb[i])) * (math.Sqrt(va[i]) - math.Sqrt(vb[i]))
		}
		got, err := Frechet(Gaussian{make([]float64, d), mk(va)}, Gaussian{make([]float64, d), mk(vb)})
		if err != nil || math.Abs(got-want) > 1e-9*want {
			t.Fatalf("got %v (%v), want %v", got, err, want)
		}
	})
	t.Run("self", func(t *testing.T) {
		g := Gaussian{Mean: make([]float64, d), Cov: randomSPD(rng, d, 0.1)}
		got, err := Frechet(g, g)
		if err != nil || got > 1e-9 {
			t.Fatalf("distance to itself %v (%v), want 0", got, err)
		}
	})
}

// TestFrechetSymmetricAndSampled: the distance is symmetric for
// non-commuting covariances, and the distance between the fits of two
// samples of N(0, I_d) of size n is near its expectation: 2d/n from the means
// plus ¼·E‖Σ̂₁ − Σ̂₂‖²_F ≈ ¼·2d(d+1)/n from the covariances (W2² ≈ ¼‖ΔΣ‖²_F
// near I), 0.0026 for d = 8, n = 20000. A sum of ~d²/2 squared errors has a
// relative spread near √(4/d²) = 25 %, so 5× the expectation never fails by
// chance.
func TestFrechetSymmetricAndSampled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const d = 8
	a := Gaussian{Mean: make([]float64, d), Cov: randomSPD(rng, d, 0.1)}
	b := Gaussian{Mean: make([]float64, d), Cov: randomSPD(rng, d, 0.3)}
	ab, _ := Frechet(a, b)
	ba, _ := Frechet(b, a)
	if math.Abs(ab-ba) > 1e-9*ab {
		t.Errorf("F(a,b) = %v, F(b,a) = %v", ab, ba)
	}
	x, y := mat.New(20000, d), mat.New(20000, d)
	for i := range x.Data {
		x.Data[i], y.Data[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	f, err := Frechet(FitGaussian(x), FitGaussian(y))
	n := float64(x.R)
	expect := 2*d/n + 0.25*2*d*(d+1)/n
	t.Logf("two samples of N(0, I_8), n = 20000: %.5f (expected %.5f)", f, expect)
	if err != nil || f > 5*expect || f < expect/5 {
		t.Errorf("two samples of N(0, I_8): %v (%v), want within 5× of %.4f", f, err, expect)
	}
}

func TestCoverage(t *testing.T) {
	for _, tc := range []struct {
		name string
		pred []int
		want float64
	}{
		{"uniform", []int{0, 1, 2, 3, 0, 1, 2, 3}, math.Log(4)},
		{"one class", []int{2, 2, 2}, 0},
		{"half and half", []int{0, 0, 3, 3}, math.Log(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Coverage(tc.pred, 4)
			if math.Abs(c.Entropy-tc.want) > 1e-12 || c.Max != math.Log(4) {
				t.Errorf("entropy %v (max %v), want %v", c.Entropy, c.Max, tc.want)
			}
		})
	}
}
