package exact_test

import (
	"fmt"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
)

// The exact field, flow map and loss floor for N(0, ½I) → N(0, I), and the law
// of the norms at each end.
func Example() {
	g := exact.Isotropic(8, 0.5, 1)
	x := mat.New(1, 8)
	x.Data[0] = 1
	v := mat.New(1, 8)
	g.Eval(0.5, x, v)
	fmt.Printf("v*(e1, ½) = %.4f·e1\n", v.Data[0])
	fmt.Printf("flow map of 1: %.4f\n", g.Flow([]float64{1, 0, 0, 0, 0, 0, 0, 0}, 0, 1, nil)[0])
	fmt.Printf("loss floor: %.4f (%.4f per dimension)\n", g.LossFloor(), g.LossFloor()/8)
	src, _ := exact.NewChi(8, 0.7071067811865476)
	fmt.Printf("‖x0‖ ~ √½·Chi(8): mean %.3f, sd %.3f; ‖x1‖ ~ Chi(8): mean %.3f\n", src.Mean(), src.Std(), exact.Chi{K: 8}.Mean())
	// Output:
	// v*(e1, ½) = 0.6667·e1
	// flow map of 1: 1.4142
	// loss floor: 8.8858 (1.1107 per dimension)
	// ‖x0‖ ~ √½·Chi(8): mean 1.939, sd 0.492; ‖x1‖ ~ Chi(8): mean 2.742
}
