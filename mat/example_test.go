package mat_test

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
)

// Multiply a 2×3 matrix by the transpose of a 2×3 matrix, then apply a bias
// and ReLU as an MLP layer does.
func Example() {
	x := mat.NewFrom(2, 3, []float32{1, 2, 3, 4, 5, 6})
	w := mat.NewFrom(2, 3, []float32{1, 0, -1, 0.5, 0.5, 0.5})
	z := mat.New(2, 2)
	mat.Gemm(false, true, 1, x, w, 0, z) // z = x·wᵀ
	fmt.Println(z.Data)
	out := mat.New(2, 2)
	mat.BiasAct(mat.ReLU, z, []float32{1, -10}, out)
	fmt.Println(out.Data)
	// Output:
	// [-2 3 -2 7.5]
	// [0 0 0 0]
}

// Force the pure-Go kernels, as FLOWLAB_KERNEL=generic would.
func ExampleSetKernel() {
	restore, err := mat.SetKernel(mat.Generic)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer restore()
	fmt.Println(mat.CurrentKernel())
	// Output: generic
}
