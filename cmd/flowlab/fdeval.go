package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// fdFlags are the FD-MNIST flags of eval and compare.
type fdFlags struct {
	on                   bool
	classifier, mnistDir string
	n                    int
	pixels               string
}

// add registers --fd-mnist, --classifier and --mnist-dir.
func (f *fdFlags) add(fl *pflag.FlagSet) {
	fl.BoolVar(&f.on, "fd-mnist", false, "report FD-MNIST and class coverage (784-D data only)")
	fl.StringVar(&f.classifier, "classifier", "", "FD-MNIST classifier file (default: the one shipped with flowlab)")
	fl.StringVar(&f.mnistDir, "mnist-dir", "", "folder of the MNIST files")
}

// toUnit returns x with pixels mapped from [−1, 1] to [0, 1] when pm1.
func toUnit(x *mat.Dense, pm1 bool) *mat.Dense {
	if !pm1 {
		return x
	}
	y := mat.New(x.R, x.C)
	for i, v := range x.Data {
		y.Data[i] = (v + 1) / 2
	}
	return y
}

// score returns FD-MNIST of the images x against the reference images ref.
func (f *fdFlags) score(cmd *cobra.Command, x, ref *mat.Dense) (*fdmnist.Score, error) {
	if x.C != fdmnist.Pixels {
		return nil, usagef("--fd-mnist: the samples are %d-D, FD-MNIST scores %d-D MNIST images", x.C, fdmnist.Pixels)
	}
	c, err := loadClassifier(f.classifier, f.mnistDir)
	if err != nil {
		return nil, err
	}
	r, err := c.Reference(ref)
	if err != nil {
		return nil, usageError{err}
	}
	s, err := c.Score(x, r)
	if err != nil {
		return nil, usageError{err}
	}
	return &s, nil
}

// runFD generates f.n images with a run's flow (decoded when it was
// trained in a latent) and scores them against the MNIST test split.
func (f *fdFlags) runFD(ctx context.Context, cmd *cobra.Command, run *train.Trained, lat latent.Map, o train.SampleOptions, seed uint64) (*fdmnist.Score, error) {
	dim := run.Config.Dim
	if lat != nil {
		dim = lat.Dim()
	}
	if dim != fdmnist.Pixels {
		return nil, usagef("--fd-mnist: the run's data is %d-D, FD-MNIST scores %d-D MNIST images", dim, fdmnist.Pixels)
	}
	if f.n < 2 {
		return nil, usagef("--fd-n %d: want at least 2 images", f.n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6664)) // "fd"
	x, err := train.StartPoints(run.StartLaw(false), f.n, false, rng)
	if err != nil {
		return nil, usagef("--fd-mnist: the run's source: %v", err)
	}
	if lat != nil {
		if x, err = toLatent(lat, x); err != nil {
			return nil, usagef("--fd-mnist: %v", err)
		}
	}
	if _, err := run.Sample(ctx, x, o, rng); err != nil {
		return nil, err
	}
	if lat != nil {
		x = lat.Decode(x)
	}
	test, err := dist.LoadMNIST(dist.MNISTOptions{Dir: f.mnistDir, Split: "test"})
	if err != nil {
		return nil, usageError{err}
	}
	return f.score(cmd, toUnit(x, strings.Contains(run.Config.Target, "range=pm1")), test.Data())
}

// fdEvaluation is eval's report with FD-MNIST: a latent run has no
// Evaluation (its metrics would compare latents with data) but its FD-MNIST.
type fdEvaluation struct {
	Run    string `json:"run"`
	Latent string `json:"latent,omitempty"`
	*train.Evaluation
	FDMNIST *fdmnist.Score `json:"fd_mnist,omitempty"`
	Note    string         `json:"note,omitempty"`
}

// latentNote says what eval measures of a latent run.
func latentNote(spec string) string {
	return fmt.Sprintf("trained in the latent %s: eval's data-space metrics are not computed; use --fd-mnist for 784-D data", spec)
}
