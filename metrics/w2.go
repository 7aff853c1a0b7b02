package metrics

import (
	"context"
	"fmt"
	"math"

	"github.com/flowlab/flowlab/assign"
	"github.com/flowlab/flowlab/mat"
)

// MaxAssignmentBytes bounds the memory of the n×n float64 cost matrix that
// W2 builds (1 GiB: n up to 11585).
const MaxAssignmentBytes = 1 << 30

// W2 returns the exact 2-Wasserstein distance between the empirical
// measures of two samples of equal size n:
//
//	W2 = √( min over permutations σ of (1/n) Σ_i ‖x_i − y_σ(i)‖² ),
//
// found by shortest augmenting paths with dual potentials (assign.LAP: O(n³) time,
// n² float64s of memory). It returns an error when the
// sizes differ, when the cost matrix would exceed MaxAssignmentBytes, or
// when ctx is cancelled. It panics when the dimensions differ.
func W2(ctx context.Context, x, y *mat.Dense) (float64, error) {
	sameDim("W2", x, y)
	_, cost, err := Assignment(ctx, x, y)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(cost / float64(x.R)), nil
}

// Assignment solves the optimal assignment between the rows of x and y for
// the squared Euclidean cost: perm[i] is the row of y matched to row i of x
// and cost is Σ_i ‖x_i − y_perm[i]‖². See W2 for the errors.
func Assignment(ctx context.Context, x, y *mat.Dense) (perm []int, cost float64, err error) {
	sameDim("Assignment", x, y)
	n := x.R
	if y.R != n {
		return nil, 0, fmt.Errorf("W2: samples have %d and %d points; exact W2 needs equal sizes", x.R, y.R)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("W2: empty samples")
	}
	if need := int64(n) * int64(n) * 8; need > MaxAssignmentBytes {
		return nil, 0, fmt.Errorf("W2: n = %d needs a %d MiB cost matrix, more than the %d MiB limit (use at most %d points, or sliced W)",
			n, need>>20, MaxAssignmentBytes>>20, int(math.Sqrt(MaxAssignmentBytes/8)))
	}
	xf, yf := toF64(x), toF64(y)
	c := make([]float64, n*n)
	parallelRows(n, func(i int) {
		row := c[i*n : (i+1)*n]
		for j := range row {
			row[j] = sqdist(xf[i], yf[j])
		}
	})
	var lap assign.LAP
	perm, err = lap.Solve(ctx, n, c, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("W2: %w", err)
	}
	for i, j := range perm {
		cost += c[i*n+j]
	}
	return perm, cost, nil
}
