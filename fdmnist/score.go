package fdmnist

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
)

// Reference is the Gaussian fit of a reference sample's features (the test
// split, usually), computed once and scored against many samples.
type Reference struct {
	Gauss metrics.Gaussian
	N     int // rows fitted
}

// Reference fits the features of the rows of ref (N×784, N ≥ 2).
func (c *Classifier) Reference(ref *mat.Dense) (*Reference, error) {
	if ref.R < 2 || ref.C != Pixels {
		return nil, fmt.Errorf("fdmnist: reference of %s images, want at least 2 rows of %d pixels", ref.Shape(), Pixels)
	}
	return &Reference{Gauss: metrics.FitGaussian(c.Features(ref)), N: ref.R}, nil
}

// Score is a sample's FD-MNIST against a reference and its class coverage.
type Score struct {
	FD       float64               `json:"fd_mnist"`
	N        int                   `json:"n"`
	Coverage metrics.ClassCoverage `json:"class_coverage"`
}

// Score returns FD-MNIST of the rows of x (N×784, pixels in [0, 1], N ≥ 2)
// against ref, and the coverage of the classes the classifier predicts for
// them. The same inputs give the same bits.
func (c *Classifier) Score(x *mat.Dense, ref *Reference) (Score, error) {
	if x.R < 2 || x.C != Pixels {
		return Score{}, fmt.Errorf("fdmnist: score of %s images, want at least 2 rows of %d pixels", x.Shape(), Pixels)
	}
	fd, err := metrics.Frechet(metrics.FitGaussian(c.Features(x)), ref.Gauss)
	if err != nil {
		return Score{}, fmt.Errorf("fdmnist: %w", err)
	}
	return Score{FD: fd, N: x.R, Coverage: metrics.Coverage(c.Predict(x), Classes)}, nil
}
