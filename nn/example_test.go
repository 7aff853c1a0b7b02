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

// One training step's gradient through Grad: the loss ½‖v(x, t) − y‖² over
// a batch of 1024 points, which Grad cuts into 4 fixed shards of 256 rows
// and works on the available cores (the gradient's bits do not depend on
// how many). The loss function sees each shard's rows and their offset.
func ExampleNet_Grad() {
	net, err := nn.New(nn.Config{Dim: 2, Hidden: []int{64, 64}}, 1)
	if err != nil {
		panic(err)
	}
	const b = 1024
	x, y := mat.New(b, 2), mat.New(b, 2)
	t := make([]float32, b)
	for i := 0; i < b; i++ {
		x.Set(i, 0, float32(i%32)/16-1)
		x.Set(i, 1, float32(i/32)/16-1)
		y.Set(i, 0, -x.At(i, 1)) // a rotation field
		y.Set(i, 1, x.At(i, 0))
		t[i] = float32(i%10) / 10
	}
	loss := func(r0 int, out, g *mat.Dense) float64 {
		var l float64
		for i, v := range out.Data {
			e := v - y.Data[r0*2+i]
			g.Data[i] = e
			l += 0.5 * float64(e) * float64(e)
		}
		return l
	}
	net.ZeroGrad()
	l := net.Grad(x, t, loss)
	var norm float64
	for _, g := range net.Grads() {
		norm += float64(g) * float64(g)
	}
	fmt.Printf("loss > 0: %v, gradient non-zero: %v\n", l > 0, norm > 0)
	// Output:
	// loss > 0: true, gradient non-zero: true
}
