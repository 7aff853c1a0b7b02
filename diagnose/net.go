package diagnose

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// NetField adapts a network to VJPField: JVPs by forward mode (nn.JVPField),
// VJPs by a forward pass and Backward with input gradients. Backward also
// adds into the net's parameter gradients, so NetField zeroes them after
// each VJP; like the Net, it is not safe for concurrent use.
type NetField struct {
	nn.JVPField
	ts []float32
}

// NewNetField returns the adapter for net.
func NewNetField(net *nn.Net) *NetField { return &NetField{JVPField: nn.JVPField{Net: net}} }

// VJP writes (∂v/∂x)ᵀ·u for every row of x into dst.
func (f *NetField) VJP(t float64, x, u, dst *mat.Dense) {
	if u.R != x.R || u.C != x.C || dst.R != x.R || dst.C != x.C {
		panic(fmt.Sprintf("diagnose: VJP shapes: x %s, u %s, dst %s", x.Shape(), u.Shape(), dst.Shape()))
	}
	if cap(f.ts) < x.R {
		f.ts = make([]float32, x.R)
	}
	f.ts = f.ts[:x.R]
	for i := range f.ts {
		f.ts[i] = float32(t)
	}
	f.Net.Forward(x, f.ts)
	g := f.Net.Backward(u, true)
	copy(dst.Data, g.Data)
	f.Net.ZeroGrad()
}
