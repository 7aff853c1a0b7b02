package nn

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
)

// OutDim is the width of the network's output: Out, or Dim when Out is 0.
func (c *Config) OutDim() int {
	if c.Out > 0 {
		return c.Out
	}
	return c.Dim
}

// checkShape checks the fields of a net that is not a velocity field (Out,
// NoTime): both belong to mlp nets, and a net without time has no Fourier
// features of it.
func (c *Config) checkShape() error {
	if c.Out < 0 {
		return fmt.Errorf("nn: config: out %d, want ≥ 0", c.Out)
	}
	if (c.Out > 0 || c.NoTime) && c.Arch != "mlp" {
		return fmt.Errorf("nn: config: out and no_time are for mlp nets, not %s", c.Arch)
	}
	if c.NoTime && c.Fourier != 0 {
		return fmt.Errorf("nn: config: fourier %d with no_time (want 0: there is no t)", c.Fourier)
	}
	return nil
}

// OutDim returns the width of the net's output (Config.OutDim).
func (n *Net) OutDim() int { return n.cfg.OutDim() }

// Apply writes the net's output for every row of x (B×Dim) into out
// (B×OutDim), at time 0 for a net that has a time input. Large batches are
// cut into Eval's fixed chunks and shared among the cores, so the bits do
// not depend on GOMAXPROCS. It is the forward map of a net that is not a
// velocity field: a classifier, an encoder or a decoder.
func (n *Net) Apply(x, out *mat.Dense) {
	if x.C != n.cfg.Dim || out.R != x.R || out.C != n.cfg.OutDim() {
		panic(fmt.Sprintf("nn: Apply shapes: x %s, out %s, want B×%d and B×%d", x.Shape(), out.Shape(), n.cfg.Dim, n.cfg.OutDim()))
	}
	n.evalRows(0, x, out, 0)
}

// Hidden returns hidden layer i's activations (B×Hidden[i]) from the last
// Forward or JVP (not Eval, Apply or Grad, whose chunks run on worker nets):
// a classifier's penultimate features are Hidden(len(Hidden)−1). The matrix
// is owned by the net and valid until its next call. It panics when i is
// not a hidden layer.
func (n *Net) Hidden(i int) *mat.Dense {
	if i < 0 || i >= len(n.cfg.Hidden) {
		panic(fmt.Sprintf("nn: Hidden(%d) of a net with %d hidden layers", i, len(n.cfg.Hidden)))
	}
	return n.layers[i].act
}

// HiddenOf returns hidden layer i's activations for every row of x
// (x.R×Hidden[i], a new matrix), computed by Forward on fixed chunks of
// Eval's size, so that the bits do not depend on how many rows x has
// beyond its chunks, nor on GOMAXPROCS.
func (n *Net) HiddenOf(x *mat.Dense, i int) *mat.Dense {
	n.Hidden(i) // checks i
	w := n.cfg.Hidden[i]
	out := mat.New(x.R, w)
	rows := n.evalChunk()
	t := n.timeColumn(min(rows, x.R), 0)
	d := x.C
	for r0 := 0; r0 < x.R; r0 += rows {
		r1 := min(r0+rows, x.R)
		xv := mat.Dense{R: r1 - r0, C: d, Data: x.Data[r0*d : r1*d]}
		n.Forward(&xv, t[:r1-r0])
		copy(out.Data[r0*w:r1*w], n.layers[i].act.Data)
	}
	return out
}
