package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// The values of Config.Drift.
//
// A stochastic interpolant's drift is b = E[α̇x0 + β̇x1 + γ̇z | x_t]. Trained
// on that target directly (DriftFull), the network sees γ̇z, whose variance
// grows without bound near t = 0 and 1 for the Brownian γ; in 128 dimensions
// with a rank-64 source it then learns nothing of the drift's gentle live
// part (docs/STOCHASTIC.md). DriftSplit trains the network on the bounded
// α̇x0 + β̇x1, whose regression is v = E[α̇x0 + β̇x1 | x_t], and takes the
// noise part from the denoiser η = E[z | x_t] that the score needs anyway:
// b = v + γ̇·η.
const (
	DriftFull  = ""
	DriftSplit = "split"
)

// ParseDrift reads a drift name: "full" (or "") for DriftFull, "split" for
// DriftSplit.
func ParseDrift(name string) (string, error) {
	switch name {
	case "", "full":
		return DriftFull, nil
	case DriftSplit:
		return DriftSplit, nil
	}
	return "", fmt.Errorf("drift: unknown value %q (want full or split)", name)
}

// validateDrift checks Drift against the interpolant: a split drift needs a
// noise term γ̇z to split off and a denoiser of z (not of x0).
func (c Config) validateDrift() error {
	d, err := ParseDrift(c.Drift)
	if err != nil || d == DriftFull {
		return err
	}
	ip, err := c.Interpolant()
	if err != nil {
		return nil // reported on its own
	}
	if ip.Gamma.Zero() || ip.OneSided() {
		return errors.New("drift: split needs a two-sided interpolant with γ ≠ 0: there is no noise term γ̇z to split off")
	}
	return nil
}

// batchFor returns the function that builds a training batch for cfg's
// drift: Batch (target b) or BatchSplit (target v).
func batchFor(cfg Config, ip interp.Interpolant) func(x0, x1, z *mat.Dense, t []float32, xt, b, eta *mat.Dense) {
	if cfg.Drift == DriftSplit {
		return ip.BatchSplit
	}
	return ip.Batch
}

// noiseRate returns t ↦ γ̇ at t clamped to the interpolant's training range
// (interp.Interpolant.TRange): the network η was never trained outside it,
// and there the Brownian γ̇ grows without bound (to ±Inf at the ends), so
// γ̇·η would amplify η's error without limit.
func noiseRate(ip interp.Interpolant) func(t float64) float64 {
	lo, hi := ip.TRange()
	return func(t float64) float64 { return ip.Coeffs(min(max(t, lo), hi)).DG }
}

// splitDrift is the drift b = v + γ̇(t)·η of a DriftSplit run, from the two
// fields v and η (each the net itself or a guided mix).
type splitDrift struct {
	v, eta solve.Field
	rate   func(t float64) float64
	e      *mat.Dense // η
}

// newSplitDrift returns b = v + γ̇·η for the interpolant ip.
func newSplitDrift(v, eta solve.Field, ip interp.Interpolant) *splitDrift {
	return &splitDrift{v: v, eta: eta, rate: noiseRate(ip), e: mat.New(0, v.Dim())}
}

// Dim returns the data dimension.
func (s *splitDrift) Dim() int { return s.v.Dim() }

// Eval writes v(x, t) + γ̇(t)·η(x, t) into out.
func (s *splitDrift) Eval(t float64, x, out *mat.Dense) {
	s.v.Eval(t, x, out)
	s.e.Reshape(x.R, x.C)
	s.eta.Eval(t, x, s.e)
	axpy(float32(s.rate(t)), s.e, out)
}

// splitJVP is a splitDrift of two fields with forward-mode JVPs (the bare
// networks): a solve.JVPField.
type splitJVP struct {
	splitDrift
	jv, jeta solve.JVPField
	de       *mat.Dense // ∂η/∂x·dx
}

// JVP writes b(x, t) into out and ∂b/∂x·dx = ∂v/∂x·dx + γ̇·∂η/∂x·dx into
// dout.
func (s *splitJVP) JVP(t float64, x, dx, out, dout *mat.Dense) {
	s.jv.JVP(t, x, dx, out, dout)
	s.e.Reshape(x.R, x.C)
	s.de.Reshape(x.R, x.C)
	s.jeta.JVP(t, x, dx, s.e, s.de)
	r := float32(s.rate(t))
	axpy(r, s.e, out)
	axpy(r, s.de, dout)
}

// axpy sets y += a·x.
func axpy(a float32, x, y *mat.Dense) {
	for i, v := range x.Data[:len(y.Data)] {
		y.Data[i] += a * v
	}
}

// drift returns the field that carries rows [r0, r0+n) of a batch under o:
// the drift network (see field), or for a DriftSplit run v + γ̇·η.
func (m *Model) drift(o SampleOptions, r0, n int) (solve.Field, error) {
	if m.Config.Drift != DriftSplit {
		return field(m.Net, o, r0, n), nil
	}
	ip, err := m.splitInterpolant()
	if err != nil {
		return nil, err
	}
	return newSplitDrift(field(m.Net, o, r0, n), field(m.Eta, o, r0, n), ip), nil
}

// sdeFields returns the drift and the denoiser that carry rows [r0, r0+n)
// of a batch along the SDE. A split drift shares its η with the score
// through lastEval, so that each step evaluates η once, not twice.
func (m *Model) sdeFields(o SampleOptions, r0, n int) (b, eta solve.Field, err error) {
	eta = field(m.Eta, o, r0, n)
	if m.Config.Drift != DriftSplit {
		return field(m.Net, o, r0, n), eta, nil
	}
	ip, err := m.splitInterpolant()
	if err != nil {
		return nil, nil, err
	}
	shared := &lastEval{f: eta, x: mat.New(0, eta.Dim()), out: mat.New(0, eta.Dim())}
	return newSplitDrift(field(m.Net, o, r0, n), shared, ip), shared, nil
}

// lastEval is a field that remembers its last evaluation and answers a
// repeat of it, the same t and the same bits of x, from memory: the SDE of
// a split drift asks for η at each (t, x) twice, inside b and for the
// score. The networks are deterministic, so the answer is the bits a second
// evaluation would give.
type lastEval struct {
	f      solve.Field
	t      float64
	x, out *mat.Dense // the last input and output
	ok     bool
}

// Dim returns the data dimension.
func (l *lastEval) Dim() int { return l.f.Dim() }

// Eval writes f(x, t) into out, from memory when (t, x) repeats the last call.
func (l *lastEval) Eval(t float64, x, out *mat.Dense) {
	if l.ok && t == l.t && x.R == l.x.R && x.C == l.x.C && sameBits(x.Data, l.x.Data) {
		copy(out.Data, l.out.Data)
		return
	}
	l.f.Eval(t, x, out)
	l.t, l.ok = t, true
	l.x.Reshape(x.R, x.C)
	copy(l.x.Data, x.Data)
	l.out.Reshape(out.R, out.C)
	copy(l.out.Data, out.Data)
}

// sameBits reports whether a and b hold the same float32 bits.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i, v := range a {
		if math.Float32bits(v) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// splitInterpolant returns a DriftSplit run's interpolant, or an error when
// the model lacks the denoiser its drift needs.
func (m *Model) splitInterpolant() (interp.Interpolant, error) {
	if m.Eta == nil {
		return interp.Interpolant{}, cfgErrorf("the run's drift is split (b = v + γ̇·η) but the model has no denoiser η")
	}
	ip, err := m.Config.Interpolant()
	if err != nil {
		return interp.Interpolant{}, cfgErrorf("%w", err)
	}
	return ip, nil
}

// DriftJVP returns the model's drift b with forward-mode JVPs, for
// likelihoods (solve.LogLikelihood): the network itself, or for a DriftSplit
// run v + γ̇·η from both networks. Labels are not applied.
func (m *Model) DriftJVP() (solve.JVPField, error) {
	if m.Config.Drift != DriftSplit {
		return nn.JVPField{Net: m.Net}, nil
	}
	ip, err := m.splitInterpolant()
	if err != nil {
		return nil, err
	}
	v, eta := nn.JVPField{Net: m.Net}, nn.JVPField{Net: m.Eta}
	return &splitJVP{splitDrift: *newSplitDrift(v, eta, ip), jv: v, jeta: eta, de: mat.New(0, v.Dim())}, nil
}

// DriftRows evaluates the drift b at every row of x with its own time t[i]
// (as nn.Net.Forward, into a new matrix): the network, or for a DriftSplit
// run v + γ̇(t[i])·η. It panics when a split run's model lacks η, which Fit
// and Load never return.
func (m *Model) DriftRows(x *mat.Dense, t []float32) *mat.Dense {
	out := m.Net.Forward(x, t).Clone()
	if m.Config.Drift != DriftSplit {
		return out
	}
	ip, err := m.splitInterpolant()
	if err != nil {
		panic(fmt.Sprintf("train: DriftRows: %v", err))
	}
	rate := noiseRate(ip)
	e := m.Eta.Forward(x, t)
	for i, ti := range t {
		r := float32(rate(float64(ti)))
		er, or := e.Row(i), out.Row(i)
		for j := range or {
			or[j] += r * er[j]
		}
	}
	return out
}
