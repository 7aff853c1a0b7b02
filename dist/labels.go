package dist

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
)

// MaxClasses bounds the number of classes a labelled data set may have.
const MaxClasses = 1 << 16

// Labeled is a distribution whose draws carry a class label in
// 0..Classes()−1: the component of 8gaussians, the digit of MNIST, the label
// file of a file: data set.
type Labeled interface {
	Sampler
	// Classes is the number of labels; 0 when the draws carry none.
	Classes() int
	// SampleLabeled fills dst with the draws Sample makes from the same rng
	// state, and labels[i] with row i's class. It panics when
	// len(labels) != dst.R or when Classes() is 0.
	SampleLabeled(rng *rand.Rand, dst *mat.Dense, labels []int)
}

// LabelsOf returns s as a Labeled distribution when its draws carry labels.
func LabelsOf(s Sampler) (Labeled, bool) {
	l, ok := s.(Labeled)
	if !ok || l.Classes() == 0 {
		return nil, false
	}
	return l, true
}

// checkLabels panics when labels does not have a slot for each row of dst.
func checkLabels(dst *mat.Dense, labels []int) {
	if len(labels) != dst.R {
		panic(fmt.Sprintf("dist: %d labels for %d rows", len(labels), dst.R))
	}
}

// SetLabels gives the data set's rows labels (not copied): labels[i] is row
// i's class, in 0..classes−1. classes 0 means the largest label plus one
// (a subset of a labelled set keeps the whole set's count: MNIST's is 10).
func (d *Dataset) SetLabels(labels []int, classes int) error {
	if len(labels) != d.data.R {
		return fmt.Errorf("%s: %d labels for %d rows", d.name, len(labels), d.data.R)
	}
	limit := classes
	if limit == 0 {
		limit = MaxClasses
	}
	top := -1
	for i, l := range labels {
		if l < 0 || l >= limit {
			return fmt.Errorf("%s: label %d of row %d is not in 0..%d", d.name, l, i, limit-1)
		}
		top = max(top, l)
	}
	if classes == 0 {
		classes = top + 1
	}
	d.labels, d.classes = labels, classes
	return nil
}

// Labels returns the rows' labels (shared, not copied), nil when it has none.
func (d *Dataset) Labels() []int { return d.labels }

// Classes is the number of classes of a labelled data set, else 0.
func (d *Dataset) Classes() int { return d.classes }

// SampleLabeled fills dst with the rows Sample draws from the same rng state
// and labels with theirs.
func (d *Dataset) SampleLabeled(rng *rand.Rand, dst *mat.Dense, labels []int) {
	if d.classes == 0 {
		panic(fmt.Sprintf("dist: data set %s has no labels", d.name))
	}
	checkLabels(dst, labels)
	d.sample(rng, dst, labels)
}
