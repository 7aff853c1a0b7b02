package mat

// packATBlock packs the full mr-row panels among [ib, ie) of op(A) = Aᵀ
// over the current reduction block into dst, panel after panel, reading A's
// rows, which are contiguous, one reduction step at a time. (An edge panel
// is left to packA.)
func (j *gemmJob) packATBlock(dst []float32, ib, ie int) {
	g := j.g
	mr, kb := g.mr, j.kb
	full := min(ie, j.m/mr) - ib
	if full <= 0 {
		return
	}
	src := j.a[j.pc*j.lda+ib*mr:]
	_ = src[(kb-1)*j.lda+full*mr-1]
	_ = dst[(full-1)*mr*kb+kb*mr-1]
	if g.kernel == Generic || !packATAsm(mr, dst, mr*kb, src, j.lda, kb, full) {
		for p := 0; p < kb; p++ {
			copyRows(g.kernel, dst[p*mr:], mr*kb, src[p*j.lda:], mr, full, mr)
		}
	}
}

// packA packs rows [i0, i0+mEff) (an edge panel) of op(A) over the current
// reduction block into dst: dst[p*mr+i] = op(A)[i0+i][pc+p], rows from mEff
// up to rows (those the kernel reads) zero.
func (j *gemmJob) packA(i0, mEff, rows int, dst []float32) {
	mr, pc, kb, a, lda := j.g.mr, j.pc, j.kb, j.a, j.lda
	if j.tA { // op(A)[i][p] = A[p][i]: rows of A are contiguous in i.
		for p := 0; p < kb; p++ {
			d := dst[p*mr : p*mr+rows]
			copy(d, a[(pc+p)*lda+i0:(pc+p)*lda+i0+mEff])
			clear(d[mEff:])
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
		j.packBTransposed(dst, j0, nEff)
	}
}

// packBTransposed packs the panel of op(B) = Bᵀ whose nEff ≤ nr columns
// start at column j0 into dst (nr·kb floats), columns past nEff zero:
// op(B)[p][j] = B[j][p], a transpose of B's rows j0.. over [pc, pc+kb), 8×8
// blocks in assembly, the rest (a ragged edge) here.
func (j *gemmJob) packBTransposed(dst []float32, j0, nEff int) {
	nr, pc, kb, b, ldb := j.g.nr, j.pc, j.kb, j.b, j.ldb
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
