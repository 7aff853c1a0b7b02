package train

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// ScoreFromVelocity returns the score ∇log p_t of the interpolant's marginals
// computed from its velocity field alone, when γ ≡ 0 and the source is
// Gaussian, x0 ~ N(0, sigma2·I). Then x_t = A·x0 + B·x1 and
// v = DA·E[x0|x_t] + DB·E[x1|x_t], so
//
//	E[x0 | x_t = x] = (DB·x − B·v)/(A·DB − B·DA),   s = −E[x0 | x_t = x]/(A·sigma2)
//
// (for the linear interpolant s = −(x − t·v)/((1−t)·sigma2)). This lets a
// trained velocity field drive the SDE without a denoiser. The score is
// singular at t = 1 (A = 0), where Eval writes NaN: choose ε(t) that vanishes
// there or stop short of 1. It is an error when γ ≠ 0 or sigma2 ≤ 0.
func ScoreFromVelocity(ip interp.Interpolant, v solve.Field, sigma2 float64) (solve.Field, error) {
	if !ip.Gamma.Zero() {
		return nil, fmt.Errorf("train: the score follows from the velocity only when γ ≡ 0; %s needs a denoiser", ip)
	}
	if !(sigma2 > 0) || math.IsInf(sigma2, 0) {
		return nil, fmt.Errorf("train: source variance %v must be a finite number > 0", sigma2)
	}
	if err := ip.Validate(); err != nil {
		return nil, err
	}
	return &velocityScore{ip: ip, v: v, sigma2: sigma2}, nil
}

type velocityScore struct {
	ip     interp.Interpolant
	v      solve.Field
	sigma2 float64
}

func (s *velocityScore) Dim() int { return s.v.Dim() }

func (s *velocityScore) Eval(t float64, x, out *mat.Dense) {
	s.v.Eval(t, x, out)
	c := s.ip.Coeffs(t)
	det := c.A*c.DB - c.B*c.DA
	den := det * c.A * s.sigma2
	if den == 0 {
		for i := range out.Data {
			out.Data[i] = float32(math.NaN())
		}
		return
	}
	kx, kv := float32(-c.DB/den), float32(c.B/den)
	for i, xv := range x.Data {
		out.Data[i] = kx*xv + kv*out.Data[i]
	}
}
