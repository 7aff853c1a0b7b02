package experiment

import (
	"context"
	"math"

	"github.com/flowlab/flowlab/diagnose"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// lipRun is what diagnose measures of a flow from a source with variance ε
// in its dead directions to N(0, b·I), beside the exact field's flow from
// the same points measured the same way: the flow map's largest singular
// value (its Lipschitz constant, √(b/ε) for the exact map) and the field's
// largest local Lipschitz constant σ₁(∂v/∂x) along the flow, and when.
type lipRun struct {
	Eps   float64 `json:"eps"`
	Price float64 `json:"price"` // √(b/ε), b = 1
	N     int     `json:"points"`
	// FlowSigma is the median over the points of σ₁ of the flow map's
	// Jacobian ∂X₁/∂X₀ (variational equation); FlowSigmaMax its largest.
	FlowSigma    float64 `json:"flow_map_sigma1"`
	FlowSigmaMax float64 `json:"flow_map_sigma1_max"`
	FieldLip     float64 `json:"field_max_lipschitz"`
	FieldLipT    float64 `json:"field_max_lipschitz_t"`
	// The exact field's values, from the same points.
	ExactFlowSigma float64 `json:"exact_flow_map_sigma1"`
	ExactFieldLip  float64 `json:"exact_field_max_lipschitz"`
	ExactFieldLipT float64 `json:"exact_field_max_lipschitz_t"`
}

// lipPoints is the number of source points whose trajectories diagnose
// follows (each carries a D×D flow-map Jacobian), and lipSteps the RK4
// steps of that integration.
const (
	lipPoints = 8
	lipSteps  = 25
)

// measureLip diagnoses the learned field net and the exact field of the
// linear interpolant from N(0, diag(v0)) to N(0, I) from the first
// lipPoints rows of x.
func measureLip(ctx context.Context, net *nn.Net, v0 []float64, eps float64, x *mat.Dense) (*lipRun, error) {
	d := len(v0)
	zero, v1 := make([]float64, d), make([]float64, d)
	for i := range v1 {
		v1[i] = 1
	}
	g, err := exact.NewGaussianField(zero, v0, zero, v1, interp.Interpolant{})
	if err != nil {
		return nil, err
	}
	x0 := &mat.Dense{R: min(lipPoints, x.R), C: d, Data: x.Data[:min(lipPoints, x.R)*d]}
	o := diagnose.Options{Solve: solve.Options{Method: solve.RK4, Steps: lipSteps}}
	learned, err := diagnose.Run(ctx, diagnose.NewNetField(net), x0, o)
	if err != nil {
		return nil, err
	}
	ex, err := diagnose.Run(ctx, g, x0, o)
	if err != nil {
		return nil, err
	}
	l := &lipRun{Eps: eps, Price: math.Sqrt(1 / eps), N: x0.R,
		FieldLip: learned.MaxLip.Value, FieldLipT: learned.MaxLip.T,
		ExactFieldLip: ex.MaxLip.Value, ExactFieldLipT: ex.MaxLip.T}
	if learned.FlowMap != nil && ex.FlowMap != nil {
		l.FlowSigma, l.FlowSigmaMax = learned.FlowMap.Sigma[0].Median, learned.FlowMap.Sigma[0].Max
		l.ExactFlowSigma = ex.FlowMap.Sigma[0].Median
	}
	return l, nil
}
