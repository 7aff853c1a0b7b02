package train_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// TestReflow checks reflow pairs against the exact flow map: with the exact
// Gaussian field, x1 must be x0's image under x ↦ √(b/a)·x (RK4, 100 steps;
// bound 1e-5 for float32 state).
func TestReflow(t *testing.T) {
	g := exact.Isotropic(3, 0.5, 2)
	rng := rand.New(rand.NewPCG(13, 14))
	x0, x1 := mat.New(10, 3), mat.New(10, 3)
	interp.FillNormal(rng, x0)
	r := &train.Reflow{Field: g}
	if err := r.Couple(context.Background(), rng, x0, x1); err != nil {
		t.Fatal(err)
	}
	for i := range x0.Data {
		if d := math.Abs(float64(x1.Data[i]) - 2*float64(x0.Data[i])); !(d <= 1e-5) {
			t.Fatalf("entry %d: reflow %v, flow map %v", i, x1.Data[i], 2*x0.Data[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Couple(ctx, rng, x0, x1); err == nil {
		t.Error("cancelled reflow: no error")
	}
	if err := (&train.Reflow{}).Couple(context.Background(), rng, x0, x1); err == nil {
		t.Error("reflow without a field: no error")
	}
}

// TestScoreFromVelocity checks the velocity-to-score identity on the exact
// Gaussian field from N(0, σ²I): the derived score must equal the closed-form
// score −(x − m_t)/s_t² for the linear and trig paths, and γ ≠ 0 must be
// refused. The formula divides a float32 difference by A(t), so the bound is
// 2e-6/A(t) relative (float32 rounding of the O(1) velocity, amplified).
func TestScoreFromVelocity(t *testing.T) {
	for _, p := range []interp.Path{interp.Linear, interp.Trig, interp.OneSided} {
		ip := interp.Interpolant{Path: p}
		g, err := exact.NewGaussianField([]float64{0, 0}, []float64{0.7, 0.7}, []float64{1, -2}, []float64{2, 0.3}, ip)
		if err != nil {
			t.Fatal(err)
		}
		s, err := train.ScoreFromVelocity(ip, g, 0.7)
		if err != nil {
			t.Fatal(err)
		}
		x := mat.NewFrom(2, 2, []float32{0.3, -1, 2, 0.5})
		got, want := mat.New(2, 2), mat.New(2, 2)
		for _, tt := range []float64{0, 0.3, 0.8, 0.99} {
			s.Eval(tt, x, got)
			g.Score(tt, x, want)
			for i := range got.Data {
				tol := 2e-6 / ip.Coeffs(tt).A * math.Max(1, math.Abs(float64(want.Data[i])))
				if d := math.Abs(float64(got.Data[i] - want.Data[i])); !(d <= tol) {
					t.Errorf("%s t=%v: score %v, closed form %v", ip, tt, got.Data, want.Data)
					break
				}
			}
		}
	}
	if _, err := train.ScoreFromVelocity(interp.Interpolant{Gamma: interp.Gamma{Shape: interp.BSquared, A: 1}}, exact.Isotropic(1, 1, 1), 1); err == nil {
		t.Error("γ ≠ 0: no error")
	}
}
