package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/nn"
)

func newFDMNISTCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fdmnist",
		Short: "train and validate the MNIST classifier behind FD-MNIST",
		Long: `FD-MNIST is the Fréchet distance between Gaussian fits of an MNIST
classifier's last hidden layer on two samples. Commands that report it use
--classifier FILE (checked to classify MNIST's test digits), or else the
classifier shipped with flowlab (fdmnist.Default: what "fdmnist train" gives
with its default flags).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newFDMNISTTrainCmd(), newFDMNISTValidateCmd())
	return cmd
}

func newFDMNISTTrainCmd() *cobra.Command {
	o := fdmnist.DefaultTrainOptions()
	var out, hidden, mnistDir string
	cmd := &cobra.Command{
		Use:   "train --out FILE.safetensors [flags]",
		Short: "train the classifier on the MNIST training split and report its test accuracy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := parseInts("hidden", hidden)
			if err != nil {
				return usagef("%v", err)
			}
			o.Hidden, o.Progress = h, cmd.ErrOrStderr()
			if out == "" {
				return usagef("fdmnist train needs --out FILE.safetensors")
			}
			tr, te, err := mnistSplits(mnistDir)
			if err != nil {
				return err
			}
			c, err := fdmnist.Train(cmd.Context(), tr.Data(), tr.Labels(), o)
			if err != nil {
				return err
			}
			if err := c.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: test accuracy %.4f\n", out, c.Accuracy(te.Data(), te.Labels()))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "classifier file")
	fl.StringVar(&hidden, "hidden", "512,128", "hidden widths; the last is the feature width")
	fl.IntVar(&o.Steps, "steps", o.Steps, "Adam steps")
	fl.IntVar(&o.Batch, "batch", o.Batch, "batch size")
	fl.Float64Var(&o.LR, "lr", o.LR, "peak learning rate (cosine schedule)")
	fl.Uint64Var(&o.Seed, "seed", o.Seed, "seed")
	fl.StringVar(&mnistDir, "mnist-dir", "", "folder of the MNIST files (default: see dist.FindMNIST)")
	return cmd
}

// mnistSplits loads MNIST's training and test splits (pixels in [0, 1]).
func mnistSplits(dir string) (train, test *dist.MNIST, err error) {
	if train, err = dist.LoadMNIST(dist.MNISTOptions{Dir: dir, Split: "train"}); err != nil {
		return nil, nil, usageError{err}
	}
	if test, err = dist.LoadMNIST(dist.MNISTOptions{Dir: dir, Split: "test"}); err != nil {
		return nil, nil, usageError{err}
	}
	return train, test, nil
}

// verifyImages is how many MNIST test images a --classifier is checked on.
const verifyImages = 2000

// loadClassifier returns --classifier's classifier, checked to classify
// MNIST's test digits (a classifier of other data is a usage error), or the
// shipped one.
func loadClassifier(path, mnistDir string) (*fdmnist.Classifier, error) {
	if path == "" {
		return fdmnist.Default()
	}
	c, err := fdmnist.Load(path)
	if errors.Is(err, fdmnist.ErrNotClassifier) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, nn.ErrFormat) {
		return nil, usagef("--classifier: %v", err)
	}
	if err != nil {
		return nil, err
	}
	test, err := dist.LoadMNIST(dist.MNISTOptions{Dir: mnistDir, Split: "test"})
	if err != nil {
		return nil, usageError{err}
	}
	n := min(verifyImages, test.Len())
	if err := c.Verify(test.Data().Rows(0, n), test.Labels()[:n]); err != nil {
		return nil, usagef("--classifier %s: %v", path, err)
	}
	return c, nil
}
