package fdmnist

import (
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
)

// Noise returns a copy of the images x (N×784) with independent N(0, σ²)
// noise added to every pixel, clamped to [0, 1]: the corruption under which
// FD-MNIST must grow with σ.
func Noise(x *mat.Dense, sigma float64, rng *rand.Rand) *mat.Dense {
	checkImages(x)
	out := mat.New(x.R, x.C)
	for i, v := range x.Data {
		out.Data[i] = float32(min(max(float64(v)+sigma*rng.NormFloat64(), 0), 1))
	}
	return out
}

// Blur returns a copy of the images x (N×784, 28×28 row-major) blurred by a
// Gaussian of standard deviation sigma pixels (kernel truncated at 3σ,
// normalised, pixels beyond the border read as the nearest edge pixel),
// applied along rows then columns in float64. sigma 0 copies x.
func Blur(x *mat.Dense, sigma float64) *mat.Dense {
	checkImages(x)
	out := mat.New(x.R, x.C)
	if sigma <= 0 {
		copy(out.Data, x.Data)
		return out
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var s float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	const side = 28
	var a, b [side * side]float64
	for n := 0; n < x.R; n++ {
		for i, v := range x.Row(n) {
			a[i] = float64(v)
		}
		conv(&a, &b, k, 1, side) // along rows
		conv(&b, &a, k, side, 1) // along columns
		for i, v := range a {
			out.Data[n*side*side+i] = float32(v)
		}
	}
	return out
}

// conv writes into dst the 1-D convolution of every line of src with k:
// pixel (i, j) at i·outer + j·step, the kernel running along j.
func conv(src, dst *[784]float64, k []float64, step, outer int) {
	const side = 28
	r := len(k) / 2
	for i := 0; i < side; i++ {
		for j := 0; j < side; j++ {
			var s float64
			for t, w := range k {
				jj := min(max(j+t-r, 0), side-1)
				s += w * src[i*outer+jj*step]
			}
			dst[i*outer+j*step] = s
		}
	}
}
