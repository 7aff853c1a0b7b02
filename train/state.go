package train

import (
	"fmt"
	"slices"

	"github.com/flowlab/flowlab/optim"
)

// checkpoint captures the trainer's complete state.
func (tr *trainer) checkpoint() *Checkpoint {
	rng, err := tr.pcg.MarshalBinary()
	if err != nil { // PCG's MarshalBinary cannot fail
		panic(fmt.Sprintf("train: marshal rng: %v", err))
	}
	c := &Checkpoint{
		Version:    CheckpointVersion,
		ConfigHash: tr.cfg.Hash(),
		Step:       tr.step,
		RNG:        rng,
		F32:        map[string][]float32{},
		F64:        map[string][]float64{},
		Bytes:      map[string][]byte{},
	}
	loss := make([]float64, len(tr.losses))
	lr := make([]float64, len(tr.losses))
	var eta []float64
	if tr.eta != nil {
		eta = make([]float64, len(tr.losses))
	}
	for i, s := range tr.losses {
		loss[i], lr[i] = s.Loss, s.LR
		if eta != nil {
			eta[i] = s.EtaLoss
		}
	}
	c.F64["loss"], c.F64["lr"] = loss, lr
	if eta != nil {
		c.F64["eta_loss"] = eta
	}
	for _, m := range []*model{tr.v, tr.eta} {
		if m == nil {
			continue
		}
		c.F32[m.name+".params"] = slices.Clone(m.net.Params())
		if m.ema != nil {
			c.F32[m.name+".ema"] = slices.Clone(m.ema.Shadow)
		}
		st, err := m.opt.MarshalBinary()
		if err != nil {
			panic(fmt.Sprintf("train: marshal optimizer state: %v", err))
		}
		c.Bytes[m.name+".opt"] = st
	}
	return c
}

// restore loads a checkpoint into a freshly built trainer of the same
// configuration.
func (tr *trainer) restore(c *Checkpoint) error {
	bad := func(format string, args ...any) error {
		return cfgErrorf("checkpoint: %s", fmt.Sprintf(format, args...))
	}
	if c.Version != CheckpointVersion {
		return bad("format version %d, this flowlab reads version %d", c.Version, CheckpointVersion)
	}
	if h := tr.cfg.Hash(); c.ConfigHash != h {
		return bad("written by another configuration (config hash %.12s…, this run's is %.12s…)", c.ConfigHash, h)
	}
	if c.Step < 0 || c.Step > tr.cfg.Steps {
		return bad("step %d is outside 0..%d", c.Step, tr.cfg.Steps)
	}
	if err := tr.pcg.UnmarshalBinary(c.RNG); err != nil {
		return bad("rng state: %v", err)
	}
	loss, lr, eta := c.F64["loss"], c.F64["lr"], c.F64["eta_loss"]
	if len(loss) != c.Step || len(lr) != c.Step || (tr.eta != nil && len(eta) != c.Step) {
		return bad("loss history of %d/%d/%d rows for step %d", len(loss), len(lr), len(eta), c.Step)
	}
	for _, m := range []*model{tr.v, tr.eta} {
		if m == nil {
			if _, ok := c.F32["eta.params"]; ok {
				return bad("holds a denoiser this configuration does not train")
			}
			continue
		}
		p := c.F32[m.name+".params"]
		if len(p) != len(m.net.Params()) {
			return bad("%s.params has %d values, the network %d", m.name, len(p), len(m.net.Params()))
		}
		copy(m.net.Params(), p)
		if m.ema != nil {
			e := c.F32[m.name+".ema"]
			if len(e) != len(p) {
				return bad("%s.ema has %d values, the network %d", m.name, len(e), len(p))
			}
			copy(m.ema.Shadow, e)
		}
		if err := m.opt.UnmarshalBinary(c.Bytes[m.name+".opt"]); err != nil {
			return bad("%s.opt: %v", m.name, err)
		}
		if err := checkOptLen(m, len(p)); err != nil {
			return bad("%s.opt: %v", m.name, err)
		}
	}
	tr.step = c.Step
	tr.losses = make([]StepLoss, c.Step)
	for i := range tr.losses {
		tr.losses[i] = StepLoss{Step: i + 1, Loss: loss[i], LR: lr[i]}
		if eta != nil {
			tr.losses[i].EtaLoss = eta[i]
		}
	}
	return nil
}

// checkOptLen refuses an optimizer state whose buffers do not fit n
// parameters (the optimizer would panic on its first step).
func checkOptLen(m *model, n int) error {
	switch o := m.opt.(type) {
	case *optim.Adam:
		if len(o.M) != n || len(o.V) != n {
			return fmt.Errorf("the Adam moments hold %d and %d values, the network %d parameters", len(o.M), len(o.V), n)
		}
	case *optim.SGD:
		if o.Momentum != 0 && len(o.Buf) != n {
			return fmt.Errorf("SGD momentum buffer of %d values for %d parameters", len(o.Buf), n)
		}
	}
	return nil
}
