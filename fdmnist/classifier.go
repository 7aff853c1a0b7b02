package fdmnist

import (
	"errors"
	"fmt"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// Pixels is the width of an MNIST image row, Classes the number of digits.
const (
	Pixels  = 784
	Classes = 10
)

// ErrNotClassifier is wrapped by Load's error for a safetensors file that
// holds some other network (a velocity field, a net for other data).
var ErrNotClassifier = errors.New("not an FD-MNIST classifier")

// Classifier is an MLP from 784 pixels in [0, 1] to 10 logits, without a
// time input; its last hidden layer gives the features of FD-MNIST.
type Classifier struct {
	Net *nn.Net
}

// check refuses a net that is not a classifier of MNIST images.
func check(n *nn.Net) error {
	c := n.Config()
	switch {
	case c.Dim != Pixels:
		return fmt.Errorf("%w: input width %d, want %d (28×28 MNIST pixels)", ErrNotClassifier, c.Dim, Pixels)
	case c.OutDim() != Classes:
		return fmt.Errorf("%w: %d outputs, want %d classes", ErrNotClassifier, c.OutDim(), Classes)
	case !c.NoTime || c.Arch != "mlp":
		return fmt.Errorf("%w: a %s net with a time input (a velocity field?), want an mlp without one", ErrNotClassifier, c.Arch)
	case len(c.Hidden) == 0:
		return fmt.Errorf("%w: no hidden layer to take features from", ErrNotClassifier)
	}
	return nil
}

// Load reads a classifier saved by Save; a file holding any other network
// is refused with an error wrapping ErrNotClassifier.
func Load(path string) (*Classifier, error) {
	n, err := nn.Load(path)
	if err != nil {
		return nil, fmt.Errorf("fdmnist: %w", err)
	}
	if err := check(n); err != nil {
		return nil, fmt.Errorf("fdmnist: %s: %w", path, err)
	}
	return &Classifier{Net: n}, nil
}

// Save writes the classifier as safetensors (its nn.Config in the
// metadata), atomically.
func (c *Classifier) Save(path string) error { return c.Net.Save(path) }

// FeatureDim is the width of the features (the last hidden layer).
func (c *Classifier) FeatureDim() int {
	h := c.Net.Config().Hidden
	return h[len(h)-1]
}

// checkImages panics when x is not a batch of MNIST rows.
func checkImages(x *mat.Dense) {
	if x.C != Pixels {
		panic(fmt.Sprintf("fdmnist: images %s, want N×%d", x.Shape(), Pixels))
	}
}

// Features returns the last hidden layer's activations for every row of x
// (N×784, pixels in [0, 1]): an N×FeatureDim matrix.
func (c *Classifier) Features(x *mat.Dense) *mat.Dense {
	checkImages(x)
	return c.Net.HiddenOf(x, len(c.Net.Config().Hidden)-1)
}

// Predict returns the most likely digit of every row of x.
func (c *Classifier) Predict(x *mat.Dense) []int {
	checkImages(x)
	logits := mat.New(x.R, Classes)
	c.Net.Apply(x, logits)
	pred := make([]int, x.R)
	for i := range pred {
		row := logits.Row(i)
		for j, v := range row {
			if v > row[pred[i]] {
				pred[i] = j
			}
		}
	}
	return pred
}

// Accuracy returns the fraction of rows of x whose predicted digit is
// their label.
func (c *Classifier) Accuracy(x *mat.Dense, labels []int) float64 {
	if len(labels) != x.R {
		panic(fmt.Sprintf("fdmnist: %d labels for %d rows", len(labels), x.R))
	}
	right := 0
	for i, p := range c.Predict(x) {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(max(x.R, 1))
}

// MinAccuracy is the least accuracy on MNIST digits that Verify accepts:
// chance is 0.1 and a linear model of the pixels reaches about 0.92, so a
// classifier of MNIST passes with a wide margin and one trained on other
// images or classes (a classifier of another data set) does not.
const MinAccuracy = 0.9

// Verify returns an error wrapping ErrNotClassifier, naming the accuracy,
// when c classifies the MNIST images x (with their labels) with accuracy
// below MinAccuracy: it was trained on another data set, or not trained.
func (c *Classifier) Verify(x *mat.Dense, labels []int) error {
	if acc := c.Accuracy(x, labels); !(acc >= MinAccuracy) {
		return fmt.Errorf("%w of MNIST digits: accuracy %.3f on %d MNIST test images, want ≥ %g (a classifier of another data set?)",
			ErrNotClassifier, acc, x.R, MinAccuracy)
	}
	return nil
}
