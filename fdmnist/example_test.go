package fdmnist_test

import (
	"fmt"

	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/mat"
)

// The classifier's loss: uniform logits over 10 classes cost log 10 per row.
func ExampleCrossEntropy() {
	labels := []int{3, 7}
	out, g := mat.New(2, fdmnist.Classes), mat.New(2, fdmnist.Classes)
	loss := fdmnist.CrossEntropy(labels)(0, out, g)
	fmt.Printf("loss per row %.6f, gradient at the label %.3f\n", loss/2, g.At(0, 3))
	// Output: loss per row 2.302585, gradient at the label -0.450
}
