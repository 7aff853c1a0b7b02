package nn

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
)

// EvalJVP writes v(x, t) into out and ∂v/∂x·dx into dout, with one time t for
// the whole batch (solve.JVPField's JVP; see JVPField).
func (n *Net) EvalJVP(t float64, x, dx, out, dout *mat.Dense) {
	if out.R != x.R || out.C != x.C || dout.R != x.R || dout.C != x.C {
		panic(fmt.Sprintf("nn: EvalJVP shapes: x %s, out %s, dout %s", x.Shape(), out.Shape(), dout.Shape()))
	}
	v, dv := n.JVP(x, dx, n.timeColumn(x.R, t))
	copy(out.Data, v.Data)
	copy(dout.Data, dv.Data)
}

// JVPField adapts a Net to solve.JVPField (whose JVP method takes a scalar
// time and output buffers; Net.JVP takes per-row times and returns its own).
type JVPField struct{ Net *Net }

// Dim returns the data dimension.
func (f JVPField) Dim() int { return f.Net.Dim() }

// Eval writes v(x, t) into out.
func (f JVPField) Eval(t float64, x, out *mat.Dense) { f.Net.Eval(t, x, out) }

// EulerStep sets x += h·v(x, t) (see Net.EulerStep).
func (f JVPField) EulerStep(t, h float64, x *mat.Dense) { f.Net.EulerStep(t, h, x) }

// JVP writes v(x, t) into out and ∂v/∂x·dx into dout.
func (f JVPField) JVP(t float64, x, dx, out, dout *mat.Dense) { f.Net.EvalJVP(t, x, dx, out, dout) }
