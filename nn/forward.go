package nn

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/mat"
)

// fillInput writes [x, t, sin(2πkt), cos(2πkt)] into n.in (reshaped to
// B×InputDim) and, when dx is not nil, [dx, 0...] into n.din.
func (n *Net) fillInput(x, dx *mat.Dense, t []float32) {
	d := n.cfg.Dim
	if x.C != d || len(t) != x.R {
		panic(fmt.Sprintf("nn: input x %s, t %d: want B×%d and B times", x.Shape(), len(t), d))
	}
	b, w := x.R, n.cfg.InputDim()
	n.in.Reshape(b, w)
	if f := n.cfg.Fourier; n.cfg.NoTime {
		copy(n.in.Data, x.Data[:b*d])
	} else if f == 0 && d == 2 && w == 3 {
		// [x0, x1, t], the 2-D fields of the toy experiments, with a
		// loop body of fixed size instead of fillRows' general one, which
		// is a visible part of the tiny net's Eval.
		in, xs := n.in.Data[:3*b], x.Data[:2*b]
		for i, ti := range t {
			o, s := in[3*i:3*i+3:3*i+3], xs[2*i:2*i+2:2*i+2]
			o[0], o[1], o[2] = s[0], s[1], ti
		}
	} else {
		n.fillRows(x, t, f)
	}
	if n.te != nil {
		n.te.features(t)
	}
	if n.cfg.Classes > 0 {
		n.fillLabels(b)
	}
	if n.emb != nil {
		e := n.cfg.EmbedDim()
		n.emb.Reshape(b, e)
		for i := 0; i < b; i++ {
			copy(n.emb.Data[i*e:(i+1)*e], n.in.Data[i*w+d:(i+1)*w])
		}
	}
	if dx == nil {
		return
	}
	if dx.R != x.R || dx.C != x.C {
		panic(fmt.Sprintf("nn: JVP shapes: x %s, dx %s", x.Shape(), dx.Shape()))
	}
	n.din.Reshape(b, w)
	for i := 0; i < b; i++ {
		row := n.din.Data[i*w : (i+1)*w]
		copy(row[:d], dx.Data[i*d:(i+1)*d])
		clear(row[d:])
	}
}

// fillRows writes the rows [x, t, sin(2πkt), cos(2πkt)] (f Fourier
// frequencies) of n.in, already shaped B×InputDim, for fillInput.
func (n *Net) fillRows(x *mat.Dense, t []float32, f int) {
	d, w := n.cfg.Dim, n.cfg.InputDim()
	for i, ti := range t {
		row, xr := n.in.Data[i*w:(i+1)*w], x.Data[i*d:(i+1)*d]
		if d <= 8 {
			// Element by element: for a low-dimensional field a call to
			// copy per row costs more than the copying.
			row := row[:len(xr)]
			//lint:ignore S1001 a copy call per short row costs more than the loop
			for j, v := range xr {
				row[j] = v
			}
		} else {
			copy(row[:d], xr)
		}
		row[d] = ti
		for k := 1; k <= f; k++ {
			s, c := math.Sincos(2 * math.Pi * float64(k) * float64(ti))
			row[d+k] = float32(s)
			row[d+f+k] = float32(c)
		}
	}
}

// Forward evaluates v(x_i, t_i) for every row x_i of x (B×Dim) and time t_i
// (len(t) = B). The result is owned by the net and valid until its next
// Forward, JVP, Eval or EulerStep. Backward uses what Forward stored.
func (n *Net) Forward(x *mat.Dense, t []float32) *mat.Dense {
	n.fillInput(x, nil, t)
	return n.forward()
}

func (n *Net) forward() *mat.Dense { return n.forwardTo(nil, nil) }

// forwardTo is forward with the output written into dst (of the output's
// shape) instead of the last layer's buffer, when dst is not nil: Eval's
// chunks land in the caller's matrix without a copy. packs, when not nil,
// holds each layer's Wᵀ packed (see packWeights).
func (n *Net) forwardTo(dst *mat.Dense, packs []mat.Packed) *mat.Dense {
	h := n.in
	last := len(n.layers) - 1
	if n.te != nil {
		n.te.forward(n.th, &n.cfg, n.layers)
	}
	for i := range n.layers[:last] {
		l := &n.layers[i]
		n.linear(l, h, packOf(packs, i))
		h = l.act
	}
	return n.output(h, dst, packOf(packs, last))
}

// packOf returns &packs[i], or nil when there are no packs or layer i has
// none (film).
func packOf(packs []mat.Packed, i int) *mat.Packed {
	if packs == nil || packs[i].Empty() {
		return nil
	}
	return &packs[i]
}

// packWeights packs every MLP layer's Wᵀ into n.packs, for products that
// share them (Eval's chunks, Grad's shards).
func (n *Net) packWeights() []mat.Packed {
	if len(n.packs) != len(n.layers) {
		n.packs = make([]mat.Packed, len(n.layers))
	}
	for i := range n.layers {
		if l := &n.layers[i]; l.fm == nil {
			mat.Pack(true, l.w, &n.packs[i])
		}
	}
	return n.packs
}

// output computes the last layer, v = W·h + b, into dst, or into the
// layer's own buffer when dst is nil, and returns it; with Wᵀ from p when p
// is not nil.
func (n *Net) output(h, dst *mat.Dense, p *mat.Packed) *mat.Dense {
	l := &n.layers[len(n.layers)-1]
	if dst == nil {
		dst = l.pre
	}
	dst.Reshape(h.R, l.out)
	if n.te != nil {
		n.filmOutput(l, h, dst, p)
		return dst
	}
	n.gemmLayer(h, l, p, mat.Identity, dst, dst)
	return dst
}

// gemmLayer sets pre = h·Wᵀ + b and out = act(pre) for layer l, with Wᵀ
// from p when p is not nil (the same bits either way).
func (n *Net) gemmLayer(h *mat.Dense, l *layer, p *mat.Packed, act mat.Activation, pre, out *mat.Dense) {
	if p != nil {
		n.th.GemmBiasActPacked(h, p, l.b, act, pre, out)
		return
	}
	n.th.GemmBiasAct(false, true, h, l.w, l.b, act, pre, out)
}

// linear computes hidden layer l's pre-activation from its input h and its
// activation: pre = W·h + b, modulated for film, with Wᵀ from p when p is not
// nil. (The last layer is output.)
func (n *Net) linear(l *layer, h *mat.Dense, p *mat.Packed) {
	l.pre.Reshape(h.R, l.out)
	switch {
	case n.te != nil:
		n.filmHidden(l, h, p)
	case l.fm != nil:
		n.filmForward(l, h)
	default:
		l.act.Reshape(h.R, l.out)
		n.gemmLayer(h, l, p, n.act, l.pre, l.act)
	}
}

// Backward propagates gOut = dL/dv (B×Dim, the shape of the last Forward's
// output) back through the network, adding the parameter gradients into
// Grads. When wantGX is true it returns dL/dx (B×Dim, owned by the net, valid
// until the next Backward); otherwise nil. gOut is not modified.
func (n *Net) Backward(gOut *mat.Dense, wantGX bool) *mat.Dense {
	last := len(n.layers) - 1
	if gOut.R != n.in.R || gOut.C != n.cfg.OutDim() {
		panic(fmt.Sprintf("nn: Backward gOut %s, want %d×%d (the last Forward's output)", gOut.Shape(), n.in.R, n.cfg.OutDim()))
	}
	g := gOut
	if n.te != nil {
		g = n.te.outputBackward(n.th, &n.layers[last], gOut)
	}
	for i := last; i >= 0; i-- {
		l := &n.layers[i]
		h := n.in
		if i > 0 {
			h = n.layers[i-1].act
		}
		n.th.Gemm(true, false, 1, g, h, 1, l.gw)
		mat.ColSumAdd(g, l.gb)
		if i == 0 && !wantGX {
			break
		}
		dh := n.g[i&1]
		dh.Reshape(g.R, l.in)
		n.th.Gemm(false, false, 1, g, l.w, 0, dh)
		switch {
		case i == 0:
		case n.te != nil: // the activation's backward too
			n.te.layerBackward(n.th, n.act, &n.layers[i-1], dh)
		default:
			n.th.ActBackward(n.act, n.layers[i-1].pre, dh)
			if n.layers[i-1].fm != nil {
				n.filmBackward(&n.layers[i-1], dh)
			}
		}
		g = dh
	}
	if n.te != nil {
		n.te.backward(n.th)
	}
	if !wantGX {
		return nil
	}
	d, w := n.cfg.Dim, g.C
	n.gx.Reshape(g.R, d)
	for i := 0; i < g.R; i++ {
		copy(n.gx.Data[i*d:(i+1)*d], g.Data[i*w:i*w+d])
	}
	return n.gx
}

// JVP evaluates out = v(x, t) and the directional derivative
// dout = ∂v/∂x(x, t)·dx row by row (forward mode), with x and dx B×Dim. Both
// results are owned by the net and valid until its next Forward, JVP, Eval or EulerStep;
// a following Backward sees this call as the last Forward.
func (n *Net) JVP(x, dx *mat.Dense, t []float32) (out, dout *mat.Dense) {
	n.fillInput(x, dx, t)
	h, dh := n.in, n.din
	last := len(n.layers) - 1
	if n.te != nil {
		n.te.forward(n.th, &n.cfg, n.layers)
	}
	for i := range n.layers {
		l := &n.layers[i]
		if i == last {
			n.output(h, nil, nil)
		} else {
			n.linear(l, h, nil)
		}
		l.dpre.Reshape(h.R, l.out)
		n.th.Gemm(false, true, 1, dh, l.w, 0, l.dpre)
		if n.te != nil {
			n.te.scaleTangent(l.dpre, l)
		}
		if i == last {
			return l.pre, l.dpre
		}
		if l.fm != nil {
			n.filmTangent(l)
		}
		n.th.ActBackward(n.act, l.pre, l.dpre) // tangent through the activation
		h, dh = l.act, l.dpre
	}
	panic("unreachable")
}
