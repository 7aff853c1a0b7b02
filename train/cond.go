package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/nn"
)

// Conditional runs (Config.Cond "label"): the drift (and η) take the class
// label of the target draw x1 as a third input (nn.Config.Classes). Every
// step draws x1 with its labels (dist.Labeled.SampleLabeled, the same draws
// as Sample), the coupling moves the labels with x1's rows
// (coupling.CoupleLabeled; label-ot pairs only within a label), and after z
// each row's label is replaced by the null label with probability CondDrop,
// so that one net learns both v(x, t, y) and v(x, t, ∅) (classifier-free
// guidance; Ho & Salimans 2022). Sampling (SampleOptions.Labels, Guidance)
// then carries points with v(x,t,∅) + w·(v(x,t,y) − v(x,t,∅)).

// validateCond checks the conditioning fields.
func (c Config) validateCond() []error {
	var errs []error
	switch c.Cond {
	case "", "label":
	default:
		errs = append(errs, fmt.Errorf("cond: unknown value %q (want label, or nothing)", c.Cond))
	}
	if math.IsNaN(c.CondDrop) || c.CondDrop < 0 || c.CondDrop >= 1 {
		errs = append(errs, fmt.Errorf("cond_drop: %v is outside [0, 1)", c.CondDrop))
	} else if c.CondDrop > 0 && c.Cond == "" {
		errs = append(errs, fmt.Errorf("cond_drop: %v without cond label (there is no label to drop)", c.CondDrop))
	}
	if c.Classes < 0 || c.Classes > 0 && c.Cond == "" {
		errs = append(errs, fmt.Errorf("classes: %d without cond label", c.Classes))
	}
	if cp, err := coupling.Parse(c.Coupling); err == nil && cp.String() == "label-ot" && c.Cond == "" {
		errs = append(errs, fmt.Errorf("coupling: label-ot pairs within labels: it needs cond label"))
	}
	return errs
}

// prepareCond fills Classes from a conditional run's target, which must
// carry labels.
func (c *Config) prepareCond(tgt dist.Sampler) error {
	if c.Cond == "" {
		return nil
	}
	l, ok := dist.LabelsOf(tgt)
	if !ok {
		return cfgErrorf("cond label: the target's draws carry no labels (use 8gaussians, moons, checkerboard, mnist or file:x.npy,labels=y.npy)")
	}
	if c.Classes != 0 && c.Classes != l.Classes() {
		return cfgErrorf("classes: config says %d, the target has %d", c.Classes, l.Classes())
	}
	c.Classes = l.Classes()
	return nil
}

// condBatch is a conditional run's labels of the current batch: x1's,
// then with some dropped to the null label; the nets read them (SetLabels).
type condBatch struct {
	tgt    dist.Labeled
	labels []int
	p      float64 // CondDrop
}

// newCondBatch returns the label state of a conditional trainer and gives
// the nets its label slice.
func newCondBatch(tgt dist.Sampler, cfg Config, v *nn.Net, eta *model) *condBatch {
	l, _ := dist.LabelsOf(tgt) // Prepare checked it
	c := &condBatch{tgt: l, labels: make([]int, cfg.Batch), p: cfg.CondDrop}
	v.SetLabels(c.labels)
	if eta != nil {
		eta.net.SetLabels(c.labels)
	}
	return c
}

// drop replaces each label by the null label with probability p (one draw
// per row; none when p is 0).
func (c *condBatch) drop(rng *rand.Rand) {
	if c.p == 0 {
		return
	}
	for i := range c.labels {
		if rng.Float64() < c.p {
			c.labels[i] = nn.Null
		}
	}
}

// drawTarget draws x1 (with its labels for a conditional run) and couples
// it with x0.
func (tr *trainer) drawTarget() error {
	if tr.cond == nil {
		tr.tgt.Sample(tr.rng, tr.x1)
		return tr.coupling.Couple(context.Background(), tr.rng, tr.x0, tr.x1)
	}
	tr.cond.tgt.SampleLabeled(tr.rng, tr.x1, tr.cond.labels)
	return coupling.CoupleLabeled(context.Background(), tr.coupling, tr.rng, tr.x0, tr.x1, tr.cond.labels)
}
