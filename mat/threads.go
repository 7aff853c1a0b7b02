package mat

import (
	"fmt"
	"runtime"
)

// Threads is the number of goroutines one mat operation may use; zero or less
// means GOMAXPROCS, which is what the package-level functions use. Its
// methods are those functions with that bound (and GemmBiasActPacked, which
// has no package-level form). Code that already runs one
// goroutine per core — the row chunks of nn's Eval, its training shards —
// calls Threads(1) so that each product does not fork again: two levels of
// parallelism on the same cores only spin and wait for each other. The bound
// never changes results: the work is split by blocks of the output, never
// along a reduction, so the bits are the same for any number of goroutines.
type Threads int

// n returns the number of goroutines to use: at least 1, at most GOMAXPROCS.
func (t Threads) n() int {
	p := runtime.GOMAXPROCS(0)
	if t <= 0 || int(t) > p {
		return p
	}
	return int(t)
}

// Gemm is the package's Gemm on at most t goroutines.
func (t Threads) Gemm(tA, tB bool, alpha float32, a, b *Dense, beta float32, c *Dense) {
	gemm(t.n(), tA, tB, alpha, a, b, beta, c, epilogue{})
}

// GemmBiasAct is the package's GemmBiasAct on at most t goroutines.
func (t Threads) GemmBiasAct(tA, tB bool, a, b *Dense, bias []float32, act Activation, pre, out *Dense) {
	gemmBiasAct(t.n(), tA, tB, a, b, bias, act, pre, out)
}

// BiasAct is the package's BiasAct on at most t goroutines.
func (t Threads) BiasAct(act Activation, z *Dense, bias []float32, out *Dense) {
	biasActDense(t.n(), act, z, bias, out)
}

// ActBackward is the package's ActBackward on at most t goroutines.
func (t Threads) ActBackward(act Activation, pre, g *Dense) {
	actBackward(t.n(), act, pre, g)
}

// ForChunks runs f on [0, n) in chunks of chunk elements (the last may be
// shorter), which up to t goroutines take in turn, and returns when all are
// done; on one goroutine, or when n fits one chunk, f gets [0, n) whole. It
// is the split the element-wise operations use, for element-wise work
// outside the package (optim's Adam step): work that treats each element
// alone gives the same bits for any t. It panics if chunk < 1.
func (t Threads) ForChunks(n, chunk int, f func(lo, hi int)) {
	if chunk < 1 {
		panic(fmt.Sprintf("mat: ForChunks chunk %d < 1", chunk))
	}
	if n <= 0 {
		return
	}
	forChunks(t.n(), n, chunk, f)
}
