package assign_test

import (
	"context"
	"fmt"

	"github.com/flowlab/flowlab/assign"
)

// Pair three workers with three jobs at the least total cost.
func Example() {
	cost := []float64{
		4, 1, 3,
		2, 0, 5,
		3, 2, 2,
	}
	var lap assign.LAP
	p, err := lap.Solve(context.Background(), 3, cost, nil)
	if err != nil {
		panic(err)
	}
	total := 0.0
	for i, j := range p {
		total += cost[i*3+j]
	}
	fmt.Println("assignment:", p, "cost:", total)
	// Output:
	// assignment: [1 0 2] cost: 5
}
