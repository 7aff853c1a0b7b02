package mat

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Gemm computes C = α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ as tA and tB
// say. With β = 0, C's previous contents are ignored (NaNs in C do not leak).
// It panics when the shapes do not agree.
//
// The product runs on the kernel path CurrentKernel names (see Kernel). Work
// is split across GOMAXPROCS goroutines by blocks of C, never along the
// reduction, and the reduction's blocking does not depend on the number of
// goroutines, so the result is bit-identical whatever GOMAXPROCS is. (The
// bits do depend on the kernel path, and C = A·Bᵀ with at most 4 columns
// sums in a different order on AVX-512.) Small products run on the calling
// goroutine.
func Gemm(tA, tB bool, alpha float32, a, b *Dense, beta float32, c *Dense) {
	gemm(runtime.GOMAXPROCS(0), tA, tB, alpha, a, b, beta, c, epilogue{})
}

// GemmBiasAct sets pre = op(A)·op(B) + bias (bias added to every row) and
// out = act(pre): the same bits as Gemm(tA, tB, 1, a, b, 0, pre) followed by
// BiasAct(act, pre, bias, out), in one pass — each block of rows gets its bias
// and activation from the goroutine that computed it, while it is in cache.
// out may be pre itself only for Identity. It panics when the shapes do not
// agree.
func GemmBiasAct(tA, tB bool, a, b *Dense, bias []float32, act Activation, pre, out *Dense) {
	gemmBiasAct(runtime.GOMAXPROCS(0), tA, tB, a, b, bias, act, pre, out)
}

func gemmBiasAct(threads int, tA, tB bool, a, b *Dense, bias []float32, act Activation, pre, out *Dense) {
	if len(bias) != pre.C || out.R != pre.R || out.C != pre.C {
		panic(fmt.Sprintf("mat: GemmBiasAct shapes: pre %s, bias %d, out %s", pre.Shape(), len(bias), out.Shape()))
	}
	gemm(threads, tA, tB, 1, a, b, 0, pre, epilogue{on: true, act: act, bias: bias, out: out.Data, kernel: CurrentKernel()})
}

// epilogue is the bias and activation GemmBiasAct applies to finished rows.
type epilogue struct {
	on     bool
	act    Activation
	bias   []float32
	out    []float32 // same shape as C
	kernel Kernel
}

// apply applies the epilogue to rows [r0, r1) and columns [c0, c1) of c
// (row stride ldc, which out shares).
func (e *epilogue) apply(c []float32, ldc, r0, r1, c0, c1 int) {
	if c0 == 0 && c1 == ldc { // whole rows: one contiguous run
		biasActRows(e.kernel, e.act, c[r0*ldc:r1*ldc], e.bias, e.out[r0*ldc:r1*ldc], ldc)
		return
	}
	w := c1 - c0
	for r := r0; r < r1; r++ {
		biasActRows(e.kernel, e.act, c[r*ldc+c0:r*ldc+c1], e.bias[c0:c1], e.out[r*ldc+c0:r*ldc+c1], w)
	}
}

// gemm is Gemm (and, with epi.on, GemmBiasAct) on at most threads goroutines.
func gemm(threads int, tA, tB bool, alpha float32, a, b *Dense, beta float32, c *Dense, epi epilogue) {
	m, k := a.R, a.C
	if tA {
		m, k = k, m
	}
	kb, n := b.R, b.C
	if tB {
		kb, n = n, kb
	}
	if k != kb || c.R != m || c.C != n {
		panic(fmt.Sprintf("mat: Gemm shape mismatch: op(A) %d×%d (A %s, tA=%v), op(B) %d×%d (B %s, tB=%v), C %s",
			m, k, a.Shape(), tA, kb, n, b.Shape(), tB, c.Shape()))
	}
	if m == 0 || n == 0 {
		return
	}
	if beta == 0 {
		beta = 0 // +0: the kernels test its bits to skip reading C
	}
	if k == 0 || alpha == 0 {
		scaleC(beta, c.Data[:m*n])
		if epi.on {
			epi.apply(c.Data, n, 0, m, 0, n)
		}
		return
	}
	g := &paths[CurrentKernel()]
	gemmOn(g, threads, tA, tB, m, n, k, alpha, a, b, beta, c, epi, nil)
}

// gemmOn is gemm past the shape checks and the trivial cases, on path g;
// with bPacked (op(B) as Pack laid it out for g), B's panels are read from
// there instead of being packed.
func gemmOn(g *gemmPath, threads int, tA, tB bool, m, n, k int, alpha float32, a, b *Dense, beta float32, c *Dense, epi epilogue, bPacked []float32) {
	if n <= dotMax && !tA && tB && hasDotKernel(g.kernel) {
		// C = A·Bᵀ with few columns: dot products of rows, no packing.
		gemmDot(m, n, k, alpha, a.Data, a.C, b.Data, b.C, beta, c.Data, n)
		if epi.on {
			biasAct(threads, epi.kernel, epi.act, c.Data[:m*n], epi.bias, epi.out[:m*n], n)
		}
		return
	}
	if m*n*k < parallelMin {
		threads = 1
	}
	if g.kernel != Generic && !tA && k <= smallKMax && n%g.nr == 0 && alpha == 1 && beta == 0 {
		gemmSmallK(g, threads, tB, m, n, k, a, b, c, epi, bPacked)
		return
	}
	j := g.getJob(threads)
	*j = gemmJob{g: g, tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a.Data, lda: a.C, b: b.Data, ldb: b.C, c: c.Data, ldc: n,
		threads: threads, bbuf: j.bbuf, abuf: j.abuf, tbuf: j.tbuf, arows: j.arows, bstate: j.bstate}
	if transposedRoute(g, tA, tB, m, n) {
		j.runTransposed()
		if epi.on {
			biasAct(threads, epi.kernel, epi.act, c.Data[:m*n], epi.bias, epi.out[:m*n], n)
		}
	} else {
		j.epi = epi
		own := j.bbuf
		j.packed = bPacked
		j.run()
		j.bbuf, j.packed = own, nil
	}
	j.a, j.b, j.c, j.epi = nil, nil, nil, epilogue{}
	g.jobs.Put(j)
}

// transposedRoute reports whether gemm computes the product as Cᵀ (see
// runTransposed), which depends on the shape and the path alone.
func transposedRoute(g *gemmPath, tA, tB bool, m, n int) bool {
	return g.kernel != Generic && (n <= skinnyMax && m >= 2*n || tA && !tB && n > m && m >= wideTransMin*g.nr)
}

// dotMax is the width of C up to which C = A·Bᵀ runs on the dot-product
// kernels (where they exist): the output layer of a 2-D field, 256×2×64,
// takes ~1 µs there against ~5.6 µs through the packed path.
const dotMax = 4

// skinnyMax is the width of C up to which Gemm computes Cᵀ instead: a C with
// few columns wastes most of a 16- or 32-column micro-kernel, while few rows
// fill 4-, 8- or 12-row ones. (This wins even when it means packing a
// transpose of a large A: measured 5.6 against 8.9 µs for 256×2×64.)
const skinnyMax = 12

// wideTransMin: a product C = Aᵀ·B (a weight gradient Xᵀ·G) with more
// columns than rows, and at least wideTransMin·nr rows, is computed as Cᵀ:
// the reduction block grows as C narrows (see run), so the narrower Cᵀ takes
// fewer, longer reduction blocks, each one pass over C and one wait for the
// slowest goroutine. Two cores, AVX-512, 256×784×4096: 195–241 → 256–265
// GFLOPS (67 → 75 % of peak; alternating runs); one core unchanged (141–145).
const wideTransMin = 4

// runTransposed computes Cᵀ = α·op(B)ᵀ·op(A)ᵀ + β·Cᵀ into tbuf and copies it
// back to C. The bits may differ from run's on C (the reduction blocks depend
// on the width of the C computed), but whether a product takes this route
// depends on its shape and kernel path alone, so they still do not depend on
// the number of goroutines.
func (j *gemmJob) runTransposed() {
	m, n := j.m, j.n
	if cap(j.tbuf) < m*n {
		j.tbuf = make([]float32, m*n)
	}
	t := j.tbuf[:m*n]
	c, ldc := j.c, j.ldc
	if j.beta != 0 {
		transpose(j.g.kernel, t, m, c, ldc, m, n)
	}
	j.tA, j.tB = !j.tB, !j.tA
	j.a, j.b = j.b, j.a
	j.lda, j.ldb = j.ldb, j.lda
	j.m, j.n = n, m
	j.c, j.ldc = t, m
	j.run()
	transpose(j.g.kernel, c, ldc, t, m, n, m)
}

// transpose sets dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols.
func transpose(k Kernel, dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	_ = dst[(cols-1)*ldd+rows-1]
	_ = src[(rows-1)*lds+cols-1]
	rows8, done := rows&^7, 0
	if k != Generic && rows8 > 0 {
		done = transposeAsm(dst, ldd, src, lds, rows8, cols)
	}
	for r := 0; r < rows; r++ {
		from := done
		if r >= rows8 {
			from = 0
		}
		for c := from; c < cols; c++ {
			dst[c*ldd+r] = src[r*lds+c]
		}
	}
}

// scaleC sets c to beta·c (to 0 when beta is 0, whatever c held).
func scaleC(beta float32, c []float32) {
	switch beta {
	case 0:
		clear(c)
	case 1:
	default:
		for i := range c {
			c[i] *= beta
		}
	}
}

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

// parallelMin is the number of multiply-adds below which a product runs on
// one goroutine (4M: ~25 µs on one core): starting and joining goroutines
// costs microseconds on an idle machine, and far more when the other cores
// are busy and the woken thread waits for one.
const parallelMin = 1 << 22

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

// chunkWork is the number of multiply-adds in one chunk of a parallel
// multiply (about 15 µs on one core).
const chunkWork = 2 << 20

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
// C and fewer fork/joins (512×256×257 on two cores: 146 → 188 GFLOPS).
// Equal blocks, so that none is a sliver. It depends on k and n alone, never
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
	off := 0 // into j.packed
	if j.threads > 1 {
		// Helpers live for the whole call and wait, spinning, between
		// reduction blocks: waking a parked thread per block costs tens of
		// µs here.
		j.stop.Store(false)
		j.ticket.Store(0)
		j.epoch = 0
		j.helpers.Add(j.threads - 1)
		for w := 1; w < j.threads; w++ {
			go j.helper(w)
		}
	}
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
			// B's panels are packed on demand, in groups, by whichever
			// goroutine first needs them (see ensureB): no separate phase,
			// no extra wait.
			st := unpacked
			if j.packed != nil {
				size := j.nPanels * g.nr * j.kb
				j.bbuf, st = j.packed[off:off+size], packed
				off += size
			}
			for i := range j.bstate[:ceilDiv(j.nPanels, packGroup)] {
				j.bstate[i].Store(int32(st))
			}
			// Multiply in chunks of row panels (or of column panels) of about
			// chunkWork multiply-adds each: many per goroutine, so that the
			// wait for the last chunk at the end of the phase is short and a
			// goroutine that starts late does not hold the rest up.
			q, per := j.mPanels, g.mr*j.nb*j.kb
			if j.splitCols {
				q, per = j.nPanels, j.m*g.nr*j.kb
			}
			j.chunk = min(max(1, chunkWork/per), ceilDiv(q, 2*j.threads), g.mcPanels)
			if j.threads == 1 {
				j.chunk = q
			}
			j.multiplyAll(ceilDiv(q, j.chunk))
		}
	}
	if j.threads > 1 {
		j.stop.Store(true)
		j.helpers.Wait()
	}
}

// multiplyAll runs the current block's multiply split into n chunks, which
// the job's goroutines take in turn from a shared ticket until none is left
// (a goroutine that comes late just takes fewer), and returns when all are
// done. Which goroutine does a chunk never changes the arithmetic.
func (j *gemmJob) multiplyAll(n int) {
	j.nChunks.Store(int64(n))
	j.done.Store(0)
	j.epoch++
	j.ticket.Store(j.epoch << 32) // publishes the block to the helpers
	j.takeChunks(0, j.epoch)
	for j.done.Load() < int64(n) {
		runtime.Gosched()
	}
}

// takeChunks does chunks of block epoch e as goroutine w (w names its
// buffers) until none is left or the block is no longer e. A chunk is taken
// by advancing the ticket (epoch<<32 | next chunk) with a compare-and-swap,
// so that a goroutine still looking at an old block can never take a chunk of
// a new one; the block's parameters, written before its ticket was
// published, stay fixed until its last chunk is done.
func (j *gemmJob) takeChunks(w int, e int64) {
	for {
		v := j.ticket.Load()
		if v>>32 != e || v&(1<<32-1) >= j.nChunks.Load() {
			return
		}
		if !j.ticket.CompareAndSwap(v, v+1) {
			continue
		}
		c := int(v & (1<<32 - 1))
		if j.splitCols {
			j.prefetchNextB(c, int(j.nChunks.Load()))
		}
		q0 := c * j.chunk
		if j.splitCols {
			j.multiply(w, 0, j.mPanels, q0, min(q0+j.chunk, j.nPanels))
		} else {
			j.multiply(w, q0, min(q0+j.chunk, j.mPanels), 0, j.nPanels)
		}
		j.done.Add(1)
	}
}

// prefetchNextB asks for part `part` of `parts` of the next reduction
// block's B (its rows, spread evenly) to be brought into L2 while this block
// computes, so that packing the next block does not wait on memory. Only for
// a row-major B that is packed here (not read in place, not packed before), when there is a next block, and on several
// goroutines (measured, alternating binaries: two cores 1024³ 225–243 →
// 236–286 GFLOPS; on one core it was no better).
func (j *gemmJob) prefetchNextB(part, parts int) {
	next := j.pc + j.kb
	if j.threads == 1 || j.tB || j.bInPlace || j.packed != nil || next >= j.k || j.g.kernel == Generic {
		return
	}
	kb := min(j.kcBlock, j.k-next)
	r0, r1 := part*kb/parts, (part+1)*kb/parts
	if r1 > r0 {
		prefetchB(j.b[(next+r0)*j.ldb+j.jc:], j.ldb, r1-r0, j.nb)
	}
}

// helper is goroutine w of a parallel call: it takes chunks of each block as
// it is published, until the call ends.
func (j *gemmJob) helper(w int) {
	defer j.helpers.Done()
	var seen int64
	for !j.stop.Load() {
		if e := j.ticket.Load() >> 32; e != seen {
			seen = e
			j.takeChunks(w, e)
			continue
		}
		runtime.Gosched()
	}
}

// packGroup is the number of B panels packed together (reading B's rows
// 4·nr elements at a time).
const packGroup = 4

// ensureB returns once B panel jp of the current block is packed. The first
// goroutine to need a group of panels packs it; one that finds it being
// packed packs a later group meanwhile, or yields.
func (j *gemmJob) ensureB(jp int) {
	gi := jp / packGroup
	st := &j.bstate[gi]
	for {
		switch st.Load() {
		case packed:
			return
		case unpacked:
			if st.CompareAndSwap(unpacked, packing) {
				j.packGroupB(gi)
				return
			}
		default:
			if !j.helpPackB(gi + 1) {
				runtime.Gosched()
			}
		}
	}
}

// helpPackB packs the first unclaimed group of B panels from group `from` on
// and reports whether there was one.
func (j *gemmJob) helpPackB(from int) bool {
	for gi := from; gi < ceilDiv(j.nPanels, packGroup); gi++ {
		if st := &j.bstate[gi]; st.Load() == unpacked && st.CompareAndSwap(unpacked, packing) {
			j.packGroupB(gi)
			return true
		}
	}
	return false
}

// packGroupB packs group gi of B panels, which the caller has claimed, and
// marks it packed (the atomic store publishes the packed data).
func (j *gemmJob) packGroupB(gi int) {
	p0 := gi * packGroup
	j.packB(p0, min(p0+packGroup, j.nPanels))
	j.bstate[gi].Store(packed)
}

// States of a group of B panels.
const (
	unpacked = iota
	packing
	packed
)

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
			// op(A) is A's columns: pack the block's full panels reading A's
			// rows, which are contiguous, one reduction step at a time.
			full := min(ie, j.m/mr) - ib
			if full > 0 {
				row0 := ib * mr
				src := j.a[j.pc*j.lda+row0:]
				_ = src[(kb-1)*j.lda+full*mr-1]
				_ = abuf[(full-1)*mr*kb+kb*mr-1]
				if g.kernel == Generic || !packATAsm(mr, abuf, mr*kb, src, j.lda, kb, full) {
					for p := 0; p < kb; p++ {
						copyRows(g.kernel, abuf[p*mr:], mr*kb, src[p*j.lda:], mr, full, mr)
					}
				}
			}
		}
		for ip := ib; ip < ie; ip++ {
			if !j.splitCols {
				j.prefetchNextB(ip, j.mPanels)
			}
			row := ip * mr
			mEff := min(mr, j.m-row)
			rows := g.kernelRows(mEff)
			var ap []float32
			rsa, csa := 1, mr
			switch {
			case j.tA && mEff == mr && !j.aInPlace:
				ap = abuf[(ip-ib)*mr*kb:]
			case mEff == rows && j.tA:
				// Small Aᵀ: read in place (rows adjacent, stride lda along
				// the reduction); it stays in cache.
				ap, rsa, csa = j.a[j.pc*j.lda+row:], 1, j.lda
			case mEff == rows && j.aRestride:
				// Row-major A whose rows alias in L1: copy the panel's rows
				// to a stride that does not (see aliasStride).
				var ld int
				ap, ld = j.restrideA(w, row, rows)
				rsa, csa = ld, 1
			case mEff == rows:
				// Row-major A: read in place (stride lda between rows, 1
				// along the reduction).
				ap, rsa, csa = j.a[row*j.lda+j.pc:], j.lda, 1
			default:
				ap = abuf[(ip-ib)*mr*kb:]
				j.packA(row, mEff, rows, ap)
			}
			j.panelRow(ap, rsa, csa, row, rows, mEff, jp0, jp1)
			if j.epi.on && j.pc+kb == j.k {
				// These rows and columns of C are final.
				j.epi.apply(j.c, j.ldc, row, row+mEff, j.jc+jp0*g.nr, j.jc+min(jp1*g.nr, j.nb))
			}
		}
	}
}

// aliasStride is the row stride (float32 elements, 4 KiB) whose multiples
// put every row of a row-major A panel in the same L1 set: the micro-kernel
// reads the panel's 12 rows side by side, more lines than an 8-way L1 (AMD
// Zen 4's 32 KiB) holds in one set, so they evict each other every 16
// reduction steps. One core, 1032×1024×k (AMD EPYC, best of 15, same run):
// k = 1024 99 GFLOPS, 2048 98, against 109 for 1008 and 108 for 2064.
// restrideA copies such a panel to rows restridePad elements (one cache
// line) longer than the block's reduction; the kernel's arithmetic, and so
// the bits, do not change.
const (
	aliasStride = 1024
	restridePad = 16
)

// restrides reports whether a product with A's row stride lda and n columns
// copies row-major A's panels to a non-aliasing stride: when lda is a
// multiple of aliasStride, the path's panels have more rows than an 8-way
// L1 has ways (the AVX-512 path's 12; the AVX2 path's 6 fit and were not
// measured), and the product has at least four B panels, so that a copy is
// usually shared by several (a split by column panels can leave one per
// copy: still a copy of 12·kb elements against 12·32·kb multiply-adds).
func (g *gemmPath) restrides(tA bool, lda, n int) bool {
	return !tA && lda%aliasStride == 0 && g.mr > 8 && n >= 4*g.nr && g.kernel != Generic && !g.keepStride
}

// restrideA copies rows [row, row+rows) of row-major A, over the current
// reduction block, into goroutine w's panel buffer with a row stride of
// kb+restridePad (one more restridePad when that is itself a multiple of
// aliasStride), and returns the panel and its stride.
func (j *gemmJob) restrideA(w, row, rows int) ([]float32, int) {
	g := j.g
	ld := j.kb + restridePad
	if ld%aliasStride == 0 {
		ld += restridePad
	}
	per := restrideElems(g)
	dst := j.arows[w*per : (w+1)*per]
	copyRows(g.kernel, dst, ld, j.a[row*j.lda+j.pc:], j.lda, rows, j.kb)
	if g.onRestride != nil {
		g.onRestride()
	}
	return dst, ld
}

// restrideElems is the size of one goroutine's restrideA buffer: mr rows of
// the longest reduction block and two pads.
func restrideElems(g *gemmPath) int { return g.mr * (kcGrow*g.kc + 2*restridePad) }

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
// temporary: in panelRow, a REP STOSQ of 1.5 KiB on every call, a few % of a
// 64-wide layer whose rows make two tiles.)
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

// packA packs rows [i0, i0+mEff) (an edge panel) of op(A) over the current
// reduction block into dst: dst[p*mr+i] = op(A)[i0+i][pc+p], rows from mEff
// up to rows (those the kernel reads) zero.
func (j *gemmJob) packA(i0, mEff, rows int, dst []float32) {
	mr, pc, kb, a, lda := j.g.mr, j.pc, j.kb, j.a, j.lda
	if j.tA { // op(A)[i][p] = A[p][i]: rows of A are contiguous in i.
		for p := 0; p < kb; p++ {
			d := dst[p*mr : p*mr+rows]
			s := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+mEff]
			for i, v := range s {
				d[i] = v
			}
			for i := mEff; i < rows; i++ {
				d[i] = 0
			}
		}
		return
	}
	for i := 0; i < mEff; i++ {
		src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kb]
		for p, v := range src {
			dst[p*mr+i] = v
		}
	}
	for p := 0; p < kb; p++ {
		d := dst[p*mr : p*mr+rows]
		for i := mEff; i < rows; i++ {
			d[i] = 0
		}
	}
}

// packB packs the column panels [p0, p1) of the current B block into bbuf:
// panel jp holds panel[p*nr+j] = op(B)[pc+p][jc + jp·nr + j], columns past
// the block's edge zero.
func (j *gemmJob) packB(p0, p1 int) {
	nr, pc, kb, b, ldb := j.g.nr, j.pc, j.kb, j.b, j.ldb
	full := min(p1, j.nb/nr) - p0 // full panels in the range
	if !j.tB && full > 0 {
		// One reduction step at a time, so that B is read along its rows
		// (in assembly with the rows ahead prefetched, where there is some).
		j0 := j.jc + p0*nr
		src, dst := b[pc*ldb+j0:], j.bbuf[p0*nr*kb:]
		if j.g.kernel == Generic || !packATAsm(nr, dst, nr*kb, src, ldb, kb, full) {
			for p := 0; p < kb; p++ {
				copyRows(j.g.kernel, dst[p*nr:], nr*kb, src[p*ldb:], nr, full, nr)
			}
		}
		p0 += full
	}
	for jp := p0; jp < p1; jp++ {
		j0 := j.jc + jp*nr
		nEff := min(nr, j.jc+j.nb-j0)
		dst := j.bbuf[jp*nr*kb : (jp+1)*nr*kb]
		if !j.tB {
			for p := 0; p < kb; p++ {
				d := dst[p*nr : (p+1)*nr]
				copy(d, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+nEff])
				clear(d[nEff:])
			}
			continue
		}
		// op(B)[p][j] = B[j][p]: transpose B's rows j0.. over [pc, pc+kb),
		// 8×8 blocks in assembly, the rest (a ragged edge) here.
		done := 0
		rows8 := nEff &^ 7
		if j.g.kernel != Generic && rows8 > 0 {
			_ = b[(j0+rows8-1)*ldb+pc+kb-1]
			done = transposeAsm(dst, nr, b[j0*ldb+pc:], ldb, rows8, kb)
		}
		for jj := 0; jj < nEff; jj++ {
			from := done
			if jj >= rows8 {
				from = 0
			}
			src := b[(j0+jj)*ldb+pc : (j0+jj)*ldb+pc+kb]
			for p := from; p < kb; p++ {
				dst[p*nr+jj] = src[p]
			}
		}
		for p := 0; p < kb; p++ {
			clear(dst[p*nr+nEff : (p+1)*nr])
		}
	}
}

// copyRows copies rows rows of w floats from src (row stride lds) to dst
// (row stride ldd), with the assembly copies when kernel k is not generic.
func copyRows(k Kernel, dst []float32, ldd int, src []float32, lds, rows, w int) {
	if rows <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+w-1]
	_ = src[(rows-1)*lds+w-1]
	if k != Generic && copyRowsAsm(dst, ldd, src, lds, rows, w) {
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*ldd:r*ldd+w], src[r*lds:r*lds+w])
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// smallKRows is the number of rows of C that gemmSmallK computes at a time
// (then applies the epilogue to, while they are in cache).
const smallKRows = 256

// gemmSmallK computes C = A·op(B) (α = 1, β = 0) for a reduction of k ≤
// smallKMax steps and n a multiple of nr — the first layer of a low-dimensional
// field, [x, t]·Wᵀ with k = 3 — with the small-k kernels: B's panels (from
// bPacked, or packed here) each held in registers while rows of A stream
// past. Through the micro-kernels such a product was nearly all per-tile
// overhead (512×64×3: 8.5 µs, a quarter of a 64-step layer's time). Same
// bits as the micro-kernels; the epilogue follows each block of rows.
func gemmSmallK(g *gemmPath, threads int, tB bool, m, n, k int, a, b, c *Dense, epi epilogue, bPacked []float32) {
	bp := bPacked
	var j *gemmJob
	if bp == nil {
		// B's own packing, into the buffer of a pooled job (k ≤ smallKMax
		// is one reduction block, so this is Pack's layout).
		j = g.getJob(1)
		size := packedSize(g, k, n)
		if cap(j.bbuf) < size {
			j.bbuf = make([]float32, size)
		}
		bp = j.bbuf[:size]
		packAllB(g, tB, b, k, n, bp)
	}
	if threads == 1 || m <= smallKRows {
		for lo := 0; lo < m; lo += smallKRows {
			smallKBlock(g, k, n, a, bp, c, &epi, lo, min(lo+smallKRows, m))
		}
	} else { // a closure (and a copy of epi) only here: they escape to the goroutines
		e := epi
		forChunks(threads, m, smallKRows, func(lo, hi int) { smallKBlock(g, k, n, a, bp, c, &e, lo, hi) })
	}
	if j != nil {
		g.jobs.Put(j)
	}
}

// smallKBlock computes rows [lo, hi) of gemmSmallK's C from the packed B bp
// and applies the epilogue to them. Column blocks of nc hold nb·k floats
// each, panel after panel; with n a multiple of nr, panel q of all of op(B)
// starts at q·nr·k.
func smallKBlock(g *gemmPath, k, n int, a *Dense, bp []float32, c *Dense, epi *epilogue, lo, hi int) {
	for q := 0; q < n/g.nr; q++ {
		smallKPanel(g, k, a.Data[lo*a.C:], a.C, bp[q*g.nr*k:], c.Data[lo*n+q*g.nr:], n, hi-lo)
	}
	if epi.on {
		epi.apply(c.Data, n, lo, hi, 0, n)
	}
}
