package experiment

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// sampler pushes points through a trained field with train's one sampler
// (Model.Sample): the ODE (RK4, flowSteps steps) for a deterministic
// interpolant, the SDE (Euler–Maruyama, ε(t) = train.DefaultEps·γ(t)/max γ:
// train.Diffusion) for a stochastic one.
type sampler struct {
	name string
	res  *train.Result
	opts train.SampleOptions
}

// newSampler returns the sampler for a training result; sdeSteps is the
// number of Euler–Maruyama steps used when the interpolant is stochastic.
func newSampler(res *train.Result, sdeSteps int) (*sampler, error) {
	if _, err := res.Config.Interpolant(); err != nil {
		return nil, err
	}
	s := &sampler{name: "ode", res: res, opts: train.SampleOptions{Solver: "rk4", NFE: 4 * flowSteps}}
	if res.Eta != nil {
		s = sdeSampler(res, train.DefaultEps, sdeSteps)
	}
	return s, nil
}

// sdeSampler returns the SDE sampler of a training with a denoiser, with
// ε(t) = eps·γ(t)/max γ and sdeSteps Euler–Maruyama steps.
func sdeSampler(res *train.Result, eps float64, sdeSteps int) *sampler {
	return &sampler{res: res, opts: train.SampleOptions{SDE: true, Solver: "euler-maruyama", NFE: sdeSteps, Eps: eps},
		name: fmt.Sprintf("sde (ε = %g·γ/max γ, %d Euler–Maruyama steps)", eps, sdeSteps)}
}

// pfName names the probability-flow ODE of a stochastic interpolant's
// training (rankRun.Sampler).
const pfName = "ode (probability flow)"

// probabilityFlow returns the sampler that integrates the drift alone, the
// probability-flow ODE of the same interpolant.
func (s *sampler) probabilityFlow() *sampler {
	return &sampler{name: pfName, res: s.res, opts: train.SampleOptions{Solver: "rk4", NFE: 4 * flowSteps}}
}

// push carries a copy of x from t = 0 to 1 (or back when backward).
func (s *sampler) push(ctx context.Context, x *mat.Dense, backward bool, rng *rand.Rand) (*mat.Dense, error) {
	y := x.Clone()
	o := s.opts
	o.Backward = backward
	_, err := s.res.Sample(ctx, y, o, rng)
	return y, err
}
