package plot_test

import (
	"fmt"

	"github.com/flowlab/flowlab/plot"
)

// Histogram returns densities on the scale of a probability density, so a
// density curve can be drawn over the bars.
func ExampleHistogram() {
	edges, density := plot.Histogram([]float64{0.1, 0.2, 0.7, 1.5}, 0, 2, 4)
	fmt.Println(edges)
	fmt.Println(density)
	// Output:
	// [0 0.5 1 1.5 2]
	// [1 0.5 0 0.5]
}
