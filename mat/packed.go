package mat

import "fmt"

// Packed is the operand op(B) of products C = A·op(B), packed once into the
// panels the micro-kernel reads, for many products with the same B: a
// layer's weights, shared by the row chunks of one evaluation, which would
// otherwise each pack (and, for Wᵀ, transpose) them again. Pack fills it;
// GemmBiasActPacked uses it. It refers to B and is valid only while B is
// unchanged: after B's values change, Pack again (products that read B
// itself, see GemmBiasActPacked, would see the new values and the others
// the old ones; nothing detects it). The zero value is empty, ready for
// Pack.
type Packed struct {
	kernel Kernel
	tB     bool
	b      *Dense
	k, n   int
	data   []float32
}

// Pack packs op(B) (B, or Bᵀ when tB) into p, reusing p's memory, for the
// kernel path in use now. It takes B's reduction blocks and column blocks in
// the order a product visits them, each block's panels as the product would
// pack them itself, so that a product from p has the same bits as one from B.
func Pack(tB bool, b *Dense, p *Packed) {
	k, n := b.R, b.C
	if tB {
		k, n = n, k
	}
	g := &paths[CurrentKernel()]
	*p = Packed{kernel: g.kernel, tB: tB, b: b, k: k, n: n, data: p.data[:0]}
	if k == 0 || n == 0 {
		return
	}
	size := packedSize(g, k, n)
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
	packAllB(g, tB, b, k, n, p.data)
}

// GemmBiasActPacked is GemmBiasAct(false, p's tB, a, B, ...) with B's
// panels taken from p, on at most t goroutines: the same bits. Products
// that Gemm computes another way (few columns, or after a change of kernel
// path since Pack) read B itself.
func (t Threads) GemmBiasActPacked(a *Dense, p *Packed, bias []float32, act Activation, pre, out *Dense) {
	if p.b == nil {
		panic("mat: GemmBiasActPacked with an empty Packed")
	}
	if a.C != p.k || pre.R != a.R || pre.C != p.n || len(bias) != p.n || out.R != pre.R || out.C != pre.C {
		panic(fmt.Sprintf("mat: GemmBiasActPacked shapes: A %s, op(B) %d×%d, bias %d, pre %s, out %s",
			a.Shape(), p.k, p.n, len(bias), pre.Shape(), out.Shape()))
	}
	g := &paths[CurrentKernel()]
	if a.R == 0 || p.n == 0 || p.k == 0 || g.kernel != p.kernel {
		gemmBiasAct(t.n(), false, p.tB, a, p.b, bias, act, pre, out)
		return
	}
	if panelsRoute(g, p.tB, a.R, p.n, p.k, act) {
		gemmPanels(g, a.R, p.n, p.k, a, p.data, bias, pre, out)
		return
	}
	// gemmOn takes the same route as Gemm would, reading p.data only on
	// the packed one.
	epi := epilogue{on: true, act: act, bias: bias, out: out.Data, kernel: g.kernel}
	gemmOn(g, t.n(), false, p.tB, a.R, p.n, p.k, 1, a, p.b, 0, pre, epi, p.data)
}

// Empty reports whether p holds nothing packed (the zero value).
func (p *Packed) Empty() bool { return p.b == nil }

// packedSize is the number of floats op(B) (k×n) takes packed for path g:
// each column block of nc holds its panels, nr columns wide, over all k
// reduction steps.
func packedSize(g *gemmPath, k, n int) int {
	size := 0
	for jc := 0; jc < n; jc += g.nc {
		size += ceilDiv(min(g.nc, n-jc), g.nr) * g.nr * k
	}
	return size
}

// packAllB packs all of op(B) (k×n) into dst (packedSize floats) in the
// order a product visits its blocks: column blocks of nc, within each the
// reduction blocks of kcBlock, within each the nr-wide panels as packB lays
// them out.
func packAllB(g *gemmPath, tB bool, b *Dense, k, n int, dst []float32) {
	kc := g.kcBlock(k, n)
	j := &gemmJob{g: g, tB: tB, k: k, n: n, b: b.Data, ldb: b.C}
	off := 0
	for j.jc = 0; j.jc < n; j.jc += g.nc {
		j.nb = min(g.nc, n-j.jc)
		j.nPanels = ceilDiv(j.nb, g.nr)
		for j.pc = 0; j.pc < k; j.pc += kc {
			j.kb = min(kc, k-j.pc)
			s := j.nPanels * g.nr * j.kb
			j.bbuf = dst[off : off+s]
			j.packB(0, j.nPanels)
			off += s
		}
	}
}
