package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

// bruteKNN is the float64 reference: every distance, sorted by (distance,
// index), zeros skipped.
func bruteKNN(q, ref *mat.Dense, k int) ([]float64, []int) {
	var ds []float64
	var is []int
	for i := 0; i < q.R; i++ {
		type c struct {
			d float64
			j int
		}
		var cs []c
		for j := 0; j < ref.R; j++ {
			if e := exactSq(q.Row(i), ref.Row(j)); e > 0 {
				cs = append(cs, c{e, j})
			}
		}
		slices.SortFunc(cs, func(a, b c) int {
			if a.d != b.d {
				if a.d < b.d {
					return -1
				}
				return 1
			}
			return a.j - b.j
		})
		for _, x := range cs[:k] {
			ds = append(ds, math.Sqrt(x.d))
			is = append(is, x.j)
		}
	}
	return ds, is
}

// The certified screen must give exactly the float64 brute force's
// neighbours (same distances, same indices): also where float32 Gram
// distances cancel catastrophically (points far from the origin, close to
// each other), with duplicate points, and on any GOMAXPROCS.
func TestNearestNeighboursExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name      string
		n, m, d   int
		offset    float64
		scale     float64
		dups, k   int
		queryIsRf bool
	}{
		{"gaussian", 300, 2500, 20, 0, 1, 0, 7, false},
		{"self", 600, 600, 64, 0, 1, 0, 12, true},
		{"far from origin", 200, 3000, 16, 1000, 1e-3, 0, 5, false},
		{"duplicates", 400, 400, 8, 0, 1, 50, 6, true},
		{"narrow", 100, 5000, 3, 0, 1, 0, 20, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := mat.New(c.m, c.d)
			for i := range ref.Data {
				ref.Data[i] = float32(c.offset + c.scale*rng.NormFloat64())
			}
			for i := 0; i < c.dups; i++ {
				copy(ref.Row(c.m-1-i), ref.Row(i))
			}
			q := ref
			if !c.queryIsRf {
				q = mat.New(c.n, c.d)
				for i := range q.Data {
					q.Data[i] = float32(c.offset + c.scale*rng.NormFloat64())
				}
			}
			wantD, wantI := bruteKNN(q, ref, c.k)
			for _, procs := range []int{1, 2, 4} {
				old := runtime.GOMAXPROCS(procs)
				nb, err := NearestNeighbours(context.Background(), q, ref, c.k)
				runtime.GOMAXPROCS(old)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(nb.Dist, wantD) || !slices.Equal(nb.Index, wantI) {
					t.Fatalf("GOMAXPROCS %d: neighbours differ from the float64 brute force", procs)
				}
			}
		})
	}
}

func TestNearestNeighboursErrors(t *testing.T) {
	ctx := context.Background()
	a, b := mat.New(4, 3), mat.New(5, 2)
	for i := range a.Data {
		a.Data[i] = float32(i)
	}
	cases := []struct {
		name string
		q, r *mat.Dense
		k    int
	}{
		{"widths", a, b, 1},
		{"k zero", a, a, 0},
		{"k too large", a, a, 9},
		{"all duplicates", mat.New(1, 3), mat.New(4, 3), 1}, // every distance is 0
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NearestNeighbours(ctx, c.q, c.r, c.k); err == nil {
				t.Fatal("no error")
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NearestNeighbours(cctx, a, a, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestIntrinsicDimErrors: options a caller can get wrong are errors, not
// panics: a k below 2, an empty averaging range, a TwoNN discard fraction of
// 1 or more (nothing left to fit) or NaN, and fewer than 3 queries.
func TestIntrinsicDimErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := mat.New(40, 3)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	for _, c := range []struct {
		name string
		q    *mat.Dense
		o    IntrinsicOptions
	}{
		{"k below 2", x, IntrinsicOptions{Ks: []int{1}}},
		{"empty range", x, IntrinsicOptions{K1: 5, K2: 4}},
		{"discard 1", x, IntrinsicOptions{Discard: 1}},
		{"discard NaN", x, IntrinsicOptions{Discard: math.NaN()}},
		{"two queries", x.Rows(0, 2), IntrinsicOptions{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := IntrinsicDim(context.Background(), c.q, x, c.o); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TwoNN on exact Pareto ratios: for a locally uniform density in d
// dimensions μ = r₂/r₁ has P(μ > m) = m^(−d). At n = 20000 the fit's
// standard error is about 1.1·d/√n ≈ 0.8 % of d, so 3 % is ≥ 3.5 standard
// errors. The bootstrap spread (mean over 10 samples) must match the spread
// over 300 independent samples within 15 %: the sd over 300 samples is
// within ≈ 4 % of the truth, the mean of 10 bootstraps ≈ 2 %, so 15 % is
// three of their combined standard errors.
func TestTwoNNPareto(t *testing.T) {
	for _, d := range []float64{1, 4, 15} {
		t.Run(fmt.Sprint("d=", d), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(d), 3))
			draw := func(n int) *Neighbours {
				nb := &Neighbours{K: 2, Dist: make([]float64, 2*n), Index: make([]int, 2*n)}
				for i := 0; i < n; i++ {
					nb.Dist[2*i], nb.Dist[2*i+1] = 1, math.Pow(1-rng.Float64(), -1/d)
				}
				return nb
			}
			if got := TwoNNDim(draw(20000), 0.1); math.Abs(got-d) > 0.03*d {
				t.Fatalf("TwoNN %v, want %v", got, d)
			}
			const n, reps, boots = 2000, 300, 10
			var s, ss, boot float64
			for range reps {
				v := TwoNNDim(draw(n), 0.1)
				s, ss = s+v, ss+v*v
			}
			sd := math.Sqrt((ss - s*s/reps) / (reps - 1))
			for range boots {
				lm := logRatios(draw(n))
				boot += bootstrapSD(n, 200, rng, func(sel []int) float64 { return twoNN(lm, 0.1, sel) }) / boots
			}
			if math.Abs(boot/sd-1) > 0.15 {
				t.Fatalf("bootstrap spread %v, spread over samples %v", boot, sd)
			}
		})
	}
}

// embeddedID estimates the intrinsic dimension of a rank-r Gaussian in 64
// dimensions from 5000 queries against n reference draws (the queries are
// the first 5000 of them).
func embeddedID(t *testing.T, r, n int) *Intrinsic {
	t.Helper()
	e, err := dist.NewEmbedded(64, r, 1, 0, true, 7)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.New(n, 64)
	e.Sample(rand.New(rand.NewPCG(uint64(r), 11)), x)
	res, err := IntrinsicDim(context.Background(), x.Rows(0, min(n, 5000)), x, IntrinsicOptions{Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// estimates lists an Intrinsic's TwoNN, Levina–Bickel k = 5 and 10 and
// 10..20-averaged estimates with their names.
func estimates(res *Intrinsic) map[string]IDEstimate {
	m := map[string]IDEstimate{"TwoNN": res.TwoNN, "LB 10..20": res.LBAveraged}
	for _, lb := range res.LevinaBickel {
		if lb.K == 5 || lb.K == 10 {
			m[fmt.Sprintf("LB k=%d", lb.K)] = lb
		}
	}
	return m
}

// Embedded Gaussians of rank r = 2, 5, 10 in 64 dimensions, n = 5000
// (queries against the sample itself): TwoNN, the Levina–Bickel estimates
// for k = 5 and 10 and the 10..20 average within 10 % of r (the issue's
// criterion). The bootstrap spreads are ≤ 1.5 % of r at this n, so the 10 %
// is room for the estimators' bias, not for noise.
func TestIntrinsicEmbeddedGaussians(t *testing.T) {
	if testing.Short() {
		t.Skip("n = 5000 in 64 dimensions, three ranks")
	}
	for _, r := range []int{2, 5, 10} {
		t.Run(fmt.Sprint("rank ", r), func(t *testing.T) {
			for name, est := range estimates(embeddedID(t, r, 5000)) {
				t.Logf("%s: %.3f ± %.3f", name, est.Dim, est.Spread)
				if math.Abs(est.Dim-float64(r)) > 0.1*float64(r) {
					t.Errorf("%s %.3f not within 10 %% of %d", name, est.Dim, r)
				}
			}
		})
	}
}

// Rank 20 in 64 dimensions: at n = 5000 every estimator reads 16.4–17.4, a
// finite-sample bias (the neighbour balls reach across a good part of the
// Gaussian's scale, where its density is far from locally uniform), not an
// error of the code: it shrinks as the reference set grows. The test holds
// the same 5000 queries against 5000 and 80 000 reference draws: every
// estimate must rise by more than three combined bootstrap spreads, and
// TwoNN and Levina–Bickel k = 5 (the least biased) must be within 10 % of 20
// at n = 80 000.
func TestIntrinsicRank20Converges(t *testing.T) {
	if testing.Short() {
		t.Skip("5000 queries against 80 000 points in 64 dimensions")
	}
	small, large := estimates(embeddedID(t, 20, 5000)), estimates(embeddedID(t, 20, 80000))
	for name, s := range small {
		l := large[name]
		t.Logf("%s: n = 5000 %.3f ± %.3f, n = 80 000 %.3f ± %.3f", name, s.Dim, s.Spread, l.Dim, l.Spread)
		if l.Dim-s.Dim < 3*math.Hypot(s.Spread, l.Spread) {
			t.Errorf("%s does not rise with n: %.3f → %.3f", name, s.Dim, l.Dim)
		}
		if (name == "TwoNN" || name == "LB k=5") && math.Abs(l.Dim-20) > 2 {
			t.Errorf("%s at n = 80 000: %.3f not within 10 %% of 20", name, l.Dim)
		}
	}
}

// MNIST, pixels in [0, 1], 5000 training images (every 12th) as queries
// against all 60 000: within [12, 18] (NumPy's figures on a random 5000:
// Levina–Bickel 14.6/14.2/13.8/13.5 for k = 3/5/10/20, TwoNN 14.9).
func TestIntrinsicMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("5000 × 60 000 distances in 784 dimensions")
	}
	m, err := dist.LoadMNIST(dist.MNISTOptions{})
	if errors.Is(err, dist.ErrNoMNIST) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	all := m.Data()
	q := mat.New(5000, all.C)
	for i := 0; i < q.R; i++ {
		copy(q.Row(i), all.Row(12*i))
	}
	start := time.Now()
	res, err := IntrinsicDim(context.Background(), q, all, IntrinsicOptions{Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MNIST intrinsic dimension in %v", time.Since(start).Round(time.Millisecond))
	ests := append([]IDEstimate{res.TwoNN, res.LBAveraged}, res.LevinaBickel...)
	for _, e := range ests {
		t.Logf("k=%d: %.3f ± %.3f", e.K, e.Dim, e.Spread)
		if e.Dim < 12 || e.Dim > 18 {
			t.Errorf("MNIST estimate %.3f (k = %d) outside [12, 18]", e.Dim, e.K)
		}
	}
}

// TestIntrinsicDimDegenerate: points repeated until every neighbour of a
// query is as far as its first give no finite estimate, and say so.
func TestIntrinsicDimDegenerate(t *testing.T) {
	x := mat.New(200, 3)
	for i := 0; i < x.R; i++ {
		copy(x.Row(i), []float32{float32(i % 2), 1, 2})
	}
	if _, err := IntrinsicDim(context.Background(), x, x, IntrinsicOptions{Seed: 1}); !errors.Is(err, ErrDegenerate) {
		t.Fatalf("got %v, want ErrDegenerate", err)
	}
}
