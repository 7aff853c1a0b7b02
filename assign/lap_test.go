package assign

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// bruteAssignment returns the least Σ_i cost[i*n+p[i]] over all n!
// permutations.
func bruteAssignment(n int, cost []float64) float64 {
	best := math.Inf(1)
	p := make([]int, n)
	used := make([]bool, n)
	var rec func(i int, s float64)
	rec = func(i int, s float64) {
		if i == n {
			best = math.Min(best, s)
			return
		}
		for j := 0; j < n; j++ {
			if !used[j] {
				used[j], p[i] = true, j
				rec(i+1, s+cost[i*n+j])
				used[j] = false
			}
		}
	}
	rec(0, 0)
	return best
}

// TestLAPReuse checks one LAP value reused across sizes that grow and shrink
// (its buffers are resized, not reallocated, and must be reset) against
// brute force, on costs of both signs and with ties (integer costs): the
// result must be a permutation whose cost equals the minimum to 1e-12
// relative (the same float64 terms summed in another order).
func TestLAPReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var lap LAP
	var dst []int
	for trial, n := range []int{7, 3, 6, 1, 8, 2, 5} {
		cost := make([]float64, n*n)
		for i := range cost {
			if trial%2 == 0 {
				cost[i] = rng.Float64()*20 - 10
			} else {
				cost[i] = float64(rng.IntN(4)) // many ties
			}
		}
		var err error
		dst, err = lap.Solve(context.Background(), n, cost, dst)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, n)
		var got float64
		for i, j := range dst {
			if j < 0 || j >= n || seen[j] {
				t.Fatalf("n=%d: %v is not a permutation", n, dst)
			}
			seen[j] = true
			got += cost[i*n+j]
		}
		want := bruteAssignment(n, cost)
		if !(math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))) {
			t.Errorf("n=%d: assignment cost %v, brute force %v", n, got, want)
		}
	}
	if _, err := lap.Solve(context.Background(), 2, []float64{0, math.NaN(), math.NaN(), math.NaN()}, nil); err == nil {
		t.Error("a row of NaN costs gave no error")
	}
}
