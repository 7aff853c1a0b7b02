package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/flowlab/flowlab/mat"
)

// IDEstimate is one intrinsic-dimension estimate with its sampling spread:
// the standard deviation of the estimate over bootstrap resamples of the
// query points (their neighbour distances held fixed), a measure of how much
// the figure moves with the sample of queries, not of the estimator's bias.
type IDEstimate struct {
	Dim    float64 `json:"dim"`
	Spread float64 `json:"spread"`       // bootstrap standard deviation
	K      int     `json:"k,omitempty"`  // neighbours used (Levina–Bickel), or the top of the averaged range
	K1     int     `json:"k1,omitempty"` // bottom of the averaged range (LevinaBickelRange)
}

// TwoNNDim is Facco et al.'s (2017) TwoNN estimate from the ratios
// μ_i = r₂/r₁ of each query's two nearest distances: with the μ sorted and
// F_i = i/N their empirical CDF, the slope through the origin of
// −log(1 − F_i) against log μ_i over the smallest (1 − discard)·N ratios
// (Facco et al. discard the largest 10 %: discard = 0.1). It panics when
// nb.K < 2 or discard is outside [0, 1).
func TwoNNDim(nb *Neighbours, discard float64) float64 {
	return twoNN(logRatios(nb), discard, nil)
}

// logRatios returns log(r₂/r₁) of every query.
func logRatios(nb *Neighbours) []float64 {
	if nb.K < 2 {
		panic(fmt.Sprintf("metrics: TwoNN needs 2 neighbours per point, have %d", nb.K))
	}
	lm := make([]float64, nb.N())
	for i := range lm {
		r := nb.Row(i)
		lm[i] = math.Log(r[1] / r[0])
	}
	return lm
}

// twoNN fits the TwoNN slope to the log-ratios of the points in sel (all
// when sel is nil).
func twoNN(lm []float64, discard float64, sel []int) float64 {
	if !(discard >= 0 && discard < 1) {
		panic(fmt.Sprintf("metrics: TwoNN discard fraction %v outside [0, 1)", discard))
	}
	x := lm
	if sel != nil {
		x = make([]float64, len(sel))
		for i, s := range sel {
			x[i] = lm[s]
		}
	} else {
		x = slices.Clone(lm)
	}
	slices.Sort(x)
	n := len(x)
	keep := int(math.Floor((1 - discard) * float64(n)))
	keep = min(keep, n-1) // F = 1 at the last point: −log 0
	var sxy, sxx float64
	for i := 0; i < keep; i++ {
		y := -math.Log(1 - float64(i+1)/float64(n))
		sxy += x[i] * y
		sxx += x[i] * x[i]
	}
	return sxy / sxx
}

// LevinaBickelDim is the Levina–Bickel maximum-likelihood estimate with k
// neighbours, averaged over points as MacKay and Ghahramani propose: the
// inverse of the mean over queries of (1/(k−1))·Σ_{j<k} log(T_k/T_j), where
// T_j is the j-th neighbour distance (averaging inverse dimensions is what
// the likelihood of all points together gives; averaging the per-point
// estimates is biased upward). It panics when k < 2 or k > nb.K.
func LevinaBickelDim(nb *Neighbours, k int) float64 {
	return lbDim(lbSums(nb, k), k, nil)
}

// lbSums returns Σ_{j<k} log(T_k/T_j) of every query.
func lbSums(nb *Neighbours, k int) []float64 {
	if k < 2 || k > nb.K {
		panic(fmt.Sprintf("metrics: Levina–Bickel with k = %d needs 2 ≤ k ≤ %d (the neighbours found)", k, nb.K))
	}
	s := make([]float64, nb.N())
	for i := range s {
		r := nb.Row(i)
		lk := math.Log(r[k-1])
		for j := 0; j < k-1; j++ {
			s[i] += lk - math.Log(r[j])
		}
	}
	return s
}

// lbDim is (k−1)/mean(S) over the points in sel (all when sel is nil).
func lbDim(s []float64, k int, sel []int) float64 {
	var sum float64
	n := len(s)
	if sel == nil {
		for _, v := range s {
			sum += v
		}
	} else {
		n = len(sel)
		for _, i := range sel {
			sum += s[i]
		}
	}
	return float64(k-1) * float64(n) / sum
}

// IntrinsicOptions configures IntrinsicDim.
type IntrinsicOptions struct {
	// Ks are the neighbour counts of the Levina–Bickel estimates (default
	// 3, 5, 10, 20).
	Ks []int
	// K1, K2 bound the range of k the averaged Levina–Bickel estimate
	// averages over (Levina and Bickel's 10..20 by default).
	K1, K2 int
	// Discard is TwoNN's discarded fraction of the largest ratios (default
	// 0.1, Facco et al.'s; a negative value means 0).
	Discard float64
	// Bootstrap is the number of resamples of the query points for the
	// spread (default 200; negative: none).
	Bootstrap int
	// Seed seeds the resampling.
	Seed uint64
}

func (o IntrinsicOptions) defaults() IntrinsicOptions {
	if len(o.Ks) == 0 {
		o.Ks = []int{3, 5, 10, 20}
	}
	if o.K1 == 0 && o.K2 == 0 {
		o.K1, o.K2 = 10, 20
	}
	if o.Discard == 0 {
		o.Discard = 0.1
	}
	o.Discard = max(o.Discard, 0)
	if o.Bootstrap == 0 {
		o.Bootstrap = 200
	}
	return o
}

// Intrinsic holds the intrinsic-dimension estimates of a sample.
type Intrinsic struct {
	N            int          `json:"n"`         // queries
	Ref          int          `json:"ref"`       // reference points
	Bootstrap    int          `json:"bootstrap"` // resamples behind each spread
	TwoNN        IDEstimate   `json:"twonn"`     // Facco et al., 10 % discarded
	LevinaBickel []IDEstimate `json:"levina_bickel"`
	LBAveraged   IDEstimate   `json:"levina_bickel_averaged"` // mean of the estimates for k = K1..K2
}

// ErrDegenerate is wrapped by IntrinsicDim's error when the neighbour
// distances give no finite estimate: points repeated so often that a
// query's neighbours are all equally far (log-ratios of zero).
var ErrDegenerate = errors.New("neighbour distances are degenerate (repeated points): no finite estimate")

// IntrinsicDim estimates the intrinsic dimension of the law behind ref from
// the neighbours of the query rows q within ref (q may be rows of ref: a
// point's zero distance to itself is skipped). See NearestNeighbours,
// TwoNNDim, LevinaBickelDim. Errors: widths that differ, a k range that is
// not 2 ≤ k, K1 ≤ K2, a Discard of 1 or more (or NaN), or too few points.
func IntrinsicDim(ctx context.Context, q, ref *mat.Dense, o IntrinsicOptions) (*Intrinsic, error) {
	o = o.defaults()
	kmax := max(2, o.K2)
	for _, k := range o.Ks {
		if k < 2 {
			return nil, fmt.Errorf("metrics: intrinsic dimension: k = %d, want ≥ 2", k)
		}
		kmax = max(kmax, k)
	}
	if o.K1 < 2 || o.K2 < o.K1 {
		return nil, fmt.Errorf("metrics: intrinsic dimension: averaging range k = %d..%d, want 2 ≤ k1 ≤ k2", o.K1, o.K2)
	}
	if !(o.Discard < 1) {
		return nil, fmt.Errorf("metrics: intrinsic dimension: TwoNN discard fraction %v, want one below 1", o.Discard)
	}
	if q.R < 3 {
		return nil, fmt.Errorf("metrics: intrinsic dimension: %d query points, want at least 3", q.R)
	}
	nb, err := NearestNeighbours(ctx, q, ref, kmax)
	if err != nil {
		return nil, err
	}
	res := &Intrinsic{N: q.R, Ref: ref.R, Bootstrap: max(o.Bootstrap, 0)}
	lm := logRatios(nb)
	res.TwoNN = IDEstimate{Dim: twoNN(lm, o.Discard, nil)}
	sums := make(map[int][]float64)
	sumsOf := func(k int) []float64 {
		if sums[k] == nil {
			sums[k] = lbSums(nb, k)
		}
		return sums[k]
	}
	averaged := func(sel []int) float64 {
		var s float64
		for k := o.K1; k <= o.K2; k++ {
			s += lbDim(sumsOf(k), k, sel)
		}
		return s / float64(o.K2-o.K1+1)
	}
	for _, k := range o.Ks {
		res.LevinaBickel = append(res.LevinaBickel, IDEstimate{Dim: lbDim(sumsOf(k), k, nil), K: k})
	}
	res.LBAveraged = IDEstimate{Dim: averaged(nil), K1: o.K1, K: o.K2}
	for _, e := range append([]IDEstimate{res.TwoNN, res.LBAveraged}, res.LevinaBickel...) {
		if math.IsNaN(e.Dim) || math.IsInf(e.Dim, 0) {
			return nil, fmt.Errorf("metrics: intrinsic dimension: %w", ErrDegenerate)
		}
	}
	if o.Bootstrap > 0 {
		rng := rand.New(rand.NewPCG(o.Seed, 0x69646473)) // "idds"
		res.TwoNN.Spread = bootstrapSD(q.R, o.Bootstrap, rng, func(sel []int) float64 { return twoNN(lm, o.Discard, sel) })
		for i := range res.LevinaBickel {
			k := res.LevinaBickel[i].K
			res.LevinaBickel[i].Spread = bootstrapSD(q.R, o.Bootstrap, rng, func(sel []int) float64 { return lbDim(sumsOf(k), k, sel) })
		}
		res.LBAveraged.Spread = bootstrapSD(q.R, o.Bootstrap, rng, averaged)
	}
	return res, nil
}

// bootstrapSD returns the standard deviation of est over b resamples (with
// replacement) of n indices drawn from rng.
func bootstrapSD(n, b int, rng *rand.Rand, est func(sel []int) float64) float64 {
	sel := make([]int, n)
	var s, ss float64
	for range b {
		for i := range sel {
			sel[i] = rng.IntN(n)
		}
		v := est(sel)
		s += v
		ss += v * v
	}
	m := s / float64(b)
	return math.Sqrt(max(ss/float64(b)-m*m, 0) * float64(b) / float64(max(b-1, 1)))
}
