// Package optim updates flat float32 parameter slices from their gradients:
// Adam, AdamW and SGD with momentum (with PyTorch's semantics), learning-rate
// schedules as multipliers of the step number, global-norm gradient clipping,
// and an exponential moving average (EMA) of the weights.
//
// Optimizer state is held in exported fields and has a binary encoding
// (MarshalBinary / UnmarshalBinary), so that a checkpointed run resumes
// bit-identically.
package optim

// Optimizer updates params in place from grads (the same length). lr is the
// learning rate for this step (the base rate times the schedule's
// multiplier). Implementations keep their state for checkpoints.
type Optimizer interface {
	Step(params, grads []float32, lr float32)
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// BlockStepper is an Optimizer whose step updates each parameter from its
// own gradient and state alone, so that a step can be applied block by
// block, the blocks concurrently, with the bits of Step (nn.Net.GradUpdate
// applies it to each block of the gradient as soon as that block is summed).
type BlockStepper interface {
	Optimizer
	// StepBlocks starts one step with learning rate lr (it counts as a step,
	// as a call to Step does) and returns the function that applies it to
	// params[lo:hi] from grads[lo:hi]. The blocks must cover the parameters
	// once before the next step, with lo a multiple of 16; grads is read
	// only when a block is applied. Step(params, grads, lr) is
	// StepBlocks(params, grads, lr)(0, len(params)).
	StepBlocks(params, grads []float32, lr float32) func(lo, hi int)
}
