package latent_test

import (
	"context"
	"fmt"
	"os"

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

// An autoencoder of 4-D points to a 1-D latent, trained by flowlab's
// engine with squared error, saved as a map folder and read back.
func ExampleTrainAE() {
	x := mat.NewFrom(4, 4, []float32{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3})
	a, err := latent.TrainAE(context.Background(), x,
		latent.AEConfig{Latent: 1, Hidden: []int{8}, Loss: "mse"},
		latent.AEOptions{Steps: 10, Batch: 4, LR: 1e-2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "ae")
	defer os.RemoveAll(dir)
	if err := latent.SaveMap(dir, a); err != nil {
		fmt.Println(err)
		return
	}
	m, _ := latent.LoadMap(dir)
	z := m.Encode(x)
	fmt.Println("latent:", z.R, "×", z.C, "decoded:", m.Decode(z).C, "columns")
	// Output: latent: 4 × 1 decoded: 4 columns
}
