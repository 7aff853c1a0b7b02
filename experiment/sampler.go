package experiment

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

// sampler pushes points through a trained field: the ODE for a
// deterministic interpolant, the SDE with ε(t) = γ(t)² for a stochastic one.
type sampler struct {
	name  string
	res   *train.Result
	ip    interp.Interpolant
	steps int
	ode   bool // force the probability-flow ODE even for γ > 0
}

// newSampler returns the sampler for a training result; sdeSteps is the
// number of Euler–Maruyama steps used when the interpolant is stochastic.
func newSampler(res *train.Result, sdeSteps int) (*sampler, error) {
	ip, err := res.Config.Interpolant()
	if err != nil {
		return nil, err
	}
	s := &sampler{name: "ode", res: res, ip: ip, steps: sdeSteps}
	if res.Eta != nil {
		s.name = fmt.Sprintf("sde (ε = γ², %d Euler–Maruyama steps)", sdeSteps)
	}
	return s, nil
}

// probabilityFlow returns the sampler that integrates the drift alone, the
// probability-flow ODE of the same interpolant.
func (s *sampler) probabilityFlow() *sampler {
	c := *s
	c.ode, c.name = true, "ode (probability flow)"
	return &c
}

// push carries a copy of x from t = 0 to 1 (or back when backward).
//
// For a stochastic interpolant the SDE dX = (b ± ε s) dt + √(2ε) dW uses
// ε(t) = γ(t)², so that ε·s = −γ·η stays finite where γ → 0 and the noise
// fades out at both ends, where the marginals are the data.
func (s *sampler) push(ctx context.Context, x *mat.Dense, backward bool, rng *rand.Rand) (*mat.Dense, error) {
	if s.res.Eta == nil || s.ode {
		return flow(ctx, s.res.Net, x, backward)
	}
	y := x.Clone()
	score := solve.ScoreFromDenoiser(s.res.Eta, s.ip.NoiseScale)
	eps := func(t float64) float64 { g := s.ip.NoiseScale(t); return g * g }
	_, err := solve.IntegrateSDE(ctx, s.res.Net, score, y, rng, solve.SDEOptions{Steps: s.steps, Backward: backward, Eps: eps})
	return y, err
}
