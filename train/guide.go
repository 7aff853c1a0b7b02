package train

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// checkCond checks SampleOptions' labels and guidance against the model:
// every error a user can cause wraps ErrConfig.
func (m *Model) checkCond(x *mat.Dense, o SampleOptions) error {
	k := m.Net.Classes()
	if o.Labels == nil {
		if o.Guidance != nil {
			return cfgErrorf("guidance %v without labels: give the label to guide towards", *o.Guidance)
		}
		return nil
	}
	if k == 0 {
		return cfgErrorf("labels: the run was trained without --cond label, so its field takes no label")
	}
	if len(o.Labels) != x.R {
		return cfgErrorf("%d labels for %d points", len(o.Labels), x.R)
	}
	for i, y := range o.Labels {
		if y != nn.Null && (y < 0 || y >= k) {
			return cfgErrorf("label %d (point %d) is not one of the run's classes 0..%d", y, i, k-1)
		}
	}
	if o.Guidance == nil {
		return nil
	}
	w := *o.Guidance
	if math.IsNaN(w) || math.IsInf(w, 0) {
		return cfgErrorf("guidance %v is not a finite number", w)
	}
	if w != 1 && m.Config.CondDrop == 0 {
		return cfgErrorf("guidance %v needs a run trained with --cond-drop > 0: this run never trained the null label v(x, t, ∅) that guidance mixes in (w = 1, plain conditional sampling, needs none)", w)
	}
	return nil
}

// field returns net as the field that carries rows [r0, r0+n) of a batch
// under o: net itself with those rows' labels (or the null label), or the
// guided mix when Guidance is neither 1 nor 0 (nor unset).
func field(net *nn.Net, o SampleOptions, r0, n int) solve.Field {
	if o.Labels == nil || net.Classes() == 0 {
		net.SetLabels(nil)
		return net
	}
	labels := o.Labels[r0 : r0+n]
	w := 1.0
	if o.Guidance != nil {
		w = *o.Guidance
	}
	switch w {
	case 1:
		net.SetLabels(labels)
		return net
	case 0:
		net.SetLabels(nil)
		return net
	}
	return &guided{net: net, labels: labels, w: float32(w), null: mat.New(0, net.Dim())}
}

// guided is classifier-free guidance: v(x,t,∅) + w·(v(x,t,y) − v(x,t,∅)),
// each row with its label y, from one net trained with label dropout.
type guided struct {
	net    *nn.Net
	labels []int
	w      float32
	null   *mat.Dense // v(x, t, ∅)
}

// Dim returns the data dimension.
func (g *guided) Dim() int { return g.net.Dim() }

// Eval writes the guided field into out: two evaluations of the net, with
// the null label and with the rows' labels, mixed in float32.
func (g *guided) Eval(t float64, x, out *mat.Dense) {
	if x.R != len(g.labels) {
		panic(fmt.Sprintf("train: guided field for %d rows, x %s", len(g.labels), x.Shape()))
	}
	g.null.Reshape(x.R, x.C)
	g.net.SetLabels(nil)
	g.net.Eval(t, x, g.null)
	g.net.SetLabels(g.labels)
	g.net.Eval(t, x, out)
	u := g.null.Data[:len(out.Data)]
	for i, c := range out.Data {
		out.Data[i] = u[i] + g.w*(c-u[i])
	}
}
