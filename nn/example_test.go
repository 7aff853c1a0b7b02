package nn_test

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// A velocity field on R², its output for a batch of two points, and one
// gradient step's worth of backward pass.
func Example() {
	net, err := nn.New(nn.Config{Dim: 2, Hidden: []int{64, 64}, Act: "silu"}, 1)
	if err != nil {
		panic(err)
	}
	x := mat.NewFrom(2, 2, []float32{0.5, -1, 2, 0})
	t := []float32{0, 0.5}
	v := net.Forward(x, t) // 2×2, owned by net

	// Loss ½‖v‖²: its gradient with respect to v is v itself.
	net.ZeroGrad()
	gx := net.Backward(v.Clone(), true)

	fmt.Println("parameters:", len(net.Params()))
	fmt.Println("v:", v.Shape(), "dL/dx:", gx.Shape())
	// Output:
	// parameters: 4546
	// v: 2×2 dL/dx: 2×2
}
