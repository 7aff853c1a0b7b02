package optim

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/mat"
)

// adamStep holds the constants of one Adam(W) step. c1 and c2 are the bias
// corrections 1−β1ᵗ and 1−β2ᵗ; wd is decoupled weight decay (AdamW), 0 for
// Adam.
type adamStep struct {
	lr, beta1, beta2, eps, c1, c2, wd float32
}

// adamParallelMin is the number of parameters from which adamUpdate splits
// its work across goroutines, in chunks of adamChunk (a multiple of every
// vector width). Each parameter's update depends on its own values alone, so
// the split never changes the bits.
const (
	adamParallelMin = 1 << 16
	adamChunk       = 1 << 14
)

// adamUpdate applies one Adam(W) step to parameters p with gradients g and
// moment estimates m and v (all the same length), as torch.optim.Adam(W)
// does: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
// p ← p − lr·wd·p − lr · (m/c1) / (√(v/c2) + eps).
// It runs on the kernel path mat uses now (mat.CurrentKernel), on up to
// GOMAXPROCS goroutines when p is large.
func adamUpdate(h adamStep, p, g, m, v []float32) {
	if len(g) != len(p) || len(m) != len(p) || len(v) != len(p) {
		panic(fmt.Sprintf("optim: adamUpdate lengths p %d g %d m %d v %d", len(p), len(g), len(m), len(v)))
	}
	k, n := mat.CurrentKernel(), len(p)
	if n < adamParallelMin {
		adamRange(k, h, p, g, m, v)
		return
	}
	mat.Threads(0).ForChunks(n, adamChunk, func(lo, hi int) {
		adamRange(k, h, p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi])
	})
}

// adamRange is adamUpdate on one goroutine: the vector body on kernel path
// k (see adamVec), the rest in the scalar loop, whose operations the vector
// kernels repeat in the same order, so that every element gets the same bits
// wherever it lies. The kernels round every product before the sum it enters
// (no FMA), so the scalar loop converts each such product to float32
// explicitly: the Go spec then forbids fusing it, which the compiler does
// otherwise from GOAMD64=v3 on.
func adamRange(k mat.Kernel, h adamStep, p, g, m, v []float32) {
	done := adamVec(k, h, p, g, m, v)
	for i := done; i < len(p); i++ {
		gi := g[i]
		mi := float32(h.beta1*m[i]) + float32((1-h.beta1)*gi)
		vi := float32(h.beta2*v[i]) + float32((1-h.beta2)*gi*gi)
		m[i], v[i] = mi, vi
		pi := p[i] - float32(h.lr*h.wd*p[i])
		p[i] = pi - h.lr*(mi/h.c1)/(float32(math.Sqrt(float64(vi/h.c2)))+h.eps)
	}
}
