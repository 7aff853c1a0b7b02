package coupling_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/mat"
)

// labelledBatch returns x0, x1 ~ N(0, I) (n×d) and labels in 0..k−1 whose
// value is also written, as a tag, into x1's last column plus 100·label, so
// that a test can tell which label a moved row carries.
func labelledBatch(rng *rand.Rand, n, d, k int) (x0, x1 *mat.Dense, labels []int) {
	x0, x1 = mat.New(n, d), mat.New(n, d)
	fillNormal(rng, x0)
	fillNormal(rng, x1)
	labels = make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(k)
		x1.Set(i, d-1, float32(100*labels[i])+x1.At(i, d-1)/10)
	}
	return x0, x1, labels
}

// tag returns the label written into a row by labelledBatch.
func tag(x1 *mat.Dense, i int) int {
	return int(math.Round(float64(x1.At(i, x1.C-1)) / 100))
}

// TestCoupleLabeledMovesLabels: every coupling that reorders x1 moves each
// label with its row.
func TestCoupleLabeledMovesLabels(t *testing.T) {
	for _, spec := range []string{"independent", "ot", "sinkhorn:eps=0.5", "label-ot"} {
		t.Run(spec, func(t *testing.T) {
			c, err := coupling.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x0, x1, labels := labelledBatch(rng, 40, 3, 3)
			if err := coupling.CoupleLabeled(context.Background(), c, rng, x0, x1, labels); err != nil {
				t.Fatal(err)
			}
			for i, l := range labels {
				if tag(x1, i) != l {
					t.Fatalf("row %d carries label %d but labels says %d", i, tag(x1, i), l)
				}
			}
		})
	}
}

// TestLabelOTOptimalWithinLabels checks LabelOT against brute force: labels
// stay in place, each label's rows of x1 are a permutation of its own, and
// that permutation has the least cost of all (groups of at most 6 rows).
func TestLabelOTOptimalWithinLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 20; trial++ {
		x0, x1, labels := labelledBatch(rng, 12, 2, 3)
		orig, origLabels := x1.Clone(), append([]int(nil), labels...)
		ot := &coupling.LabelOT{}
		if err := ot.CoupleLabeled(context.Background(), rng, x0, x1, labels); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 3; k++ {
			var pos []int
			for i, l := range origLabels {
				if labels[i] != l {
					t.Fatalf("label of row %d changed from %d to %d", i, l, labels[i])
				}
				if l == k {
					pos = append(pos, i)
				}
			}
			if len(pos) > 6 {
				continue // brute force too slow; the other trials cover it
			}
			cost := func(i, j int) float64 { // x0 row pos[i] with orig row pos[j]
				var s float64
				for c := 0; c < x0.C; c++ {
					e := float64(x0.At(pos[i], c) - orig.At(pos[j], c))
					s += e * e
				}
				return s
			}
			best := math.Inf(1)
			permutations(len(pos), func(p []int) {
				var s float64
				for i, j := range p {
					s += cost(i, j)
				}
				best = min(best, s)
			})
			var got float64
			for i := range pos {
				found := -1
				for j := range pos {
					if x1.At(pos[i], 0) == orig.At(pos[j], 0) && x1.At(pos[i], 1) == orig.At(pos[j], 1) {
						found = j
					}
				}
				if found < 0 {
					t.Fatalf("label %d: row %d is not one of its label's rows", k, pos[i])
				}
				got += cost(i, found)
			}
			// Costs are sums of a few float64 squares: the optimum is found
			// exactly, up to rounding in the sums.
			if got > best*(1+1e-12)+1e-12 {
				t.Fatalf("label %d: cost %g, brute-force optimum %g", k, got, best)
			}
		}
	}
}

func TestLabelOTNeedsLabels(t *testing.T) {
	x := mat.New(4, 2)
	err := (&coupling.LabelOT{}).Couple(context.Background(), nil, x, x.Clone())
	if !errors.Is(err, coupling.ErrNeedsLabels) {
		t.Fatalf("Couple without labels: %v, want ErrNeedsLabels", err)
	}
}

// notLabelled is a coupling that CoupleLabeled does not know.
type notLabelled struct{ coupling.Independent }

func (notLabelled) String() string { return "reflow" }

func TestCoupleLabeledRefusesUnknown(t *testing.T) {
	x := mat.New(2, 2)
	if err := coupling.CoupleLabeled(context.Background(), notLabelled{}, nil, x, x.Clone(), []int{0, 1}); err == nil {
		t.Fatal("a coupling that cannot carry labels was accepted")
	}
}
