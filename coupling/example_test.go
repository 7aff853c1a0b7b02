package coupling_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/mat"
)

// Exact minibatch OT re-pairs x1's rows with x0's so that the total squared
// distance is least; x0 is never changed.
func Example() {
	cp, err := coupling.Parse("ot")
	if err != nil {
		panic(err)
	}
	x0 := mat.NewFrom(2, 1, []float32{0, 1})
	x1 := mat.NewFrom(2, 1, []float32{3, -1})
	if err := cp.Couple(context.Background(), rand.New(rand.NewPCG(1, 2)), x0, x1); err != nil {
		panic(err)
	}
	fmt.Println(cp, "paired x1:", x1.Data)
	// Output:
	// ot paired x1: [-1 3]
}
