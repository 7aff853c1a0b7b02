package experiment

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
)

// idRun is the intrinsic dimension of a flow's output beside the same
// estimators on exact samples of the same size from a rank-r Gaussian and a
// full-rank one in the same D dimensions. Nearest-neighbour estimators read
// low in tens of dimensions at a few thousand points, so the flow's value is
// read against those two: Position is 0 at the rank-r sample's value and 1
// at the full-rank sample's.
type idRun struct {
	TwoNN        float64 `json:"twonn"`
	TwoNNSpread  float64 `json:"twonn_spread"`  // bootstrap standard deviation
	LB           float64 `json:"levina_bickel"` // averaged over k = 10..20
	LBSpread     float64 `json:"levina_bickel_spread"`
	RankTwoNN    float64 `json:"rank_sample_twonn"`
	FullTwoNN    float64 `json:"full_sample_twonn"`
	RankLB       float64 `json:"rank_sample_levina_bickel"`
	FullLB       float64 `json:"full_sample_levina_bickel"`
	Position     float64 `json:"twonn_position"` // (TwoNN − RankTwoNN) / (FullTwoNN − RankTwoNN)
	LBPosition   float64 `json:"levina_bickel_position"`
	ReferenceVar float64 `json:"reference_var"` // variance of the reference samples' live directions
}

// idBootstrap is the number of bootstrap resamples behind each spread.
const idBootstrap = 50

// intrinsicOf estimates the intrinsic dimension of x (its rows against
// themselves) with TwoNN and the averaged Levina–Bickel MLE.
func intrinsicOf(ctx context.Context, x *mat.Dense, seed uint64) (*metrics.Intrinsic, error) {
	return metrics.IntrinsicDim(ctx, x, x, metrics.IntrinsicOptions{Bootstrap: idBootstrap, Seed: seed})
}

// measureID estimates the intrinsic dimension of a flow's output fx (rows
// in D = fx.C dimensions) and of exact samples of its size from a rank-r
// Gaussian and from N(0, I_D), both of variance 1, drawn from rng.
func measureID(ctx context.Context, fx *mat.Dense, r int, rng *rand.Rand) (*idRun, error) {
	d, n := fx.C, fx.R
	low, err := dist.Parse(fmt.Sprintf("embedded:dim=%d,rank=%d,var=1", d, r))
	if err != nil {
		return nil, err
	}
	full, err := dist.NewGaussian(d, 1, 0)
	if err != nil {
		return nil, err
	}
	seed := rng.Uint64()
	out := &idRun{ReferenceVar: 1}
	for _, c := range []struct {
		x         *mat.Dense
		two, lb   *float64
		twoS, lbS *float64
	}{
		{fx, &out.TwoNN, &out.LB, &out.TwoNNSpread, &out.LBSpread},
		{draw(low, n, rng), &out.RankTwoNN, &out.RankLB, nil, nil},
		{draw(full, n, rng), &out.FullTwoNN, &out.FullLB, nil, nil},
	} {
		id, err := intrinsicOf(ctx, c.x, seed)
		if err != nil {
			return nil, fmt.Errorf("intrinsic dimension: %w", err)
		}
		*c.two, *c.lb = id.TwoNN.Dim, id.LBAveraged.Dim
		if c.twoS != nil {
			*c.twoS, *c.lbS = id.TwoNN.Spread, id.LBAveraged.Spread
		}
	}
	out.Position = (out.TwoNN - out.RankTwoNN) / (out.FullTwoNN - out.RankTwoNN)
	out.LBPosition = (out.LB - out.RankLB) / (out.FullLB - out.RankLB)
	return out, nil
}
