package mat

import (
	"fmt"
	"math"
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
func BiasAct(act Activation, z *Dense, bias []float32, out *Dense) {
	if len(bias) != z.C || out.R != z.R || out.C != z.C {
		panic(fmt.Sprintf("mat: BiasAct shapes: z %s, bias %d, out %s", z.Shape(), len(bias), out.Shape()))
	}
	if biasActVec(CurrentKernel(), act, z, bias, out) {
		return
	}
	for i := 0; i < z.R; i++ {
		zr, or := z.Row(i), out.Row(i)
		for j, b := range bias {
			v := zr[j] + b
			zr[j] = v
			or[j] = actF(act, v)
		}
	}
}

// ActBackward multiplies g element-wise by act'(pre): the gradient through the
// activation (backward), or the tangent through it (forward-mode JVP).
// SiLU is vectorised on the AVX2 and AVX-512 paths.
func ActBackward(act Activation, pre, g *Dense) {
	if pre.R != g.R || pre.C != g.C {
		panic(fmt.Sprintf("mat: ActBackward shapes: pre %s, g %s", pre.Shape(), g.Shape()))
	}
	if act == Identity {
		return // g·1 = g
	}
	if actBackwardVec(CurrentKernel(), act, pre.Data[:pre.R*pre.C], g.Data[:g.R*g.C]) {
		return
	}
	for i, x := range pre.Data[:pre.R*pre.C] {
		g.Data[i] *= actD(act, x)
	}
}

// ColSumAdd adds the column sums of g to dst: the gradient of a bias.
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

// AdamParams are the constants of one Adam(W) step. C1 and C2 are the bias
// corrections 1−β1ᵗ and 1−β2ᵗ; WD is decoupled weight decay (AdamW), 0 for Adam.
type AdamParams struct {
	LR, Beta1, Beta2, Eps, C1, C2, WD float32
}

// AdamUpdate applies one Adam(W) step to parameters p with gradients g and
// moment estimates m and v (all the same length), as torch.optim.Adam(W) does:
// m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
// p ← p − lr·wd·p − lr · (m/c1) / (√(v/c2) + eps).
func AdamUpdate(h AdamParams, p, g, m, v []float32) {
	if len(g) != len(p) || len(m) != len(p) || len(v) != len(p) {
		panic(fmt.Sprintf("mat: AdamUpdate lengths p %d g %d m %d v %d", len(p), len(g), len(m), len(v)))
	}
	done := adamVec(CurrentKernel(), h, p, g, m, v)
	for i := done; i < len(p); i++ {
		gi := g[i]
		mi := h.Beta1*m[i] + (1-h.Beta1)*gi
		vi := h.Beta2*v[i] + (1-h.Beta2)*gi*gi
		m[i], v[i] = mi, vi
		pi := p[i] - h.LR*h.WD*p[i]
		p[i] = pi - h.LR*(mi/h.C1)/(float32(math.Sqrt(float64(vi/h.C2)))+h.Eps)
	}
}
