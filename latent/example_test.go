package latent_test

import (
	"fmt"

	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
)

func Example() {
	// Points on the line y = 2x: one component holds all the variance.
	x := mat.NewFrom(4, 2, []float32{0, 0, 1, 2, 2, 4, 3, 6})
	p, err := latent.Fit(x, latent.Options{Fraction: 0.99})
	if err != nil {
		fmt.Println(err)
		return
	}
	z := p.Encode(x)
	y := p.Decode(z)
	fmt.Println("components kept:", p.K)
	fmt.Printf("explained: %.3f\n", p.Explained())
	fmt.Printf("x[3] back: %.3f %.3f\n", y.At(3, 0), y.At(3, 1))
	// Output:
	// components kept: 1
	// explained: 1.000
	// x[3] back: 3.000 6.000
}
