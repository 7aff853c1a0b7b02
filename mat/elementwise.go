package mat

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Activation names an element-wise nonlinearity.
type Activation int

// The activations an MLP layer can use.
const (
	Identity Activation = iota
	SiLU
	ReLU
	Tanh
	SELU
	GELU // tanh approximation, as PyTorch's GELU(approximate="tanh")
)

var actNames = [...]string{"identity", "silu", "relu", "tanh", "selu", "gelu"}

// String returns the activation's lower-case name.
func (a Activation) String() string {
	if a < 0 || int(a) >= len(actNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return actNames[a]
}

// ParseActivation returns the activation with the given name.
func ParseActivation(name string) (Activation, error) {
	for i, n := range actNames {
		if n == name {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("unknown activation %q (want silu, relu, tanh, selu, gelu or identity)", name)
}

const (
	seluAlpha = 1.6732632423543772
	seluScale = 1.0507009873554805
	geluC     = 0.7978845608028654 // √(2/π)
)

func actF(a Activation, x float32) float32 {
	switch a {
	case SiLU:
		return x / (1 + float32(math.Exp(float64(-x))))
	case ReLU:
		return max(x, 0)
	case Tanh:
		return float32(math.Tanh(float64(x)))
	case SELU:
		if x > 0 {
			return seluScale * x
		}
		return float32(seluScale * seluAlpha * (math.Exp(float64(x)) - 1))
	case GELU:
		// ½x(1 + tanh w) = x·σ(2w): the same function, without the
		// cancellation of 1 + tanh w where w → −∞.
		u := float64(x)
		return float32(u / (1 + math.Exp(-2*geluC*(u+0.044715*u*u*u))))
	}
	return x
}

// actD returns the derivative of a at pre-activation x.
func actD(a Activation, x float32) float32 {
	switch a {
	case SiLU:
		s := 1 / (1 + float32(math.Exp(float64(-x))))
		return s * (1 + x*(1-s))
	case ReLU:
		if x > 0 {
			return 1
		}
		return 0
	case Tanh:
		// In float64: 1 − t² of a float32 t loses digits where |t| → 1.
		t := math.Tanh(float64(x))
		return float32(1 - t*t)
	case SELU:
		if x > 0 {
			return seluScale
		}
		return float32(seluScale * seluAlpha * math.Exp(float64(x)))
	case GELU:
		// d/du ½u(1 + tanh w) with ½(1 + tanh w) = s = σ(2w) and
		// 1 − tanh² w = 4s(1 − s): s·(1 + 2u(1 − s)·w'), free of cancellation.
		u := float64(x)
		s := 1 / (1 + math.Exp(-2*geluC*(u+0.044715*u*u*u)))
		return float32(s * (1 + 2*u*(1-s)*geluC*(1+3*0.044715*u*u)))
	}
	return 1
}

// BiasAct adds bias to every row of z in place (z becomes the pre-activation)
// and writes act(z) into out. out may be z itself only for Identity.
// Identity, ReLU and SiLU are vectorised on the AVX2 and AVX-512 paths (SiLU
// with a polynomial exp, relative error about 1e-7); the others run in Go.
// Large matrices are split by rows across GOMAXPROCS goroutines (the same
// bits whatever their number).
func BiasAct(act Activation, z *Dense, bias []float32, out *Dense) {
	biasActDense(runtime.GOMAXPROCS(0), act, z, bias, out)
}

func biasActDense(threads int, act Activation, z *Dense, bias []float32, out *Dense) {
	if len(bias) != z.C || out.R != z.R || out.C != z.C {
		panic(fmt.Sprintf("mat: BiasAct shapes: z %s, bias %d, out %s", z.Shape(), len(bias), out.Shape()))
	}
	n := z.R * z.C
	biasAct(threads, CurrentKernel(), act, z.Data[:n], bias, out.Data[:n], z.C)
}

// biasAct is BiasAct on whole rows of length cols held in z and out, split
// across at most threads goroutines when large.
func biasAct(threads int, k Kernel, act Activation, z, bias, out []float32, cols int) {
	if len(z) < ewParallelMin || cols == 0 {
		biasActRows(k, act, z, bias, out, cols)
		return
	}
	rows := max(1, ewChunk/cols)
	forChunks(threads, len(z)/cols, rows, func(lo, hi int) {
		biasActRows(k, act, z[lo*cols:hi*cols], bias, out[lo*cols:hi*cols], cols)
	})
}

// biasActRows is BiasAct on the rows held in z and out (row length cols).
func biasActRows(k Kernel, act Activation, z, bias, out []float32, cols int) {
	if biasActVec(k, act, z, bias, out, cols) {
		return
	}
	if act == Identity { // a 2-D field's output layer: 2 columns
		for i := 0; i+cols <= len(z); i += cols {
			zr, or := z[i:i+cols], out[i:i+cols]
			zr, or = zr[:len(bias)], or[:len(bias)]
			for j, b := range bias {
				v := zr[j] + b
				zr[j], or[j] = v, v
			}
		}
		return
	}
	for i := 0; i+cols <= len(z); i += cols {
		zr, or := z[i:i+cols], out[i:i+cols]
		for j, b := range bias {
			v := zr[j] + b
			zr[j] = v
			or[j] = actF(act, v)
		}
	}
}

// ActBackward multiplies g element-wise by act'(pre): the gradient through the
// activation (backward), or the tangent through it (forward-mode JVP).
// SiLU and ReLU are vectorised on the AVX2 and AVX-512 paths. Large matrices are split
// across GOMAXPROCS goroutines.
func ActBackward(act Activation, pre, g *Dense) {
	actBackward(runtime.GOMAXPROCS(0), act, pre, g)
}

func actBackward(threads int, act Activation, pre, g *Dense) {
	if pre.R != g.R || pre.C != g.C {
		panic(fmt.Sprintf("mat: ActBackward shapes: pre %s, g %s", pre.Shape(), g.Shape()))
	}
	if act == Identity {
		return // g·1 = g
	}
	k, n := CurrentKernel(), pre.R*pre.C
	if n < ewParallelMin {
		actBackwardRange(k, act, pre.Data[:n], g.Data[:n])
		return
	}
	pd, gd := pre.Data[:n], g.Data[:n]
	forChunks(threads, n, ewChunk, func(lo, hi int) {
		actBackwardRange(k, act, pd[lo:hi], gd[lo:hi])
	})
}

func actBackwardRange(k Kernel, act Activation, pre, g []float32) {
	if actBackwardVec(k, act, pre, g) {
		return
	}
	for i, x := range pre {
		g[i] *= actD(act, x)
	}
}

// ColSumAdd adds the column sums of g to dst: the gradient of a bias. Each
// column is summed over the rows in order.
func ColSumAdd(g *Dense, dst []float32) {
	if len(dst) != g.C {
		panic(fmt.Sprintf("mat: ColSumAdd shapes: g %s, dst %d", g.Shape(), len(dst)))
	}
	done := colSumVec(CurrentKernel(), g, dst)
	for i := 0; i < g.R; i++ {
		for j, v := range g.Row(i)[done:] {
			dst[done+j] += v
		}
	}
}

// ewParallelMin is the number of elements from which the element-wise
// operations split their work across goroutines, in chunks of ewChunk (a
// multiple of every vector width, and independent of the number of
// goroutines, so that the bits are too).
const (
	ewParallelMin = 1 << 16
	ewChunk       = 1 << 14
)

// forChunks runs f on [0, n) in chunks of the given size (the last may be
// shorter), which up to threads goroutines take from a shared counter. It
// returns when all are done.
func forChunks(threads, n, chunk int, f func(lo, hi int)) {
	nc := ceilDiv(n, chunk)
	t := min(threads, nc)
	if t <= 1 {
		f(0, n)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for {
			c := int(next.Add(1)) - 1
			if c >= nc {
				return
			}
			f(c*chunk, min((c+1)*chunk, n))
		}
	}
	wg.Add(t - 1)
	for w := 1; w < t; w++ {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
