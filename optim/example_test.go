package optim_test

import (
	"fmt"

	"github.com/flowlab/flowlab/optim"
)

// Minimise f(p) = ½‖p − (3, −1)‖² with Adam under a warm-up + cosine schedule,
// averaging the weights with an EMA.
func Example() {
	p := []float32{0, 0}
	g := make([]float32, 2)
	opt := optim.NewAdam(len(p))
	sched := optim.WarmupCosine(20, 500, 0.01)
	ema := optim.NewEMA(p, 0.9)
	for step := 0; step < 500; step++ {
		g[0], g[1] = p[0]-3, p[1]+1 // ∇f
		optim.ClipGlobalNorm(g, 10)
		opt.Step(p, g, float32(0.1*sched(step)))
		ema.Update(p)
	}
	fmt.Printf("p = (%.3f, %.3f), EMA = (%.3f, %.3f)\n", p[0], p[1], ema.Shadow[0], ema.Shadow[1])
	// Output:
	// p = (3.000, -1.000), EMA = (3.000, -1.000)
}
