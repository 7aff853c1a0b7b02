package fdmnist

import (
	"math"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// CrossEntropy returns the softmax cross-entropy of a batch of logits
// against labels (labels[i] the class of the batch's row i) as an
// nn.LossFunc: for rows [r0, r0+out.R) it returns Σ −log softmax(out)[label]
// (float64) and writes the gradient of the batch mean,
// (softmax(out) − onehot)/len(labels), into g.
func CrossEntropy(labels []int) nn.LossFunc {
	inv := 1 / float64(len(labels))
	return func(r0 int, out, g *mat.Dense) float64 {
		var loss float64
		for i := 0; i < out.R; i++ {
			row, gr := out.Row(i), g.Row(i)
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(v))
			}
			var s float64
			for _, v := range row {
				s += math.Exp(float64(v) - m)
			}
			lse := m + math.Log(s)
			y := labels[r0+i]
			loss += lse - float64(row[y])
			for j, v := range row {
				p := math.Exp(float64(v) - lse)
				if j == y {
					p--
				}
				gr[j] = float32(p * inv)
			}
		}
		return loss
	}
}
