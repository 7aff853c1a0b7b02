package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/mat"
)

// fdValidation is what fdmnist validate prints: the classifier's test
// accuracy, FD-MNIST between the splits (the floor), its growth under
// corruption of the test split, and a repeat of one score.
type fdValidation struct {
	Classifier   string           `json:"classifier"`
	TestAccuracy float64          `json:"test_accuracy"`
	Floor        fdmnist.Score    `json:"floor_test_vs_train"`
	Noise        []corruptedScore `json:"noise"`
	Blur         []corruptedScore `json:"blur"`
	Repeat       [2]float64       `json:"repeat_fd"`
	// FloorAtN is FD-MNIST of the first N training images against the
	// test split (eval --fd-mnist's reference): the floor of a score of N
	// generated images.
	FloorAtN []nScore `json:"floor_train_n_vs_test"`
}

type nScore struct {
	N  int     `json:"n"`
	FD float64 `json:"fd_mnist"`
}

type corruptedScore struct {
	Sigma float64 `json:"sigma"`
	FD    float64 `json:"fd_mnist"`
	Ent   float64 `json:"class_entropy_nats"`
}

func newFDMNISTValidateCmd() *cobra.Command {
	var clf, mnistDir string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "validate [--classifier FILE]",
		Short: "FD-MNIST of the test split against the training split, and under noise and blur",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadClassifier(clf, mnistDir)
			if err != nil {
				return err
			}
			tr, te, err := mnistSplits(mnistDir)
			if err != nil {
				return err
			}
			v, err := validateFD(c, tr.Data(), te.Data(), seed)
			if err != nil {
				return err
			}
			v.Classifier, v.TestAccuracy = clf, c.Accuracy(te.Data(), te.Labels())
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&clf, "classifier", "", "classifier file (default: the one shipped with flowlab)")
	fl.StringVar(&mnistDir, "mnist-dir", "", "folder of the MNIST files")
	fl.Uint64Var(&seed, "seed", 1, "seed of the noise")
	return cmd
}

// validateFD scores the test split against the training split's reference,
// then noisy and blurred copies of it.
func validateFD(c *fdmnist.Classifier, train, test *mat.Dense, seed uint64) (*fdValidation, error) {
	ref, err := c.Reference(train)
	if err != nil {
		return nil, err
	}
	v := &fdValidation{}
	if v.Floor, err = c.Score(test, ref); err != nil {
		return nil, err
	}
	again, err := c.Score(test, ref)
	if err != nil {
		return nil, err
	}
	v.Repeat = [2]float64{v.Floor.FD, again.FD}
	testRef, err := c.Reference(test)
	if err != nil {
		return nil, err
	}
	for _, n := range []int{1000, 5000, 10000} {
		sc, err := c.Score(train.Rows(0, min(n, train.R)), testRef)
		if err != nil {
			return nil, err
		}
		v.FloorAtN = append(v.FloorAtN, nScore{sc.N, sc.FD})
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
	for _, s := range []float64{0.05, 0.1, 0.2, 0.3, 0.5} {
		sc, err := c.Score(fdmnist.Noise(test, s, rng), ref)
		if err != nil {
			return nil, err
		}
		v.Noise = append(v.Noise, corruptedScore{s, sc.FD, sc.Coverage.Entropy})
	}
	for _, s := range []float64{0.5, 1, 1.5, 2, 3} {
		sc, err := c.Score(fdmnist.Blur(test, s), ref)
		if err != nil {
			return nil, err
		}
		v.Blur = append(v.Blur, corruptedScore{s, sc.FD, sc.Coverage.Entropy})
	}
	return v, nil
}
