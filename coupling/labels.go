package coupling

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/flowlab/flowlab/mat"
)

// Labelled batches: when x1's rows carry class labels (a conditional flow),
// a coupling must move each label with its row. CoupleLabeled does that for
// every coupling here: Independent leaves both alone, ExactOT and Sinkhorn
// apply their permutation (or draw) to the labels too, and LabelOT pairs
// rows only within a label, so the labels stay where they are.

// ErrNeedsLabels is wrapped by the error of a coupling that pairs within
// labels (LabelOT) when it is given a batch without them.
var ErrNeedsLabels = errors.New("coupling needs labelled data")

// CoupleLabeled pairs x0 with x1 under c, as c.Couple does, and reorders
// labels (x1's rows' labels, len x1.R) with x1's rows, so that labels[i]
// stays the label of x1's row i. It returns an error for a coupling that
// cannot carry labels (a reflow, say).
func CoupleLabeled(ctx context.Context, c Coupling, rng *rand.Rand, x0, x1 *mat.Dense, labels []int) error {
	if len(labels) != x1.R {
		panic(fmt.Sprintf("coupling: %d labels for %d rows", len(labels), x1.R))
	}
	switch c := c.(type) {
	case Independent:
		return c.Couple(ctx, rng, x0, x1)
	case *LabelOT:
		return c.CoupleLabeled(ctx, rng, x0, x1, labels)
	case *ExactOT:
		if err := c.Couple(ctx, rng, x0, x1); err != nil {
			return err
		}
		permuteLabels(labels, c.perm, x1.R)
		return nil
	case *Sinkhorn:
		if err := c.Couple(ctx, rng, x0, x1); err != nil {
			return err
		}
		permuteLabels(labels, c.perm, x1.R)
		return nil
	}
	return fmt.Errorf("coupling: %s cannot carry labels (want independent, ot, sinkhorn or label-ot)", c)
}

// permuteLabels sets labels[i] to its old labels[perm[i]] (n rows; an empty
// batch leaves perm unset).
func permuteLabels(labels, perm []int, n int) {
	if n == 0 {
		return
	}
	old := slices.Clone(labels)
	for i, j := range perm[:n] {
		labels[i] = old[j]
	}
}

// LabelOT is exact minibatch OT within each label: the rows of x1 that carry
// label k are permuted among themselves by the optimal assignment to the
// rows of x0 at the same positions, so x0 and x1 are paired only inside a
// label and every label keeps its rows. The source's rows are i.i.d. draws
// independent of the labels, so those at label k's positions are a sample of
// the source of their own: each label's pairs are a minibatch OT coupling of
// the source with that label's data (torchcfm issues 117 and 120 ask for it).
type LabelOT struct {
	ot    ExactOT
	order []int
	a, b  *mat.Dense
}

// Couple refuses: LabelOT pairs within labels, and a plain batch has none.
func (o *LabelOT) Couple(_ context.Context, _ *rand.Rand, x0, x1 *mat.Dense) error {
	checkPair(x0, x1)
	return fmt.Errorf("coupling: label-ot: %w (train a conditional flow, --cond label)", ErrNeedsLabels)
}

// CoupleLabeled permutes x1's rows within each label into the optimal
// assignment with x0's rows at the same positions. labels is unchanged.
func (o *LabelOT) CoupleLabeled(ctx context.Context, rng *rand.Rand, x0, x1 *mat.Dense, labels []int) error {
	checkPair(x0, x1)
	if len(labels) != x1.R {
		panic(fmt.Sprintf("coupling: label-ot: %d labels for %d rows", len(labels), x1.R))
	}
	// Positions sorted by label, then by position: each label's run.
	o.order = o.order[:0]
	for i := range labels {
		o.order = append(o.order, i)
	}
	slices.SortStableFunc(o.order, func(i, j int) int { return labels[i] - labels[j] })
	if o.a == nil {
		o.a, o.b = mat.New(0, x0.C), mat.New(0, x0.C)
	}
	for lo := 0; lo < len(o.order); {
		hi := lo + 1
		for hi < len(o.order) && labels[o.order[hi]] == labels[o.order[lo]] {
			hi++
		}
		if err := o.coupleGroup(ctx, rng, x0, x1, o.order[lo:hi]); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// coupleGroup solves exact OT between x0's and x1's rows at positions pos
// and writes x1's permuted rows back there.
func (o *LabelOT) coupleGroup(ctx context.Context, rng *rand.Rand, x0, x1 *mat.Dense, pos []int) error {
	d := x0.C
	o.a.Reshape(len(pos), d)
	o.b.Reshape(len(pos), d)
	for k, i := range pos {
		copy(o.a.Row(k), x0.Row(i))
		copy(o.b.Row(k), x1.Row(i))
	}
	if err := o.ot.Couple(ctx, rng, o.a, o.b); err != nil {
		return fmt.Errorf("label-ot: %w", err)
	}
	for k, i := range pos {
		copy(x1.Row(i), o.b.Row(k))
	}
	return nil
}

// String returns "label-ot".
func (o *LabelOT) String() string { return "label-ot" }
