package coupling_test

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/flowlab/flowlab/assign"
	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/mat"
)

// permutations calls f with every permutation of 0..n-1 (Heap's algorithm).
func permutations(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	c := make([]int, n)
	f(p)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				p[0], p[i] = p[i], p[0]
			} else {
				p[c[i]], p[i] = p[i], p[c[i]]
			}
			f(p)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}

// fillNormal fills m with N(0, 1) draws.
func fillNormal(rng *rand.Rand, m *mat.Dense) {
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
}

// assignment solves the assignment problem for cost with assign.LAP.
func assignment(t *testing.T, n int, cost []float64) []int {
	t.Helper()
	var lap assign.LAP
	p, err := lap.Solve(context.Background(), n, cost, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func assignmentCost(n int, cost []float64, p []int) float64 {
	var s float64
	for i, j := range p {
		s += cost[i*n+j]
	}
	return s
}

// TestAssignmentBruteForce checks the Hungarian solver against enumeration of
// all n! permutations for n = 1..7, on random costs and on squared distances
// of random points (several seeds; equal costs to 1e-12 relative, since
// ties may pick different permutations of the same cost).
func TestAssignmentBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 7; n++ {
		for trial := 0; trial < 6; trial++ {
			var cost []float64
			if trial%2 == 0 {
				cost = make([]float64, n*n)
				for i := range cost {
					cost[i] = rng.Float64() * 10
				}
				if trial == 4 { // integer costs: many ties
					for i := range cost {
						cost[i] = math.Floor(cost[i] / 3)
					}
				}
			} else {
				x0, x1 := mat.New(n, 3), mat.New(n, 3)
				fillNormal(rng, x0)
				fillNormal(rng, x1)
				cost = coupling.SqDistances(x0, x1, nil)
			}
			best := math.Inf(1)
			permutations(n, func(p []int) { best = math.Min(best, assignmentCost(n, cost, p)) })
			p := assignment(t, n, cost)
			sorted := slices.Clone(p)
			slices.Sort(sorted)
			for i, v := range sorted {
				if v != i {
					t.Fatalf("n=%d: %v is not a permutation", n, p)
				}
			}
			if got := assignmentCost(n, cost, p); !(math.Abs(got-best) <= 1e-12*math.Max(1, best)) {
				t.Errorf("n=%d trial %d: Hungarian cost %.15g, brute force %.15g", n, trial, got, best)
			}
		}
	}
}

// TestAssignmentTwoOpt checks a necessary optimality condition on larger
// batches where enumeration is impossible: no exchange of two partners
// lowers the cost (n = 64 and 200).
func TestAssignmentTwoOpt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{64, 200} {
		x0, x1 := mat.New(n, 8), mat.New(n, 8)
		fillNormal(rng, x0)
		fillNormal(rng, x1)
		cost := coupling.SqDistances(x0, x1, nil)
		p := assignment(t, n, cost)
		for i := 0; i < n; i++ {
			for k := i + 1; k < n; k++ {
				now := cost[i*n+p[i]] + cost[k*n+p[k]]
				swapped := cost[i*n+p[k]] + cost[k*n+p[i]]
				if swapped < now-1e-9 {
					t.Fatalf("n=%d: swapping rows %d and %d lowers the cost by %v", n, i, k, now-swapped)
				}
			}
		}
		ident := make([]int, n)
		for i := range ident {
			ident[i] = i
		}
		t.Logf("n=%d: OT cost %.1f, identity pairing %.1f", n, assignmentCost(n, cost, p), assignmentCost(n, cost, ident))
	}
}

// TestExactOTCouple checks the coupling: x0 untouched, x1's rows a
// permutation of the old ones, paired by the brute-force optimum (n = 6).
func TestExactOTCouple(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 6
	x0, x1 := mat.New(n, 2), mat.New(n, 2)
	fillNormal(rng, x0)
	fillNormal(rng, x1)
	x0c, x1c := x0.Clone(), x1.Clone()
	var ot coupling.ExactOT
	if err := ot.Couple(context.Background(), rng, x0, x1); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x0.Data, x0c.Data) {
		t.Error("x0 changed")
	}
	cost := coupling.SqDistances(x0c, x1c, nil)
	best := math.Inf(1)
	permutations(n, func(p []int) { best = math.Min(best, assignmentCost(n, cost, p)) })
	var got float64
	for i := 0; i < n; i++ {
		var d float64
		for j := 0; j < 2; j++ {
			e := float64(x0.At(i, j)) - float64(x1.At(i, j))
			d += e * e
		}
		got += d
	}
	if !(math.Abs(got-best) <= 1e-9) {
		t.Errorf("coupled cost %v, optimum %v", got, best)
	}
	a, b := slices.Clone(x1.Data), slices.Clone(x1c.Data)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Error("x1's entries are not a permutation of the old ones")
	}
}

// TestSinkhornApproachesExact checks that the entropic plan tends to the exact
// OT plan (the permutation matrix / n) as ε shrinks: its L1 distance to it
// falls monotonically over ε = 1, 0.1, 0.01, 0.001 and ends below 1e-3; its
// transport cost exceeds the OT cost by at most ε_abs·log n (entropic
// optimality gives ⟨π_ε,C⟩ − OT ≤ ε_abs·(H(π_ε) − H(π*)) and the entropies of
// uniform-marginal plans lie in [log n, 2 log n]); its row marginals are
// uniform to 1e-12 (exact after each f-update) and its columns to 1e-5
// relative (Sinkhorn converges linearly and slowly at ε = 0.01: its 20000
// iterations reach ~2e-6 there, not the requested 1e-6).
func TestSinkhornApproachesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 8
	x0, x1 := mat.New(n, 2), mat.New(n, 2)
	fillNormal(rng, x0)
	fillNormal(rng, x1)
	cost := coupling.SqDistances(x0, x1, nil)
	p := assignment(t, n, cost)
	otCost := assignmentCost(n, cost, p) / n
	var meanCost float64
	for _, c := range cost {
		meanCost += c / (n * n)
	}
	prev := math.Inf(1)
	var dist, tc float64
	for _, eps := range []float64{1, 0.1, 0.01, 0.001} {
		sk := coupling.Sinkhorn{Eps: eps, Iters: 20000, Tol: 1e-6}
		plan := sk.Plan(n, cost, nil)
		dist, tc = 0, 0
		for i := 0; i < n; i++ {
			var row float64
			for j := 0; j < n; j++ {
				want := 0.0
				if p[i] == j {
					want = 1.0 / n
				}
				dist += math.Abs(plan[i*n+j] - want)
				tc += plan[i*n+j] * cost[i*n+j]
				row += plan[i*n+j]
			}
			if !(math.Abs(row-1.0/n) <= 1e-12) {
				t.Errorf("ε=%v: row %d sums to %v", eps, i, row)
			}
		}
		for j := 0; j < n; j++ {
			var col float64
			for i := 0; i < n; i++ {
				col += plan[i*n+j]
			}
			if !(math.Abs(col*n-1) <= 1e-5) {
				t.Errorf("ε=%v: column %d sums to %v", eps, j, col)
			}
		}
		t.Logf("ε=%-6v ‖π_ε − π*‖₁ = %.3e, cost %.6f (OT %.6f)", eps, dist, tc, otCost)
		if gap := tc - otCost; gap < -1e-12 || gap > eps*meanCost*math.Log(n) {
			t.Errorf("ε=%v: cost gap %.3e outside [0, ε_abs·log n = %.3e]", eps, gap, eps*meanCost*math.Log(n))
		}
		if dist >= prev {
			t.Errorf("ε=%v: distance %.3e did not fall (previous %.3e)", eps, dist, prev)
		}
		prev = dist
	}
	if !(dist <= 1e-3) {
		t.Errorf("at ε=0.001 the plan is %.3e from the exact one", dist)
	}
}

// TestSinkhornCouple checks the sampled pairing: x0 untouched, and at a small
// ε every row gets its exact-OT partner.
func TestSinkhornCouple(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 32
	x0, x1 := mat.New(n, 4), mat.New(n, 4)
	fillNormal(rng, x0)
	fillNormal(rng, x1)
	x0c := x0.Clone()
	y1 := x1.Clone()
	if err := (&coupling.ExactOT{}).Couple(context.Background(), rng, x0, y1); err != nil {
		t.Fatal(err)
	}
	sk := &coupling.Sinkhorn{Eps: 1e-4, Iters: 20000, Tol: 1e-9}
	if err := sk.Couple(context.Background(), rng, x0, x1); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x0.Data, x0c.Data) {
		t.Error("x0 changed")
	}
	if !slices.Equal(x1.Data, y1.Data) {
		t.Error("Sinkhorn at ε = 1e-4 did not reproduce the exact OT pairing")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"independent": "independent", "": "independent", "OT": "ot", "exact-ot": "ot",
		"sinkhorn": "sinkhorn:eps=0.05", "sinkhorn:eps=0.2,iters=50": "sinkhorn:eps=0.2,iters=50",
	} {
		c, err := coupling.Parse(in)
		if err != nil || c.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, c, err, want)
		}
	}
	for _, in := range []string{"reflow", "sinkhorn:eps=0", "sinkhorn:eps=-1", "sinkhorn:iters=0", "sinkhorn:foo=1",
		"ot:eps=1", "hungarian", "sinkhorn:eps"} {
		if _, err := coupling.Parse(in); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ot", "sinkhorn:eps=0.1,iters=10", "independent", "sinkhorn:eps=1e-300", "reflow", "sinkhorn:,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := coupling.Parse(s)
		if err != nil {
			return
		}
		c2, err := coupling.Parse(c.String())
		if err != nil || c2.String() != c.String() || !reflect.DeepEqual(c, c2) {
			t.Fatalf("%q → %s (%+v) does not round-trip: %+v, %v", s, c, c, c2, err)
		}
	})
}

// TestCouplingDegenerateBatches is a regression test: Sinkhorn's ε-scaling
// loop never ended on an empty batch (the mean cost 0/0 is NaN, and NaN
// stages never reach the target ε) nor on a batch holding NaN. An empty batch
// must be a no-op and a non-finite batch an error, for both OT couplings,
// each within the test's timeout.
func TestCouplingDegenerateBatches(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range []coupling.Coupling{&coupling.ExactOT{}, &coupling.Sinkhorn{Eps: 0.05}} {
		if err := c.Couple(ctx, rng, mat.New(0, 3), mat.New(0, 3)); err != nil {
			t.Errorf("%s: empty batch: %v", c, err)
		}
		x0, x1 := mat.New(4, 3), mat.New(4, 3)
		fillNormal(rng, x0)
		fillNormal(rng, x1)
		x1.Data[5] = float32(math.NaN())
		if err := c.Couple(ctx, rng, x0, x1); err == nil {
			t.Errorf("%s: a NaN in the batch gave no error", c)
		}
	}
	if got := (&coupling.Sinkhorn{Eps: 0.05}).Plan(0, nil, nil); len(got) != 0 {
		t.Errorf("empty plan has %d entries", len(got))
	}
}
