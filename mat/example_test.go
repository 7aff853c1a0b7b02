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

// Pack a layer's weights once and apply the layer to two batches, as nn's
// Eval does for its row chunks: the same bits as GemmBiasAct from w itself.
func ExamplePack() {
	w := mat.NewFrom(2, 3, []float32{1, 0, -1, 0.5, 0.5, 0.5}) // out×in
	var p mat.Packed
	mat.Pack(true, w, &p) // op(B) = wᵀ
	bias := []float32{1, -10}
	for _, x := range []*mat.Dense{
		mat.NewFrom(1, 3, []float32{1, 2, 3}),
		mat.NewFrom(1, 3, []float32{4, 5, 6}),
	} {
		pre, out := mat.New(1, 2), mat.New(1, 2)
		mat.Threads(1).GemmBiasActPacked(x, &p, bias, mat.Identity, pre, out)
		fmt.Println(out.Data)
	}
	// Output:
	// [-1 -7]
	// [-1 -2.5]
}
