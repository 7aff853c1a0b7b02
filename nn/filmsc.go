package nn

import "github.com/flowlab/flowlab/mat"

// The modulation of a learned-embedding film net, sc = e(t)·Mᵀ + m with 1
// added on the scale columns, is not computed for the whole batch and
// every layer at once (a B×K matrix larger than L2 at the bench's sizes,
// written, evicted, then read back by each layer's pass). It is cut by
// columns into groups of layers, each with a B×n matrix of its own, and a
// group's rows are computed block by block inside the pass of its first
// layer (filmpass.go), just before that pass reads them, while they are in
// cache; the passes that follow (the group's other layer, the backward)
// read them from there.
//
// A row block of a group is a product with the same reduction (E steps, in
// order, then the bias), so each element has the bits that the whole
// product gives, whatever route mat takes for the block's shape: mat splits
// a reduction by blocks that depend on its length and the width of C, and
// never splits one of groupMaxE steps or fewer. Narrow products are the
// exception: mat sums C = A·Bᵀ of at most dotCols columns in another order,
// so no group is that narrow: the output's scale (Dim columns) joins the
// last hidden layer's group, and the group of a hidden layer of one or two
// units takes in the next layer too. Beyond groupMaxE steps, all of sc is
// one group, computed in the first layer's pass.
const (
	groupMaxE = 256
	dotCols   = 4
)

// scGroup is a group of consecutive layers' modulation columns.
type scGroup struct {
	col, n int        // its first column in K and its width
	m      *mat.Dense // its rows of the heads M (n×E, a view)
	bias   []float32  // its part of mb1
	pack   mat.Packed // mᵀ packed, for the products of its row blocks
	sc     *mat.Dense // B×n: 1 + s on scale columns, c on shift columns
}

// newGroups splits the layers' modulation columns into groups (see above)
// and sets each layer's group and its column within it.
func (te *timeEmbed) newGroups(cfg *Config, layers []layer) {
	e := cfg.TimeEmbed
	for i := range layers {
		l := &layers[i]
		w := 2 * l.out
		if i == len(layers)-1 {
			w = l.out
		}
		g := len(te.groups) - 1
		if g < 0 || e <= groupMaxE && te.groups[g].n > dotCols && i < len(layers)-1 {
			te.groups = append(te.groups, scGroup{col: l.col, sc: mat.New(0, 0)})
			g++
		}
		l.grp, l.gcol = g, l.col-te.groups[g].col
		te.groups[g].n += w
	}
	for i := range te.groups {
		g := &te.groups[i]
		g.m = mat.NewFrom(g.n, e, te.m.Data[g.col*e:(g.col+g.n)*e])
		g.bias = te.mb1[g.col : g.col+g.n : g.col+g.n]
	}
}

// prepare readies the groups for a batch of b rows: the bias with 1 added
// on the scale columns, each group's heads packed, and its matrix shaped.
func (te *timeEmbed) prepare(b int, layers []layer) {
	copy(te.mb1, te.mb)
	for i := range layers {
		l := &layers[i]
		scale := te.mb1[l.col : l.col+l.out]
		for j := range scale {
			scale[j]++
		}
	}
	for i := range te.groups {
		g := &te.groups[i]
		mat.Pack(true, g.m, &g.pack)
		g.sc.Reshape(b, g.n)
	}
	if n := 2 * ((b + passRows - 1) / passRows); len(te.views) < n {
		te.views = make([]mat.Dense, n)
	}
}

// computeRows computes rows [r0, r1) of layer l's group when l is the
// group's first layer (its first column is the group's).
func (te *timeEmbed) computeRows(l *layer, r0, r1 int) {
	if l.gcol != 0 {
		return
	}
	g := &te.groups[l.grp]
	// Views of the block's rows that do not escape to the heap: block
	// r0/passRows's own pair (blocks start at multiples of passRows).
	v := te.views[2*(r0/passRows):][:2]
	v[0], v[1] = rowsOf(te.e, r0, r1), rowsOf(g.sc, r0, r1)
	mat.Threads(1).GemmBiasActPacked(&v[0], &g.pack, g.bias, mat.Identity, &v[1], &v[1])
}

// scRow returns n values of row r of layer l's modulation: 1 + s (l.out
// values), then c for a hidden layer.
func (te *timeEmbed) scRow(l *layer, r, n int) []float32 {
	g := &te.groups[l.grp]
	return g.sc.Data[r*g.n+l.gcol : r*g.n+l.gcol+n]
}
