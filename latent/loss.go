package latent

import (
	"math"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// BCEWithLogits returns the binary cross-entropy of logits against target
// pixels in [0, 1] (target's row i for the batch's row i) as an
// nn.LossFunc: for rows [r0, r0+out.R) it returns
// Σ softplus(z) − x·z (float64, the per-pixel cross-entropy of sigmoid(z)
// against x) and writes the gradient of the batch mean, (sigmoid(z) − x)/B,
// into g, B = target.R.
func BCEWithLogits(target *mat.Dense) nn.LossFunc {
	inv := 1 / float64(target.R)
	return func(r0 int, out, g *mat.Dense) float64 {
		d := out.C
		tg := target.Data[r0*d : r0*d+len(out.Data)]
		var loss float64
		for i, v := range out.Data {
			z, x := float64(v), float64(tg[i])
			// softplus(z) = max(z, 0) + log1p(e^−|z|), without overflow.
			loss += math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - x*z
			g.Data[i] = float32((sigmoid(z) - x) * inv)
		}
		return loss
	}
}

// MSE returns Σ‖out − target‖² over rows [r0, r0+out.R) as an nn.LossFunc,
// with the gradient of the batch mean, 2(out − target)/B, B = target.R.
func MSE(target *mat.Dense) nn.LossFunc {
	inv := 2 / float64(target.R)
	return func(r0 int, out, g *mat.Dense) float64 {
		d := out.C
		tg := target.Data[r0*d : r0*d+len(out.Data)]
		var loss float64
		for i, v := range out.Data {
			e := float64(v) - float64(tg[i])
			loss += e * e
			g.Data[i] = float32(e * inv)
		}
		return loss
	}
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
