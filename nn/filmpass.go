package nn

import (
	"runtime"

	"github.com/flowlab/flowlab/mat"
)

// The learned-embedding film net's element-wise passes: a hidden layer's
// modulation and activation, the output's scale, and their backward. Each
// pass takes passRows rows at a time through all of its steps, so that what
// one step writes the next reads from L1, and a large pass shares its rows
// among the net's goroutines; the first layer of a group of the modulation
// computes the group's rows of the block first (filmsc.go). Every element
// goes through the operations of separate whole-matrix passes (the
// modulation, mat's MulAdd, Mul and MulGrad, then mat's BiasAct or
// ActBackward), so the bits depend neither on the blocking nor on the
// number of goroutines.

// passRows is the number of rows a pass takes through all of its steps at a
// time (see above): twelve, a whole number of the GEMM kernels' row tiles
// (12 rows on AVX-512, 6 on AVX2), for the products of computeRows.
// passChunk is the number of elements in the share of rows one goroutine
// takes at a time, and passParallelMin the size of a pass from which it is
// shared at all (mat's element-wise operations split the same way).
// feedRows is the number of rows of the modulation's gradient a backward
// pass on one goroutine writes before it feeds them to the heads' gradient
// sum, a few blocks' worth (still in L2) so that the sum's kernel loads and
// stores its accumulators once for several blocks.
const feedRows = 48

const (
	passRows        = 12
	passChunk       = 1 << 14
	passParallelMin = 1 << 16
)

// passKind names a film pass.
type passKind int

const (
	hiddenPass     passKind = iota // pre = u⊙(1+s) + c, act = act(pre)
	outputPass                     // v = u⊙(1+s_out)
	outputBackPass                 // ds_out = g⊙u, gv = g⊙(1+s_out)
	hiddenBackPass                 // g ← g⊙act'(pre), dc = g, ds = g⊙u, g ← g⊙(1+s)
)

// filmPass is the pass in progress: its kind, layer, activation and the
// matrices beside the layer's own (the output v for outputPass, the
// gradient g for the backward passes).
type filmPass struct {
	kind passKind
	l    *layer
	act  mat.Activation
	m    *mat.Dense
	zero []float32 // a zero bias as wide as the layer
	feed bool      // a backward pass feeds te.gmAcc as it goes (passBlocks)
}

// runPass runs the pass te.pass over rows [0, rows) of width w, in blocks
// of at most passRows rows, on up to th goroutines once the pass is large.
// A backward pass on one goroutine feeds the modulation's gradient to the
// heads' gradient sum (te.gmAcc) every few blocks as it writes it, while it
// is in cache; one shared among goroutines feeds it after, all rows at once.
// (The sum takes rows in order, so the bits are the same either way: those
// of backward's product.)
func (te *timeEmbed) runPass(th mat.Threads, rows, w int) {
	if rows*w < passParallelMin || th == 1 || runtime.GOMAXPROCS(0) == 1 {
		te.pass.feed = te.gmOn && (te.pass.kind == outputBackPass || te.pass.kind == hiddenBackPass)
		te.passBlocks(0, rows)
		return
	}
	// Chunks of whole blocks, so that blocks start at multiples of passRows.
	te.pass.feed = false
	th.ForChunks(rows, passRows*max(1, passChunk/(w*passRows)), te.passFn)
	if te.gmOn && (te.pass.kind == outputBackPass || te.pass.kind == hiddenBackPass) {
		te.feedGM(0, rows)
	}
}

// feedGM feeds rows [r0, r1) of the pass's layer's columns of dsc to the
// heads' gradient sum, and adds them to the bias's gradient (row after row,
// as ColSumAdd sums them).
func (te *timeEmbed) feedGM(r0, r1 int) {
	l, k := te.pass.l, te.dsc.C
	w := 2 * l.out
	if te.pass.kind == outputBackPass {
		w = l.out
	}
	te.gmAcc.Add(r0, r1, l.col, w, te.dsc.Data, k, te.e)
	mat.AddRows(te.gmb[l.col:l.col+w], te.dsc.Data[r0*k+l.col:], k, r1-r0)
}

// passBlocks runs te.pass on rows [lo, hi), passRows at a time.
func (te *timeEmbed) passBlocks(lo, hi int) {
	fed := lo
	for r := lo; r < hi; r += passRows {
		end := min(r+passRows, hi)
		te.passBlock(r, end)
		if te.pass.feed && (end-fed >= feedRows || end == hi) {
			te.feedGM(fed, end)
			fed = end
		}
	}
}

// rowsOf returns rows [r0, r1) of m as a matrix sharing its storage.
func rowsOf(m *mat.Dense, r0, r1 int) mat.Dense {
	return mat.Dense{R: r1 - r0, C: m.C, Data: m.Data[r0*m.C : r1*m.C]}
}

// passBlock runs te.pass on rows [r0, r1).
func (te *timeEmbed) passBlock(r0, r1 int) {
	p := &te.pass
	l, w, k := p.l, p.l.out, te.dsc.C
	u := l.u.Data
	switch p.kind {
	case hiddenPass:
		te.computeRows(l, r0, r1)
		for r := r0; r < r1; r++ {
			sc := te.scRow(l, r, 2*w)
			mat.MulAdd(l.pre.Data[r*w:(r+1)*w], u[r*w:(r+1)*w], sc[:w], sc[w:])
		}
		pre, act := rowsOf(l.pre, r0, r1), rowsOf(l.act, r0, r1)
		mat.Threads(1).BiasAct(p.act, &pre, p.zero, &act)
	case outputPass:
		te.computeRows(l, r0, r1)
		for r := r0; r < r1; r++ {
			mat.Mul(p.m.Data[r*w:(r+1)*w], u[r*w:(r+1)*w], te.scRow(l, r, w))
		}
	case outputBackPass:
		for r := r0; r < r1; r++ {
			g := p.m.Data[r*w : (r+1)*w]
			s1 := te.scRow(l, r, w)
			mat.Mul(te.dsc.Data[r*k+l.col:r*k+l.col+w], g, u[r*w:(r+1)*w])
			mat.Mul(te.gv.Data[r*w:(r+1)*w], g, s1)
		}
	case hiddenBackPass:
		pre, g := rowsOf(l.pre, r0, r1), rowsOf(p.m, r0, r1)
		mat.Threads(1).ActBackward(p.act, &pre, &g)
		for r := r0; r < r1; r++ {
			ds := te.dsc.Data[r*k+l.col : r*k+l.col+2*w]
			mat.MulGrad(p.m.Data[r*w:(r+1)*w], u[r*w:(r+1)*w], te.scRow(l, r, w), ds[:w], ds[w:])
		}
	}
}

// filmHidden computes hidden layer l of a learned-embedding film net from its
// input h: u = W·h + b (Wᵀ from p when not nil), pre = u⊙(1+s) + c and
// act = act(pre), the last two in one pass.
func (n *Net) filmHidden(l *layer, h *mat.Dense, p *mat.Packed) {
	l.u.Reshape(h.R, l.out)
	n.gemmLayer(h, l, p, mat.Identity, l.u, l.u)
	l.act.Reshape(h.R, l.out)
	n.te.pass = filmPass{kind: hiddenPass, l: l, act: n.act, zero: n.zero[:l.out]}
	n.te.runPass(n.th, h.R, l.out)
}

// filmOutput computes the output of a learned-embedding film net into dst:
// u = W·h + b, v = u⊙(1+s_out).
func (n *Net) filmOutput(l *layer, h, dst *mat.Dense, p *mat.Packed) {
	l.u.Reshape(h.R, l.out)
	n.gemmLayer(h, l, p, mat.Identity, l.u, l.u)
	n.te.pass = filmPass{kind: outputPass, l: l, m: dst}
	n.te.runPass(n.th, h.R, l.out)
}

// outputBackward takes g = dL/dv, writes dL/ds_out = g⊙u into dsc and
// returns dL/du = g⊙(1+s_out) (te.gv). It starts a backward pass: dsc is
// reshaped, and its shift columns are all written later by layerBackward.
func (te *timeEmbed) outputBackward(th mat.Threads, l *layer, g *mat.Dense) *mat.Dense {
	te.dsc.Reshape(g.R, len(te.mb))
	te.gv.Reshape(g.R, g.C)
	te.gmOn = te.gmAcc.Start(te.gm, g.R)
	te.pass = filmPass{kind: outputBackPass, l: l, m: g}
	te.runPass(th, g.R, g.C)
	return te.gv
}

// layerBackward takes g = dL/d(act) of hidden layer l and, in one pass,
// turns it into dL/d(pre) = g⊙act'(pre), writes dL/ds = dL/d(pre)⊙u and
// dL/dc = dL/d(pre) into dsc, and turns g into dL/du = dL/d(pre)⊙(1+s) in
// place.
func (te *timeEmbed) layerBackward(th mat.Threads, act mat.Activation, l *layer, g *mat.Dense) {
	te.pass = filmPass{kind: hiddenBackPass, l: l, act: act, m: g}
	te.runPass(th, g.R, l.out)
}
