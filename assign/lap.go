// Package assign solves dense linear assignment problems: the permutation
// that pairs n rows with n columns at the least total cost. metrics uses it
// for the exact W2 distance and coupling for minibatch optimal transport.
package assign

import (
	"context"
	"fmt"
	"math"
)

// LAP solves dense linear assignment problems: given a row-major n×n cost
// matrix, the permutation p minimising Σ_i cost[i*n+p[i]]. It is the shortest
// augmenting path algorithm (Jonker–Volgenant, in Crouse's 2016 form as used
// by SciPy's linear_sum_assignment): one Dijkstra search per row over reduced
// costs, with the dual potentials updated once per augmentation; O(n³) time
// in the worst case. A LAP keeps its buffers between calls; the zero value is
// ready to use, and one value must not be used by two goroutines at once.
type LAP struct {
	u, v, spc          []float64
	path, col4row      []int
	row4col, remaining []int
	sr, sc             []bool
}

// Solve returns the optimal assignment p (p[i] is the column given to row i),
// reusing dst. It returns ctx's error (checked every 64 rows) and an error
// when a cost is NaN or infinite. It panics when len(cost) ≠ n².
func (w *LAP) Solve(ctx context.Context, n int, cost []float64, dst []int) ([]int, error) {
	if len(cost) != n*n {
		panic(fmt.Sprintf("assign: LAP.Solve: cost has %d entries, want %d×%d", len(cost), n, n))
	}
	w.u = resize(w.u, n)
	w.v = resize(w.v, n)
	w.spc = resize(w.spc, n)
	w.path = resize(w.path, n)
	w.col4row = resize(w.col4row, n)
	w.row4col = resize(w.row4col, n)
	w.remaining = resize(w.remaining, n)
	w.sr = resize(w.sr, n)
	w.sc = resize(w.sc, n)
	clear(w.u)
	clear(w.v)
	for i := range w.col4row {
		w.col4row[i], w.row4col[i] = -1, -1
	}
	for cur := 0; cur < n; cur++ {
		if cur%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sink, minVal, err := w.search(cur, n, cost)
		if err != nil {
			return nil, err
		}
		w.augment(cur, sink, minVal)
	}
	dst = resize(dst, n)
	copy(dst, w.col4row)
	return dst, nil
}

// search runs Dijkstra from row cur over the reduced costs
// c_ij − u_i − v_j ≥ 0 until it reaches an unassigned column, the sink. It
// returns the sink and the length of the shortest path to it.
func (w *LAP) search(cur, n int, cost []float64) (sink int, minVal float64, err error) {
	u, v, spc, path := w.u, w.v, w.spc, w.path
	row4col, remaining, sr, sc := w.row4col, w.remaining, w.sr, w.sc
	for j := range remaining {
		remaining[j] = n - 1 - j
		spc[j] = math.Inf(1)
	}
	clear(sr)
	clear(sc)
	numRem := n
	sink = -1
	i := cur
	for sink == -1 {
		sr[i] = true
		index := -1
		lowest := math.Inf(1)
		row := cost[i*n : (i+1)*n]
		ui := u[i]
		for it := 0; it < numRem; it++ {
			j := remaining[it]
			r := minVal + row[j] - ui - v[j]
			if r < spc[j] {
				path[j] = i
				spc[j] = r
			}
			if spc[j] < lowest || (spc[j] == lowest && row4col[j] == -1) {
				lowest = spc[j]
				index = it
			}
		}
		if index < 0 || math.IsInf(lowest, 1) || math.IsNaN(lowest) {
			return -1, 0, fmt.Errorf("assignment: the cost matrix has non-finite entries (NaN or Inf in the samples)")
		}
		minVal = lowest
		j := remaining[index]
		if row4col[j] == -1 {
			sink = j
		} else {
			i = row4col[j]
		}
		sc[j] = true
		numRem--
		remaining[index] = remaining[numRem]
	}
	return sink, minVal, nil
}

// augment updates the duals after the search from row cur, then flips the
// assignment along the path to sink.
func (w *LAP) augment(cur, sink int, minVal float64) {
	u, v, spc, path := w.u, w.v, w.spc, w.path
	col4row, row4col, sr, sc := w.col4row, w.row4col, w.sr, w.sc
	u[cur] += minVal
	for r := range u {
		if sr[r] && r != cur {
			u[r] += minVal - spc[col4row[r]]
		}
	}
	for c := range v {
		if sc[c] {
			v[c] -= minVal - spc[c]
		}
	}
	for j := sink; ; {
		r := path[j]
		row4col[j] = r
		col4row[r], j = j, col4row[r]
		if r == cur {
			break
		}
	}
}

// resize returns s with length n, reallocated only when its capacity is short.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
