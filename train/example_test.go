package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
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
