package interp_test

import (
	"fmt"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
)

// Build one training batch for the linear interpolant with a Brownian γ:
// inputs x_t, drift targets b and denoiser targets η = z.
func Example() {
	ip, err := interp.New("linear", "brownian:a=0.5")
	if err != nil {
		panic(err)
	}
	c := ip.Coeffs(0.5)
	fmt.Printf("%s: at t=½ α=%.3f β=%.3f γ=%.3f α'=%.0f β'=%.0f γ'=%.0f\n", ip, c.A, c.B, c.G, c.DA, c.DB, c.DG)
	lo, hi := ip.TRange()
	fmt.Printf("training times drawn from [%g, %g]\n", lo, hi)

	x0 := mat.NewFrom(2, 1, []float32{0, 1})
	x1 := mat.NewFrom(2, 1, []float32{3, -1})
	z := mat.NewFrom(2, 1, []float32{0.5, 0})
	t := []float32{0.5, 0.25}
	xt, b, eta := mat.New(2, 1), mat.New(2, 1), mat.New(2, 1)
	ip.Batch(x0, x1, z, t, xt, b, eta)
	fmt.Printf("x_t %.3f, b %.3f, η %.1f\n", xt.Data, b.Data, eta.Data)

	// Output:
	// linear+brownian:a=0.5: at t=½ α=0.500 β=0.500 γ=0.354 α'=-1 β'=1 γ'=0
	// training times drawn from [0.001, 0.999]
	// x_t [1.677 0.500], b [3.000 -2.000], η [0.5 0.0]
}
