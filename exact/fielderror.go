package exact

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
)

// BatchField is a field evaluated with one time per row, as nn.Net.Forward
// is: it returns f(x_i, t_i) in row i of a matrix that may be its own buffer
// (read before the next call).
type BatchField func(x *mat.Dense, t []float32) *mat.Dense

// FieldError is how far a learned drift f is from the exact one b, estimated
// on N training draws (x0, x1, z, t) of the field's interpolant.
type FieldError struct {
	N int
	// Loss is the flow-matching loss E‖f(x_t, t) − ẋ_t‖² and LossSE its
	// standard error; LossFloor is its least value, reached by f = b.
	Loss, LossSE float64
	// MSE is E‖f − b‖², the excess of Loss over the floor (the loss
	// decomposes as E‖f − ẋ_t‖² = E‖b − ẋ_t‖² + E‖f − b‖²).
	MSE float64
	// RelL2 is the relative L2 error √(Σ‖f − b‖² / Σ‖b‖²).
	RelL2 float64
}

// fieldErrorChunk is how many draws FieldError builds at once.
const fieldErrorChunk = 512

// FieldError measures f against the exact drift on n draws made as training
// makes them, fieldErrorChunk at a time: x0 from the source law, x1 from
// the target law (row by row, coordinate j as float32(μ_j + σ_j·N(0,1)), the
// bits of dist.Gaussian's draws), z ~ N(0, I) when γ ≠ 0, t by
// Interp.SampleT, and x_t and ẋ_t by Interp.Batch. f is evaluated on each
// chunk, b in float64 (Eval64) on the float32 x_t. It panics when n < 2.
func (g *GaussianField) FieldError(f BatchField, rng *rand.Rand, n int) FieldError {
	if n < 2 {
		panic(fmt.Sprintf("exact: FieldError: %d draws, want at least 2", n))
	}
	d, ip := g.Dim(), g.Interp
	var sum, sum2, num, den float64
	ex, xr := make([]float64, d), make([]float64, d)
	for done := 0; done < n; done += fieldErrorChunk {
		m := min(fieldErrorChunk, n-done)
		x0, x1 := g.draw(g.Mu0, g.Var0, m, rng), g.draw(g.Mu1, g.Var1, m, rng)
		var z *mat.Dense
		if !ip.Gamma.Zero() {
			z = mat.New(m, d)
			interp.FillNormal(rng, z)
		}
		t := make([]float32, m)
		ip.SampleT(rng, t)
		xt, dot := mat.New(m, d), mat.New(m, d)
		ip.Batch(x0, x1, z, t, xt, dot, nil)
		v := f(xt, t)
		for i := range m {
			for j, x := range xt.Row(i) {
				xr[j] = float64(x)
			}
			g.Eval64(float64(t[i]), xr, ex)
			vr, dr := v.Row(i), dot.Row(i)
			var l float64
			for j := range d {
				dl := float64(vr[j]) - float64(dr[j])
				l += dl * dl
				e := float64(vr[j]) - ex[j]
				num += e * e
				den += ex[j] * ex[j]
			}
			sum += l
			sum2 += l * l
		}
	}
	loss := sum / float64(n)
	return FieldError{N: n, Loss: loss, LossSE: math.Sqrt((sum2/float64(n) - loss*loss) / float64(n-1)),
		MSE: num / float64(n), RelL2: math.Sqrt(num / den)}
}

// draw returns n draws of N(mu, diag(v)), row by row.
func (g *GaussianField) draw(mu, v []float64, n int, rng *rand.Rand) *mat.Dense {
	d := len(mu)
	sd := make([]float64, d)
	for j, vj := range v {
		sd[j] = math.Sqrt(vj)
	}
	x := mat.New(n, d)
	for i := range n {
		row := x.Row(i)
		for j := range row {
			row[j] = float32(mu[j] + sd[j]*rng.NormFloat64())
		}
	}
	return x
}
