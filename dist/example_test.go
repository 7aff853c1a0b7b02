package dist_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

func Example() {
	s, err := dist.Parse("embedded:dim=4,rank=2,var=0.5")
	if err != nil {
		fmt.Println(err)
		return
	}
	x := mat.New(3, s.Dim())
	s.Sample(rand.New(rand.NewPCG(1, 2)), x)
	// The dead coordinates 2 and 3 are exactly zero.
	for i := 0; i < x.R; i++ {
		fmt.Println(x.At(i, 2), x.At(i, 3))
	}
	_, err = dist.Parse("gaussian:dim=4,variance=2")
	fmt.Println(err)
	// Output:
	// 0 0
	// 0 0
	// 0 0
	// bad distribution spec "gaussian:dim=4,variance=2": unknown parameter variance (gaussian takes dim, mean, var)
}
