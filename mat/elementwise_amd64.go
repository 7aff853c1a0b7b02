package mat

// Vectorised element-wise kernels (elementwise_amd64.s). Each processes a
// multiple of its vector width; the Go wrappers below run the remainder
// through the same kernel on a zero-padded copy, so every element goes through
// the same arithmetic whatever its position.

//go:noescape
func exp512(dst, src *float32, n int)

//go:noescape
func exp256(dst, src *float32, n int)

//go:noescape
func biasSilu512(z, bias, out *float32, n, rows, ld int)

//go:noescape
func biasSilu256(z, bias, out *float32, n, rows, ld int)

//go:noescape
func siluGrad512(pre, gr *float32, n int)

//go:noescape
func siluGrad256(pre, gr *float32, n int)

//go:noescape
func reluGrad512(pre, gr *float32, n int)

//go:noescape
func reluGrad256(pre, gr *float32, n int)

//go:noescape
func biasAdd512(z, bias, out *float32, n, rows, ld int)

//go:noescape
func biasAdd256(z, bias, out *float32, n, rows, ld int)

//go:noescape
func biasRelu512(z, bias, out *float32, n, rows, ld int)

//go:noescape
func biasRelu256(z, bias, out *float32, n, rows, ld int)

//go:noescape
func colSum512(gr *float32, ldg, rows int, dst *float32, n int)

//go:noescape
func colSum256(gr *float32, ldg, rows int, dst *float32, n int)

// lanes returns the float32 vector width of kernel k's element-wise code, or
// 0 when k has none (generic).
func lanes(k Kernel) int {
	switch k {
	case AVX512:
		return 16
	case AVX2:
		return 8
	}
	return 0
}

// expVec sets dst[i] = exp(src[i]) with kernel k's vectorised exp and reports
// whether k has one. len(dst) must equal len(src).
func expVec(k Kernel, dst, src []float32) bool {
	l := lanes(k)
	if l == 0 {
		return false
	}
	f := expKern
	n := len(src)
	_ = dst[n-1]
	body := n - n%l
	if body > 0 {
		f(k, &dst[0], &src[0], body)
	}
	if body < n {
		var t [16]float32
		copy(t[:], src[body:])
		f(k, &t[0], &t[0], l)
		copy(dst[body:], t[:n-body])
	}
	return true
}

// biasActVec is BiasAct on kernel k's vector path, on the rows held in z and
// out (row length cols: both hold the same whole number of rows, which the
// callers check); it reports false, doing nothing, when k or act has none.
func biasActVec(k Kernel, act Activation, z, bias, out []float32, cols int) bool {
	l := lanes(k)
	if l == 0 || len(z) == 0 || cols == 0 {
		return false
	}
	switch act {
	case Identity, ReLU, SiLU:
	default:
		return false
	}
	if cols < l && l%cols == 0 && len(z) >= l {
		biasActNarrow(k, act, z, bias, out, cols, l)
		return true
	}
	if act != SiLU && cols < l {
		return false // the scalar loop is exact for these and as fast here
	}
	n := cols
	body := n - n%l
	rows := len(z) / n
	if body > 0 {
		_, _ = z[rows*n-1], out[rows*n-1]
		biasActKern(k, act, &z[0], &bias[0], &out[0], body, rows, n)
	}
	if body == n {
		return true
	}
	for i := 0; i+n <= len(z); i += n {
		zr, or := z[i:i+n], out[i:i+n]
		var tz, tb, to [16]float32
		copy(tz[:], zr[body:])
		copy(tb[:], bias[body:])
		biasActKern(k, act, &tz[0], &tb[0], &to[0], l, 1, l)
		copy(zr[body:], tz[:n-body])
		copy(or[body:], to[:n-body])
	}
	return true
}

// biasActNarrow is biasActVec for narrow rows (a 2-D field's output layer: 2
// columns) that tile a vector of l lanes: rows of l elements against the
// bias repeated l/cols times, the same operations element by element, where
// the scalar loop would spend most of its time on loop overhead.
func biasActNarrow(k Kernel, act Activation, z, bias, out []float32, cols, l int) {
	var rb [16]float32
	for i := range l {
		rb[i] = bias[i%cols]
	}
	body := len(z) - len(z)%l
	_, _ = z[body-1], out[body-1]
	biasActKern(k, act, &z[0], &rb[0], &out[0], l, body/l, l)
	if tail := len(z) - body; tail > 0 { // whole rows: body is a multiple of cols
		var tz, to [16]float32
		copy(tz[:], z[body:])
		biasActKern(k, act, &tz[0], &rb[0], &to[0], l, 1, l)
		copy(z[body:], tz[:tail])
		copy(out[body:], to[:tail])
	}
}

// actBackwardVec is ActBackward on kernel k's vector path; false when k or
// act has none.
func actBackwardVec(k Kernel, act Activation, pre, g []float32) bool {
	l := lanes(k)
	if l == 0 || (act != SiLU && act != ReLU) || len(pre) == 0 {
		return false
	}
	f := func(k Kernel, pre, g *float32, n int) { // direct calls: no escape
		if act == ReLU {
			reluGradKern(k, pre, g, n)
		} else {
			siluGradKern(k, pre, g, n)
		}
	}
	n := len(pre)
	_ = g[n-1]
	body := n - n%l
	if body > 0 {
		f(k, &pre[0], &g[0], body)
	}
	if body < n {
		var tp, tg [16]float32
		copy(tp[:], pre[body:])
		copy(tg[:], g[body:n])
		f(k, &tp[0], &tg[0], l)
		copy(g[body:n], tg[:n-body])
	}
	return true
}

// colSumVec adds the column sums of the first n columns of g (n a multiple of
// the vector width) to dst, rows in order: the same additions, in the same
// order, as the scalar loop. It returns how many columns it did.
func colSumVec(k Kernel, g *Dense, dst []float32) int {
	l := lanes(k)
	if l == 0 || g.R == 0 {
		return 0
	}
	n := g.C - g.C%l
	if n == 0 {
		return 0
	}
	_ = g.Data[g.R*g.C-1]
	_ = dst[n-1]
	if k == AVX512 {
		colSum512(&g.Data[0], g.C, g.R, &dst[0], n)
	} else {
		colSum256(&g.Data[0], g.C, g.R, &dst[0], n)
	}
	return n
}

// The dispatchers below call the assembly directly (not through a func
// value), so the compiler sees the pointers do not escape: the stack buffers
// of the tails stay on the stack.

func expKern(k Kernel, dst, src *float32, n int) {
	if k == AVX512 {
		exp512(dst, src, n)
	} else {
		exp256(dst, src, n)
	}
}

func siluGradKern(k Kernel, pre, g *float32, n int) {
	if k == AVX512 {
		siluGrad512(pre, g, n)
	} else {
		siluGrad256(pre, g, n)
	}
}

func reluGradKern(k Kernel, pre, g *float32, n int) {
	if k == AVX512 {
		reluGrad512(pre, g, n)
	} else {
		reluGrad256(pre, g, n)
	}
}

func biasActKern(k Kernel, act Activation, z, bias, out *float32, n, rows, ld int) {
	switch {
	case act == SiLU && k == AVX512:
		biasSilu512(z, bias, out, n, rows, ld)
	case act == SiLU:
		biasSilu256(z, bias, out, n, rows, ld)
	case act == ReLU && k == AVX512:
		biasRelu512(z, bias, out, n, rows, ld)
	case act == ReLU:
		biasRelu256(z, bias, out, n, rows, ld)
	case k == AVX512:
		biasAdd512(z, bias, out, n, rows, ld)
	default:
		biasAdd256(z, bias, out, n, rows, ld)
	}
}
