package optim

import "fmt"

// SGD is torch.optim.SGD: with momentum μ the buffer is b ← μb + (1−dampening)g
// (b = g on the first step) and the step uses b, or g + μb with Nesterov;
// WeightDecay adds WeightDecay·p to the gradient first.
type SGD struct {
	Momentum, Dampening, WeightDecay float32
	Nesterov                         bool
	T                                int64     // steps taken
	Buf                              []float32 // momentum buffer (used when Momentum ≠ 0)

	// The step StepBlocks started (see Adam).
	first         bool
	lr            float32
	params, grads []float32
	applyFn       func(lo, hi int)
	bound         *SGD
}

// NewSGD returns SGD with the given momentum for n parameters.
func NewSGD(n int, momentum float32) *SGD {
	return &SGD{Momentum: momentum, Buf: make([]float32, n)}
}

// Step applies one SGD step with learning rate lr.
func (s *SGD) Step(params, grads []float32, lr float32) {
	s.begin(params, grads, lr)
	s.applyBlock(0, len(params))
	s.params, s.grads = nil, nil
}

// StepBlocks starts one SGD step with learning rate lr and returns the
// function that applies it to a block of the parameters (see BlockStepper),
// valid until the next Step or StepBlocks. The SGD keeps params and grads
// until then.
func (s *SGD) StepBlocks(params, grads []float32, lr float32) func(lo, hi int) {
	s.begin(params, grads, lr)
	if s.bound != s {
		s.applyFn, s.bound = s.applyBlock, s
	}
	return s.applyFn
}

// begin counts a step and sets its operands.
func (s *SGD) begin(params, grads []float32, lr float32) {
	if len(grads) != len(params) || (s.Momentum != 0 && len(s.Buf) != len(params)) {
		panic(fmt.Sprintf("optim: SGD lengths params %d grads %d buffer %d", len(params), len(grads), len(s.Buf)))
	}
	s.first = s.T == 0
	s.T++
	s.lr, s.params, s.grads = lr, params, grads
}

// applyBlock applies the step begun to parameters [lo, hi).
func (s *SGD) applyBlock(lo, hi int) {
	mu, damp, wd, lr := s.Momentum, 1-s.Dampening, s.WeightDecay, s.lr
	params := s.params
	for i := lo; i < hi; i++ {
		g := s.grads[i]
		if wd != 0 {
			g += wd * params[i]
		}
		if mu != 0 {
			b := g
			if !s.first {
				b = mu*s.Buf[i] + damp*g
			}
			s.Buf[i] = b
			if s.Nesterov {
				g += mu * b
			} else {
				g = b
			}
		}
		params[i] -= lr * g
	}
}
