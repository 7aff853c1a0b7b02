package metrics

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
)

// ColVars returns the sample variance of each column of x (divisor n − 1),
// in float64: the per-coordinate law of a sample, which shows a flow that
// creates too little or too much variation in some directions. Each column's
// mean is summed first, then the squared deviations, in row order. It panics
// when x has fewer than two rows.
func ColVars(x *mat.Dense) []float64 {
	if x.R < 2 {
		panic(fmt.Sprintf("metrics: ColVars of %s: want at least two rows", x.Shape()))
	}
	v := make([]float64, x.C)
	for j := range v {
		var m float64
		for i := 0; i < x.R; i++ {
			m += float64(x.At(i, j))
		}
		m /= float64(x.R)
		var s float64
		for i := 0; i < x.R; i++ {
			d := float64(x.At(i, j)) - m
			s += d * d
		}
		v[j] = s / float64(x.R-1)
	}
	return v
}
