package mat

import (
	"sync"
	"sync/atomic"
)

// gemmPath is one kernel path: its micro-kernel tile (mr×nr) and the cache
// blocks around it. kc, the reduction block, is fixed per path: it decides the
// order of the sums and so must not depend on the number of goroutines. A
// B block of kc×nc stays in L2; one mr×kc panel of A stays in L1 while it
// meets every nr-wide panel of the B block.
type gemmPath struct {
	kernel   Kernel
	mr, nr   int
	kc, nc   int
	mcPanels int // mr-row panels of A per block (packed when op(A) = Aᵀ)
	// For tests (the bits must not change, and the copy must run):
	// keepStride turns restrideA off; onRestride, when not nil, is called
	// for each panel it copies (nil in paths: no shared write on the hot
	// path).
	keepStride bool
	onRestride func()
	jobs       sync.Pool // *gemmJob with its buffers
}

var paths = [...]gemmPath{
	Generic: {kernel: Generic, mr: genericMR, nr: genericNR, kc: 256, nc: 1024, mcPanels: 32},
	AVX2:    {kernel: AVX2, mr: 6, nr: 16, kc: 256, nc: 1024, mcPanels: 32},
	AVX512:  {kernel: AVX512, mr: 12, nr: 32, kc: 256, nc: 1024, mcPanels: 16},
}

// aInPlaceMax is the size (elements) up to which op(A) = Aᵀ is read in place:
// small enough to stay in L2, where its strided panels cost nothing.
const aInPlaceMax = 1 << 17

// kcGrow bounds the reduction block at kcGrow·kc; bBlockElems is the size
// (float32 elements, 1 MiB) a B block may grow to.
const (
	kcGrow      = 4
	bBlockElems = 1 << 18
)

// bInPlaceRows is the number of rows of C up to which B is read in place.
const bInPlaceRows = 24

// gemmJob is one Gemm call in progress, shared by its goroutines.
type gemmJob struct {
	g           *gemmPath
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
	a, b, c     []float32
	lda         int
	ldb, ldc    int
	threads     int
	epi         epilogue // GemmBiasAct's bias and activation (epi.on)

	// The current block: columns [jc, jc+nb) and reduction [pc, pc+kb).
	kcBlock        int // reduction block size: ≤ kc, all blocks equal but the last
	jc, nb, pc, kb int
	bet            float32 // beta for this reduction block (1 after the first)
	nPanels        int     // nr-wide panels in the B block
	mPanels        int     // mr-high panels of C
	splitCols      bool    // split the block's column panels, not its rows
	aInPlace       bool    // read op(A) = Aᵀ in place (it is small), not packed
	aRestride      bool    // copy row-major A's panels to rows apart by a stride that does not alias (see aliasStride)
	bInPlace       bool    // read B's full panels in place (C has few rows)

	// The multiply of the current block (number epoch), split into nChunks
	// chunks of chunk panels; ticket is epoch<<32 | the next chunk to take,
	// done counts finished chunks.
	chunk   int
	epoch   int64
	nChunks atomic.Int64
	ticket  atomic.Int64
	done    atomic.Int64
	stop    atomic.Bool    // the call is over: helpers return
	helpers sync.WaitGroup // the helper goroutines of the call
	bstate  []atomic.Int32 // per group of B panels: unpacked, packing, packed

	bbuf []float32 // packed B block: nPanels panels of kb×nr
	// packed, when not nil, is all of op(B) packed beforehand (see
	// Packed): each block's panels are read from it, in the order run
	// visits the blocks, and bbuf points into it.
	packed []float32
	abuf   []float32 // per goroutine: mcPanels packed mr×kc panels of A
	tbuf   []float32 // Cᵀ, for skinny products (see runTransposed)
	arows  []float32 // per goroutine: one mr-row panel of A restrided (see aliasStride)
}

func (g *gemmPath) getJob(threads int) *gemmJob {
	j, _ := g.jobs.Get().(*gemmJob)
	if j == nil {
		j = &gemmJob{}
	}
	if n := bBlockElems + kcGrow*g.kc*g.nr; cap(j.bbuf) < n {
		j.bbuf = make([]float32, n)
	}
	if n := ceilDiv(ceilDiv(g.nc, g.nr), packGroup); len(j.bstate) < n {
		j.bstate = make([]atomic.Int32, n)
	}
	if n := threads * g.mcPanels * g.mr * g.kc; cap(j.abuf) < n {
		j.abuf = make([]float32, n)
	}
	if n := threads * restrideElems(g); cap(j.arows) < n {
		j.arows = make([]float32, n)
	}
	return j
}

// kcBlock returns the reduction block of a product with reduction k and n
// columns: kc, or up to 4·kc when C is narrow, so that the B block (kc ×
// min(n, nc)) fills about 1 MiB of L2 — fewer blocks mean fewer passes over
// C and fewer fork/joins. Equal blocks, so that none is a sliver. It depends on k and n alone, never
// on the number of goroutines.
func (g *gemmPath) kcBlock(k, n int) int {
	kc := max(g.kc, min(kcGrow*g.kc, bBlockElems/min(n, g.nc))) &^ 7
	return ceilDiv(k, ceilDiv(k, kc))
}

// run does the product: for each block of columns and of the reduction,
// multiply (split by rows of C, or by column panels when C has too few rows),
// packing the B block on the way.
func (j *gemmJob) run() {
	g := j.g
	j.kcBlock = g.kcBlock(j.k, j.n)
	j.aInPlace = j.tA && j.m*j.k <= aInPlaceMax
	j.aRestride = g.restrides(j.tA, j.lda, j.n)
	// Packing B pays when its panels meet many row panels of A; for a C of
	// a few rows, the kernel reads a row-major B in place (full panels).
	j.bInPlace = !j.tB && j.m <= bInPlaceRows && g.kernel != Generic && j.packed == nil
	j.startHelpers()
	off := 0 // into j.packed
	for j.jc = 0; j.jc < j.n; j.jc += g.nc {
		j.nb = min(g.nc, j.n-j.jc)
		j.nPanels = ceilDiv(j.nb, g.nr)
		j.mPanels = ceilDiv(j.m, g.mr)
		j.splitCols = j.mPanels < 2*j.threads && j.nPanels > j.mPanels
		for j.pc = 0; j.pc < j.k; j.pc += j.kcBlock {
			j.kb = min(j.kcBlock, j.k-j.pc)
			j.bet = j.beta
			if j.pc > 0 {
				j.bet = 1
			}
			off = j.resetB(off)
			j.multiplyAll(j.chunks())
		}
	}
	j.stopHelpers()
}

// multiply computes the current block's contribution to the mr-row panels
// [ip0, ip1) of C and the block's column panels [jp0, jp1).
func (j *gemmJob) multiply(w, ip0, ip1, jp0, jp1 int) {
	g := j.g
	mr, kb := g.mr, j.kb
	per := g.mcPanels * mr * g.kc
	abuf := j.abuf[w*per : (w+1)*per]
	// Blocks of A of at most mcPanels·kc reduction steps' worth (in L2).
	mcp := max(1, g.mcPanels*g.kc/kb)
	for ib := ip0; ib < ip1; ib += mcp {
		ie := min(ib+mcp, ip1)
		if j.tA && !j.aInPlace {
			j.packATBlock(abuf, ib, ie)
		}
		for ip := ib; ip < ie; ip++ {
			if !j.splitCols {
				j.prefetchNextB(ip, j.mPanels)
			}
			row := ip * mr
			mEff := min(mr, j.m-row)
			rows := g.kernelRows(mEff)
			ap, rsa, csa := j.panelA(w, abuf[(ip-ib)*mr*kb:], row, mEff, rows)
			j.panelRow(ap, rsa, csa, row, rows, mEff, jp0, jp1)
			if j.epi.on && j.pc+kb == j.k {
				// These rows and columns of C are final.
				j.epi.apply(j.c, j.ldc, row, row+mEff, j.jc+jp0*g.nr, j.jc+min(jp1*g.nr, j.nb))
			}
		}
	}
}

// panelA returns the panel of op(A) over the current reduction block that
// holds C's rows [row, row+mEff) — rows rows for the kernel, mEff ≤ rows of
// them C's — and its strides (element i, p at a[i·rsa + p·csa]). It is the
// packed panel at packed when op(A) = Aᵀ was packed (see packATBlock), A
// itself where the kernel can read it in place, a restrided copy (see
// aliasStride), or else packed into packed here (an edge panel).
func (j *gemmJob) panelA(w int, packed []float32, row, mEff, rows int) (a []float32, rsa, csa int) {
	switch {
	case j.tA && mEff == j.g.mr && !j.aInPlace:
		return packed, 1, j.g.mr
	case mEff == rows && j.tA:
		// Small Aᵀ: read in place (rows adjacent, stride lda along
		// the reduction); it stays in cache.
		return j.a[j.pc*j.lda+row:], 1, j.lda
	case mEff == rows && j.aRestride:
		// Row-major A whose rows alias in L1: copy the panel's rows
		// to a stride that does not (see aliasStride).
		ap, ld := j.restrideA(w, row, rows)
		return ap, ld, 1
	case mEff == rows:
		// Row-major A: read in place (stride lda between rows, 1
		// along the reduction).
		return j.a[row*j.lda+j.pc:], j.lda, 1
	}
	j.packA(row, mEff, rows, packed)
	return packed, 1, j.g.mr
}

// panelRow multiplies one panel of op(A) (a[i·rsa + p·csa], rows rows of
// which mEff are C's) by the B block's column panels [jp0, jp1) into C's rows
// [row, row+mEff).
func (j *gemmJob) panelRow(ap []float32, rsa, csa, row, rows, mEff, jp0, jp1 int) {
	g := j.g
	nr, kb := g.nr, j.kb
	for jp := jp0; jp < jp1; jp++ {
		col := j.jc + jp*nr
		nEff := min(nr, j.nb-jp*nr)
		var bpan []float32
		ldb := nr
		if j.bInPlace && nEff == nr {
			bpan, ldb = j.b[j.pc*j.ldb+col:], j.ldb
		} else {
			if j.bstate[jp/packGroup].Load() != packed {
				j.ensureB(jp)
			}
			bpan = j.bbuf[jp*nr*kb : (jp+1)*nr*kb]
		}
		cols := nr
		if nEff <= nr/2 && g.kernel != Generic {
			cols = nr / 2
		}
		if mEff == rows && nEff == cols {
			microKernel(g, rows, cols, kb, ap, rsa, csa, bpan, ldb, j.c[row*j.ldc+col:], j.ldc, j.alpha, j.bet)
			continue
		}
		j.edgeTile(ap, rsa, csa, bpan, ldb, row, col, rows, cols, mEff, nEff)
	}
}

// edgeTile computes the mEff×nEff tile of C at (row, col), smaller than the
// rows×cols micro-kernel, with that kernel on a full tile in a temporary.
// (A function of its own so that only edge tiles pay for zeroing the
// temporary, maxTile floats: in panelRow it would be zeroed on every call,
// full tiles included.)
func (j *gemmJob) edgeTile(ap []float32, rsa, csa int, bpan []float32, ldb, row, col, rows, cols, mEff, nEff int) {
	var tmp [maxTile]float32
	t := tmp[:rows*cols]
	if j.bet != 0 {
		copyTile(t, cols, j.c[row*j.ldc+col:], j.ldc, mEff, nEff)
	}
	microKernel(j.g, rows, cols, j.kb, ap, rsa, csa, bpan, ldb, t, cols, j.alpha, j.bet)
	copyTile(j.c[row*j.ldc+col:], j.ldc, t, cols, mEff, nEff)
}

// kernelRows returns the rows of the micro-kernel that path g uses for a
// panel of mEff ≤ mr rows of C: the smallest it has that covers them.
func (g *gemmPath) kernelRows(mEff int) int {
	switch g.kernel {
	case AVX512:
		switch {
		case mEff > 8:
			return 12
		case mEff > 4:
			return 8
		}
		return 4
	case AVX2:
		switch {
		case mEff > 4:
			return 6
		case mEff > 2:
			return 4
		}
		return 2
	}
	return g.mr
}

// copyTile copies rows×cols elements from src (row stride lds) to dst (row
// stride ldd); narrow tiles element by element, which beats a call to copy
// per row.
func copyTile(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if cols > 8 {
		for i := 0; i < rows; i++ {
			copy(dst[i*ldd:i*ldd+cols], src[i*lds:i*lds+cols])
		}
		return
	}
	for i := 0; i < rows; i++ {
		d, s := dst[i*ldd:i*ldd+cols], src[i*lds:i*lds+cols]
		for j := range d {
			d[j] = s[j]
		}
	}
}

// maxTile is the largest mr·nr of any path.
const maxTile = 12 * 32
