package metrics

import (
	"context"
	"fmt"
	"math"

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
// found by the Hungarian algorithm with potentials (shortest augmenting
// paths, O(n³) time, n² float64s of memory). It returns an error when the
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
	perm, err = hungarian(ctx, n, c)
	if err != nil {
		return nil, 0, err
	}
	for i, j := range perm {
		cost += c[i*n+j]
	}
	return perm, cost, nil
}

// hungarian minimises Σ c[i, perm[i]] over permutations of an n×n cost
// matrix (row-major), by successive shortest augmenting paths with dual
// potentials u, v (the classical O(n³) Hungarian algorithm; Jonker and
// Volgenant's variant differs only in its initialisation).
func hungarian(ctx context.Context, n int, c []float64) ([]int, error) {
	inf := math.Inf(1)
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1) // p[j]: row (1-based) matched to column j; p[0] the row being added
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("W2: %w", err)
			}
		}
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := p[j0]
			delta := inf
			j1 := -1
			row := c[(i0-1)*n:]
			ui0 := u[i0]
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				cur := row[j-1] - ui0 - v[j]
				if cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if minv[j] < delta {
					delta = minv[j]
					j1 = j
				}
			}
			if j1 < 0 || math.IsNaN(delta) || math.IsInf(delta, 0) {
				return nil, fmt.Errorf("W2: cost matrix has non-finite entries (NaN or Inf in the samples)")
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	perm := make([]int, n)
	for j := 1; j <= n; j++ {
		perm[p[j]-1] = j - 1
	}
	return perm, nil
}
