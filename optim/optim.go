// Package optim updates flat float32 parameter slices from their gradients:
// Adam, AdamW and SGD with momentum (with PyTorch's semantics), learning-rate
// schedules as multipliers of the step number, global-norm gradient clipping,
// and an exponential moving average (EMA) of the weights.
//
// Optimizer state is held in exported fields and has a binary encoding
// (MarshalBinary / UnmarshalBinary), so that a checkpointed run resumes
// bit-identically.
package optim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/flowlab/flowlab/mat"
)

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
	h             mat.AdamParams
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
	a.h = mat.AdamParams{
		LR: lr, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps,
		C1: float32(1 - math.Pow(float64(a.Beta1), float64(a.T))),
		C2: float32(1 - math.Pow(float64(a.Beta2), float64(a.T))),
	}
	if a.Decoupled {
		a.h.WD = a.WeightDecay
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
	mat.AdamUpdate(a.h, p, g, a.M[lo:hi], a.V[lo:hi])
}

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

// Binary state encoding: a magic tag, the hyper-parameters and step count,
// then the float32 slices, all little-endian, so that a resumed run continues
// with exactly the same bits.

var (
	adamMagic = [8]byte{'f', 'l', 'a', 'd', 'a', 'm', 0, 1}
	sgdMagic  = [8]byte{'f', 'l', 's', 'g', 'd', 0, 0, 1}
)

// ErrState is wrapped by UnmarshalBinary's errors for a malformed state.
var ErrState = errors.New("invalid optimizer state")

// MarshalBinary encodes the optimizer's full state.
func (a *Adam) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Write(adamMagic[:])
	writeHeader(&b, []float32{a.Beta1, a.Beta2, a.Eps, a.WeightDecay}, a.Decoupled, a.T)
	writeSlice(&b, a.M)
	writeSlice(&b, a.V)
	return b.Bytes(), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary.
func (a *Adam) UnmarshalBinary(data []byte) error {
	r := bytes.NewReader(data)
	var magic [8]byte
	var hp [4]float32
	var dec uint8
	var t int64
	if err := binary.Read(r, binary.LittleEndian, &magic); err != nil || magic != adamMagic {
		return fmt.Errorf("%w: not an Adam state", ErrState)
	}
	if err := readHeader(r, hp[:], &dec, &t); err != nil || dec > 1 || t < 0 {
		return fmt.Errorf("%w: Adam header: truncated or bad", ErrState)
	}
	m, err := readSlice(r)
	if err != nil {
		return fmt.Errorf("%w: Adam first moments: %v", ErrState, err)
	}
	v, err := readSlice(r)
	if err != nil {
		return fmt.Errorf("%w: Adam second moments: %v", ErrState, err)
	}
	if len(m) != len(v) || r.Len() != 0 {
		return fmt.Errorf("%w: Adam moments of lengths %d and %d, %d trailing bytes", ErrState, len(m), len(v), r.Len())
	}
	*a = Adam{Beta1: hp[0], Beta2: hp[1], Eps: hp[2], WeightDecay: hp[3], Decoupled: dec == 1, T: t, M: m, V: v}
	return nil
}

// MarshalBinary encodes the optimizer's full state.
func (s *SGD) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Write(sgdMagic[:])
	writeHeader(&b, []float32{s.Momentum, s.Dampening, s.WeightDecay}, s.Nesterov, s.T)
	writeSlice(&b, s.Buf)
	return b.Bytes(), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary.
func (s *SGD) UnmarshalBinary(data []byte) error {
	r := bytes.NewReader(data)
	var magic [8]byte
	var hp [3]float32
	var nest uint8
	var t int64
	if err := binary.Read(r, binary.LittleEndian, &magic); err != nil || magic != sgdMagic {
		return fmt.Errorf("%w: not an SGD state", ErrState)
	}
	if err := readHeader(r, hp[:], &nest, &t); err != nil || nest > 1 || t < 0 {
		return fmt.Errorf("%w: SGD header: truncated or bad", ErrState)
	}
	buf, err := readSlice(r)
	if err != nil {
		return fmt.Errorf("%w: SGD momentum buffer: %v", ErrState, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: SGD: %d trailing bytes", ErrState, r.Len())
	}
	*s = SGD{Momentum: hp[0], Dampening: hp[1], WeightDecay: hp[2], Nesterov: nest == 1, T: t, Buf: buf}
	return nil
}

// writeHeader writes hyper-parameters bit for bit (binary.Write would pass
// them through float64, which quiets signalling NaNs), a flag and the step.
func writeHeader(b *bytes.Buffer, hp []float32, flag bool, t int64) {
	var tmp []byte
	for _, v := range hp {
		tmp = binary.LittleEndian.AppendUint32(tmp, math.Float32bits(v))
	}
	if flag {
		tmp = append(tmp, 1)
	} else {
		tmp = append(tmp, 0)
	}
	b.Write(binary.LittleEndian.AppendUint64(tmp, uint64(t)))
}

// readHeader reads what writeHeader wrote.
func readHeader(r *bytes.Reader, hp []float32, flag *uint8, t *int64) error {
	tmp := make([]byte, 4*len(hp)+9)
	if _, err := io.ReadFull(r, tmp); err != nil {
		return err
	}
	for i := range hp {
		hp[i] = math.Float32frombits(binary.LittleEndian.Uint32(tmp[4*i:]))
	}
	*flag = tmp[4*len(hp)]
	*t = int64(binary.LittleEndian.Uint64(tmp[4*len(hp)+1:]))
	return nil
}

func writeSlice(b *bytes.Buffer, s []float32) {
	var tmp [8]byte
	binary.LittleEndian.PutUint64(tmp[:], uint64(len(s)))
	b.Write(tmp[:])
	b.Grow(4 * len(s))
	for _, v := range s {
		binary.LittleEndian.PutUint32(tmp[:4], math.Float32bits(v))
		b.Write(tmp[:4])
	}
}

func readSlice(r *bytes.Reader) ([]float32, error) {
	var tmp [8]byte
	if _, err := io.ReadFull(r, tmp[:]); err != nil {
		return nil, errors.New("truncated length")
	}
	n := binary.LittleEndian.Uint64(tmp[:])
	if n > uint64(r.Len())/4 {
		return nil, fmt.Errorf("length %d but %d bytes left", n, r.Len())
	}
	raw := make([]byte, 4*n)
	io.ReadFull(r, raw) // cannot fail: r holds at least 4n bytes
	s := make([]float32, n)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return s, nil
}
