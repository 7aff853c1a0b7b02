package nn

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
)

// A conditional net (Config.Classes = K > 0) computes v(x, t, y) for a class
// label y in 0..K−1 or the null label Null (classifier-free guidance trains
// one net for both, dropping labels to Null at some rate). The label enters
// with time:
//
//   - a film net with a learned time embedding adds a learned row L[y] of a
//     (K+1)×E table (row K for Null) to the pre-activation of the time MLP's
//     second layer, e = SiLU(W₂·SiLU(W₁·φ(t) + b₁) + b₂ + L[y]), as DiT adds
//     its class embedding to the time embedding before the modulation heads.
//     The table starts at zero, so a fresh conditional net computes the
//     unconditional net of the same seed, whatever the label. Its
//     safetensors name is "label_embed.weight" (PyTorch's nn.Embedding),
//     after the heads.
//   - an MLP takes K+1 one-hot columns after the time columns,
//     [x, t, sin, cos, onehot(y)] (column K for Null), in its first layer's
//     weight "0.weight"; they are drawn with that layer.
//
// The legacy film (TimeEmbed 0) and nets without time take no labels.
//
// The labels of a batch are set with SetLabels and read by every following
// Forward, JVP, Grad, Eval and EulerStep (Eval's chunks and Grad's shards
// take their rows' labels), until the next SetLabels.

// Null is the null label: the label a classifier-free-guidance net is
// trained with when the class is dropped, and the label of every row when
// no labels are set.
const Null = -1

// MaxClasses bounds Config.Classes.
const MaxClasses = 1 << 16

// labelEmbed is a learned-embedding film net's label table (views into the
// net's parameters and gradients) and the table rows of the current batch.
type labelEmbed struct {
	w, gw *mat.Dense // (K+1)×E
	rows  []int      // the batch's table rows (K for Null)
	zero  []float32  // E zeros: the bias of the SiLU after the sum
}

// checkClasses checks Config.Classes against the architecture.
func (c *Config) checkClasses() error {
	switch {
	case c.Classes < 0 || c.Classes > MaxClasses:
		return fmt.Errorf("nn: config: classes %d, want 0 to %d", c.Classes, MaxClasses)
	case c.Classes > 0 && c.NoTime:
		return fmt.Errorf("nn: config: classes %d with no_time (labels enter with time)", c.Classes)
	case c.Classes > 0 && c.Arch == "film" && c.TimeEmbed == 0:
		return fmt.Errorf("nn: config: classes %d with the legacy film (want time_embed > 0, or arch mlp)", c.Classes)
	}
	return nil
}

// oneHotCols is the number of one-hot label columns of an MLP's input.
func (c *Config) oneHotCols() int {
	if c.Classes > 0 && c.Arch == "mlp" {
		return c.Classes + 1
	}
	return 0
}

// labelParams is the size of a learned-embedding film net's label table.
func (c *Config) labelParams() int {
	if c.Classes > 0 && c.learned() {
		return (c.Classes + 1) * c.TimeEmbed
	}
	return 0
}

// newLabelEmbed lays out the label table in params/grads from off.
func newLabelEmbed(cfg *Config, params, grads []float32, off int) *labelEmbed {
	r, e := cfg.Classes+1, cfg.TimeEmbed
	return &labelEmbed{w: mat.NewFrom(r, e, params[off:off+r*e]), gw: mat.NewFrom(r, e, grads[off:off+r*e]), zero: make([]float32, e)}
}

// SetLabels sets the class label of each row of the batches that the
// following calls see: labels[i] (0..Classes−1, or Null) is row i's. It keeps
// the slice, not a copy. nil gives every row the null label. Calls panic when
// a batch's row count differs from len(labels) or a label is out of range
// (the caller checks what users give). SetLabels panics on a net without
// classes unless labels is nil.
func (n *Net) SetLabels(labels []int) {
	if labels != nil && n.cfg.Classes == 0 {
		panic("nn: SetLabels on a net without classes")
	}
	n.labels = labels
}

// Classes returns the number of class labels of a conditional net, else 0.
func (n *Net) Classes() int { return n.cfg.Classes }

// labelRows returns the labels of rows [r0, r1) of the current batch, nil
// when no labels are set (for Eval's chunks and Grad's shards).
func (n *Net) labelRows(r0, r1 int) []int {
	if n.labels == nil {
		return nil
	}
	return n.labels[r0:r1]
}

// fillLabels writes the labels of a batch of b rows where the net reads
// them: the one-hot columns of n.in (an MLP) or the label table's rows (film).
func (n *Net) fillLabels(b int) {
	k := n.cfg.Classes
	if n.labels != nil && len(n.labels) != b {
		panic(fmt.Sprintf("nn: %d labels set for a batch of %d rows", len(n.labels), b))
	}
	row := func(i int) int {
		if n.labels == nil {
			return k
		}
		switch y := n.labels[i]; {
		case y == Null:
			return k
		case y >= 0 && y < k:
			return y
		default:
			panic(fmt.Sprintf("nn: label %d of row %d: want 0..%d or Null", y, i, k-1))
		}
	}
	if n.te != nil {
		le := n.te.lab
		le.rows = le.rows[:0]
		for i := 0; i < b; i++ {
			le.rows = append(le.rows, row(i))
		}
		return
	}
	w, c := n.in.C, n.cfg.oneHotCols()
	for i := 0; i < b; i++ {
		oh := n.in.Data[(i+1)*w-c : (i+1)*w]
		clear(oh)
		oh[row(i)] = 1
	}
}

// secondLayer computes the time MLP's second layer with the label rows
// added before the SiLU: p2 = W₂·a1 + b₂ + L[y], e = SiLU(p2).
func (le *labelEmbed) secondLayer(th mat.Threads, te *timeEmbed) {
	th.GemmBiasAct(false, true, te.a1, te.w2, te.b2, mat.Identity, te.p2, te.p2)
	e := te.p2.C
	for i, r := range le.rows {
		p := te.p2.Data[i*e : (i+1)*e]
		l := le.w.Data[r*e : (r+1)*e]
		p = p[:len(l)]
		for j, v := range l {
			p[j] += v
		}
	}
	th.BiasAct(mat.SiLU, te.p2, le.zero, te.e)
}

// backward adds dL/dp2 (d, B×E) into the gradient rows of the batch's labels.
func (le *labelEmbed) backward(d *mat.Dense) {
	e := d.C
	for i, r := range le.rows {
		g := le.gw.Data[r*e : (r+1)*e]
		s := d.Data[i*e : (i+1)*e]
		s = s[:len(g)]
		for j, v := range s {
			g[j] += v
		}
	}
}

// tensors lists the label table's tensor (see Net.tensors).
func (le *labelEmbed) tensors() []tensor {
	return []tensor{{"label_embed.weight", []int64{int64(le.w.R), int64(le.w.C)}, le.w.Data}}
}
