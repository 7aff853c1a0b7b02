package metrics_test

import (
	"context"
	"fmt"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
)

func Example() {
	x := mat.NewFrom(3, 1, []float32{0, 1, 2})
	y := mat.NewFrom(3, 1, []float32{2.5, 0.5, 1.5}) // x + 0.5, shuffled
	w, _ := metrics.W2(context.Background(), x, y)
	fmt.Printf("W2 = %.3f\n", w)
	fmt.Println("explained 90%:", metrics.CountExplained([]float64{4, 3, 2, 1}, 0.9))
	// Output:
	// W2 = 0.500
	// explained 90%: 3
}
