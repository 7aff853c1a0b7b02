package fdmnist

import (
	_ "embed" // the shipped classifier's weights
	"fmt"

	"github.com/flowlab/flowlab/nn"
)

// defaultWeights is fdmnist-v1.safetensors: what `flowlab fdmnist train`
// writes with DefaultTrainOptions (seed 1) on the MNIST training split.
//
//go:embed fdmnist-v1.safetensors
var defaultWeights []byte

// DefaultFile is the shipped classifier's file in this package's folder;
// its name changes whenever DefaultTrainOptions do.
const DefaultFile = "fdmnist-v1.safetensors"

// Default returns the classifier that defines FD-MNIST: the weights
// DefaultTrainOptions give, shipped inside flowlab (DefaultFile), so that
// CI, a fresh clone and every machine score with the same bits, and no one
// trains or downloads it at run time. Training it again (`flowlab fdmnist
// train`) gives the same file on the kernel path it was made with; other
// paths may differ in the last bits, which is why it is shipped.
func Default() (*Classifier, error) {
	n, err := nn.Decode(defaultWeights)
	if err != nil {
		return nil, fmt.Errorf("fdmnist: the shipped %s: %w", DefaultFile, err)
	}
	if err := check(n); err != nil {
		return nil, fmt.Errorf("fdmnist: the shipped %s: %w", DefaultFile, err)
	}
	return &Classifier{Net: n}, nil
}
