package optim

import (
	"fmt"
	"math"
)

// Adam is torch.optim.Adam (WeightDecay added to the gradient, L2) or, with
// Decoupled set, torch.optim.AdamW (p ← p − lr·WeightDecay·p before the Adam
// step). Step counts are taken from T, which starts at 0.
type Adam struct {
	Beta1, Beta2, Eps float32 // 0.9, 0.999, 1e-8 in NewAdam
	WeightDecay       float32
	Decoupled         bool      // AdamW
	T                 int64     // steps taken
	M, V              []float32 // first and second moment estimates
	scratch           []float32 // gradient + L2 term (Adam with weight decay)

	// The step StepBlocks started, and applyFn = bound.applyBlock, bound
	// once (and again if the Adam was copied) so that StepBlocks allocates
	// nothing.
	h             adamStep
	params, grads []float32
	applyFn       func(lo, hi int)
	bound         *Adam
}

// NewAdam returns Adam for n parameters with PyTorch's defaults
// (β1 = 0.9, β2 = 0.999, eps = 1e-8, no weight decay).
func NewAdam(n int) *Adam {
	return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: make([]float32, n), V: make([]float32, n)}
}

// NewAdamW returns AdamW for n parameters with PyTorch's defaults
// (β1 = 0.9, β2 = 0.999, eps = 1e-8) and the given decoupled weight decay
// (PyTorch's default is 0.01).
func NewAdamW(n int, weightDecay float32) *Adam {
	a := NewAdam(n)
	a.WeightDecay, a.Decoupled = weightDecay, true
	return a
}

// Step applies one Adam(W) step with learning rate lr.
func (a *Adam) Step(params, grads []float32, lr float32) {
	a.begin(params, grads, lr)
	a.applyBlock(0, len(params))
	a.params, a.grads = nil, nil // do not keep the caller's slices alive
}

// StepBlocks starts one Adam(W) step with learning rate lr and returns the
// function that applies it to a block of the parameters (see BlockStepper),
// valid until the next Step or StepBlocks. The Adam keeps params and grads
// until then.
func (a *Adam) StepBlocks(params, grads []float32, lr float32) func(lo, hi int) {
	a.begin(params, grads, lr)
	if a.bound != a {
		a.applyFn, a.bound = a.applyBlock, a
	}
	return a.applyFn
}

// begin counts a step and sets its constants and operands.
func (a *Adam) begin(params, grads []float32, lr float32) {
	if len(grads) != len(params) || len(a.M) != len(params) || len(a.V) != len(params) {
		panic(fmt.Sprintf("optim: Adam lengths params %d grads %d state %d/%d", len(params), len(grads), len(a.M), len(a.V)))
	}
	a.T++
	a.h = adamStep{
		lr: lr, beta1: a.Beta1, beta2: a.Beta2, eps: a.Eps,
		c1: float32(1 - math.Pow(float64(a.Beta1), float64(a.T))),
		c2: float32(1 - math.Pow(float64(a.Beta2), float64(a.T))),
	}
	if a.Decoupled {
		a.h.wd = a.WeightDecay
	} else if a.WeightDecay != 0 && len(a.scratch) != len(grads) {
		a.scratch = make([]float32, len(grads))
	}
	a.params, a.grads = params, grads
}

// applyBlock applies the step begun to parameters [lo, hi).
func (a *Adam) applyBlock(lo, hi int) {
	p, g := a.params[lo:hi], a.grads[lo:hi]
	if a.WeightDecay != 0 && !a.Decoupled {
		s := a.scratch[lo:hi]
		for i, gi := range g {
			s[i] = gi + a.WeightDecay*p[i]
		}
		g = s
	}
	adamUpdate(a.h, p, g, a.M[lo:hi], a.V[lo:hi])
}
