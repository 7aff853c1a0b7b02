package solve_test

import (
	"context"
	"fmt"
	"math"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// Carry a point of N(0, ½) to N(0, 2) along the exact field and back, and
// compute its log-likelihood under the flow.
func Example() {
	g := exact.Isotropic(1, 0.5, 2) // flow map x ↦ 2x
	ctx := context.Background()
	x := mat.NewFrom(1, 1, []float32{0.3})
	res, _ := solve.Integrate(ctx, g, x, solve.Options{Method: solve.RK4, Steps: 50})
	fmt.Printf("forward: %.5f after %d evaluations\n", x.Data[0], res.NFE)
	_, _ = solve.Integrate(ctx, g, x, solve.Options{Method: solve.Dopri5, Backward: true, RTol: 1e-6, ATol: 1e-6})
	fmt.Printf("back: %.5f\n", x.Data[0])

	y := mat.NewFrom(1, 1, []float32{0.6})
	logp0 := func(x0 []float32) float64 { return g.LogDensity(0, []float64{float64(x0[0])}) }
	ll, _, _ := solve.LogLikelihood(ctx, g, y, logp0, solve.LikOptions{Options: solve.Options{Method: solve.RK4, Steps: 50}})
	fmt.Printf("log p1(0.6) = %.4f (closed form %.4f)\n", ll[0], -0.5*math.Log(2*math.Pi*2)-0.36/4)
	// Output:
	// forward: 0.60000 after 200 evaluations
	// back: 0.30000
	// log p1(0.6) = -1.3555 (closed form -1.3555)
}
