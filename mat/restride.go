package mat

// aliasStride is the row stride (float32 elements, 4 KiB) whose multiples
// put every row of a row-major A panel in the same L1 set: the micro-kernel
// reads the panel's 12 rows side by side, more lines than an 8-way L1 (AMD
// Zen 4's 32 KiB) holds in one set, so they evict each other every 16
// reduction steps and a product with such a stride runs slower than one with
// a stride a little shorter or longer. restrideA copies such a panel to rows restridePad elements (one cache
// line) longer than the block's reduction; the kernel's arithmetic, and so
// the bits, do not change.
const (
	aliasStride = 1024
	restridePad = 16
)

// restrides reports whether a product with A's row stride lda and n columns
// copies row-major A's panels to a non-aliasing stride: when lda is a
// multiple of aliasStride, the path's panels have more rows than an 8-way
// L1 has ways (the AVX-512 path's 12; the AVX2 path's 6 fit), and the
// product has at least four B panels, so that a copy is
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
