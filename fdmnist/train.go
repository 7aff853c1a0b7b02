package fdmnist

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/optim"
)

// TrainOptions choose the classifier's network and its training.
type TrainOptions struct {
	Hidden   []int   // hidden widths; the last is the feature width
	Steps    int     // Adam steps
	Batch    int     // rows per step, drawn with replacement
	LR       float64 // peak learning rate (cosine schedule to 1 % of it)
	Seed     uint64  // initialisation and batches
	Progress io.Writer
}

// DefaultTrainOptions are the options of the cached classifier: 784 → 512
// → 128 → 10 (128 features), SiLU, 6000 steps of 256 images (26 epochs).
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Hidden: []int{512, 128}, Steps: 6000, Batch: 256, LR: 1e-3, Seed: 1}
}

// trainStream separates the classifier's batches from other streams.
const trainStream = 0x66646d6e697374 // "fdmnist"

// Train fits a classifier to the rows of x (N×784, pixels in [0, 1]) and
// their labels (0..9). The result depends on the options and the data
// alone, not on GOMAXPROCS. It returns an error for bad options or data and
// ctx's error when cancelled.
func Train(ctx context.Context, x *mat.Dense, labels []int, o TrainOptions) (*Classifier, error) {
	if x.C != Pixels || len(labels) != x.R || x.R == 0 {
		return nil, fmt.Errorf("fdmnist: train on %s images with %d labels, want N×%d and N labels", x.Shape(), len(labels), Pixels)
	}
	if o.Steps < 1 || o.Batch < 1 || o.LR <= 0 || len(o.Hidden) == 0 {
		return nil, fmt.Errorf("fdmnist: train options %+v: want steps, batch, lr > 0 and a hidden layer", o)
	}
	for i, l := range labels {
		if l < 0 || l >= Classes {
			return nil, fmt.Errorf("fdmnist: label %d of row %d is not a digit", l, i)
		}
	}
	net, err := nn.New(nn.Config{Dim: Pixels, Hidden: o.Hidden, Out: Classes, NoTime: true}, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("fdmnist: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, trainStream))
	opt := optim.NewAdam(len(net.Params()))
	sched := optim.Cosine(o.Steps, 0.01)
	xb, yb, tb := mat.New(o.Batch, Pixels), make([]int, o.Batch), make([]float32, o.Batch)
	loss := CrossEntropy(yb)
	for s := 0; s < o.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range yb {
			r := rng.IntN(x.R)
			copy(xb.Row(i), x.Row(r))
			yb[i] = labels[r]
		}
		net.ZeroGrad()
		lr := float32(o.LR * sched(s))
		l := net.GradUpdate(xb, tb, loss, opt.StepBlocks(net.Params(), net.Grads(), lr)) / float64(o.Batch)
		if o.Progress != nil && (s+1)%500 == 0 {
			fmt.Fprintf(o.Progress, "fdmnist: step %d/%d, loss %.4f\n", s+1, o.Steps, l)
		}
	}
	return &Classifier{Net: net}, nil
}
