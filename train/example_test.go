package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// Train a velocity field from N(0, ½I₂) to N(0, I₂) and compare its loss with
// the least achievable one.
func ExampleFit() {
	src, _ := dist.Parse("gaussian:dim=2,var=0.5")
	tgt, _ := dist.Parse("gaussian:dim=2,var=1")
	cfg := train.Config{Hidden: []int{32, 32}, Steps: 500, Batch: 256, LR: 5e-3, Schedule: "cosine", Seed: 1}
	res, err := train.Fit(context.Background(), src, tgt, cfg, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	loss, _, err := train.EvalLoss(context.Background(), res.Net, nil, res.Config, src, tgt, 50000, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	floor := exact.Isotropic(2, 0.5, 1).LossFloor()
	fmt.Println("steps:", len(res.Losses))
	fmt.Println("within 5% of the loss floor:", loss < 1.05*floor)
	// Output:
	// steps: 500
	// within 5% of the loss floor: true
}

// Carry points with a trained stochastic interpolant: the probability-flow
// ODE, then the SDE with ε(t) = Eps·γ(t)/max γ, recording the state at t = ½.
func ExampleModel_Sample() {
	src, _ := dist.Parse("gaussian:dim=2,var=0.5")
	tgt, _ := dist.Parse("gaussian:dim=2,var=1")
	cfg := train.Config{Hidden: []int{16, 16}, Gamma: "brownian", Steps: 50, Batch: 64, Seed: 1}
	res, err := train.Fit(context.Background(), src, tgt, cfg, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.New(100, 2)
	src.Sample(rng, x)
	ode, err := res.Sample(context.Background(), x.Clone(), train.SampleOptions{Solver: "rk4", NFE: 40}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	sde, err := res.Sample(context.Background(), x, train.SampleOptions{SDE: true, Eps: train.DefaultEps, NFE: 50, Record: []float64{0.5}}, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ODE evaluations:", ode.NFE)
	fmt.Println("SDE steps:", sde.Steps, "recorded at", sde.Times, "rows", sde.Path[0].R)
	// Output:
	// ODE evaluations: 40
	// SDE steps: 50 recorded at [0.5] rows 100
}
