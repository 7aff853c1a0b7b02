package diagnose_test

import (
	"context"
	"fmt"

	"github.com/flowlab/flowlab/diagnose"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// The field v(x, t) = 2x stretches every direction at rate 2: ∂v/∂x = 2I,
// and the flow map over [0, 1] is e²·I, whose log-determinant in 3
// dimensions is 6.
func Example() {
	scale := func(x, out *mat.Dense) {
		for i, v := range x.Data {
			out.Data[i] = 2 * v
		}
	}
	f := solve.JVPFieldFunc{D: 3,
		F: func(_ float64, x, out *mat.Dense) { scale(x, out) },
		J: func(_ float64, x, dx, out, dout *mat.Dense) { scale(x, out); scale(dx, dout) }}
	x0 := mat.NewFrom(2, 3, []float32{1, 0, 0, 0, 1, 2})
	rep, err := diagnose.Run(context.Background(), f, x0, diagnose.Options{
		Solve: solve.Options{Method: solve.RK4, Steps: 100}, Times: []float64{0, 1}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("σ₁(∂v/∂x) = %.3f, largest at t = %g\n", rep.MaxLip.Value, rep.MaxLip.T)
	fmt.Printf("flow map: σ₁ = %.3f, log det = %.3f (likelihood integral %.3f)\n",
		rep.FlowMap.Sigma[0].Median, rep.FlowMap.LogDet.Median, rep.DivInt.Median)
	// Output:
	// σ₁(∂v/∂x) = 2.000, largest at t = 0
	// flow map: σ₁ = 7.389, log det = 6.000 (likelihood integral 6.000)
}
