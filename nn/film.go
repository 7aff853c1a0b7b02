package nn

import (
	"math"

	"github.com/flowlab/flowlab/mat"
)

// A "film" net with Config.TimeEmbed = E > 0 conditions the MLP on time the
// way diffusion and flow-matching models do. The time t goes through
//
//	φ(t) = [sin ω_k t, cos ω_k t], k = 0..timeFreqs−1 (ω_k geometric from 1 to timeFreqMax),
//	e(t) = SiLU(W₂·SiLU(W₁·φ(t) + b₁) + b₂)  (the "time_embed" MLP, width E),
//
// and linear heads read e(t): hidden layer l's pre-activation
// u = W·h + b becomes u⊙(1 + s_l) + c_l, [s_l; c_l] = M_l·e + m_l, and the
// output v = W·h + b becomes v⊙(1 + s_out), s_out = M_out·e + m_out. The
// input still holds [x, t, Fourier features], as the MLP's does.
//
// Initialisation: the MLP's layers are drawn first, exactly as New draws
// the MLP of the same seed, then W₁, b₁, W₂, b₂ with PyTorch's Linear
// default; every head (M, m) starts at zero. So a fresh net has s = c = 0
// and computes the MLP of the same seed, bit for bit, while the gradient
// reaching the heads is not zero (e(t) is), so they start learning at once.
//
// The heads of every layer are stacked into one K×E matrix (K = 2·Σ hidden
// widths + Dim), layer l's rows from its col: scale then shift for a hidden
// layer, scale for the output. The modulations are computed by groups of
// these rows, a block of batch rows at a time, as the layers' passes need
// them (filmsc.go); their gradients, one B×K matrix, give the heads'
// gradients in two products.

// timeFreqs is the number of sinusoid frequencies of φ(t), and timeFreqMax
// the highest (the lowest is 1): periods from 2π down to 2π/timeFreqMax.
// The time MLP composes sharper functions of t from them; higher
// frequencies would make the field vary faster in t than the default
// sampler resolves (RK4 with 100 evaluations takes steps of 0.04, and
// ω·h stays ≤ 0.4); the forward-then-backward round trip of
// TestSampleFromFile in cmd/flowlab fails with a much higher one
// (docs/FILM.md has the figures).
const (
	timeFreqs   = 8
	timeFreqMax = 10.0
)

// timeEmbed is a learned-embedding film net's time MLP and modulation
// heads (views into the net's parameters and gradients) and their buffers.
type timeEmbed struct {
	freqs            [timeFreqs]float64
	w1, gw1, w2, gw2 *mat.Dense // E×2F and E×E
	b1, gb1, b2, gb2 []float32
	m, gm            *mat.Dense // K×E heads of every layer, stacked
	mb, gmb          []float32  // K
	mb1              []float32  // mb plus 1 on the scale columns

	phi, p1, a1, p2, e *mat.Dense  // B×2F features; B×E pre-activations and activations
	groups             []scGroup   // the modulation, by groups of layers (filmsc.go)
	views              []mat.Dense // two per block of passRows rows, for computeRows
	dsc                *mat.Dense  // B×K gradient of the modulation
	de, da             *mat.Dense  // B×E gradients of the embedding's layers
	gv                 *mat.Dense  // B×Dim gradient of the output before its scale

	lab *labelEmbed // a conditional net's label table (label.go), or nil

	// gmAcc sums the heads' gradient dscᵀ·e as the backward passes write
	// dsc's rows, when it can (gmOn, and the passes add the rows to gmb
	// too; otherwise backward multiplies and sums).
	gmAcc mat.TransAcc
	gmOn  bool

	pass   filmPass         // the element-wise pass in progress (filmpass.go)
	passFn func(lo, hi int) // te.passBlocks, made once
}

// newTimeEmbed lays out the time MLP and heads of a learned-embedding film
// net in params/grads from off, sets each layer's col, and returns the
// embedding and the offset after it.
func newTimeEmbed(cfg *Config, layers []layer, params, grads []float32, off int) (*timeEmbed, int) {
	e, f2, k := cfg.TimeEmbed, 2*timeFreqs, cfg.headRows()
	te := &timeEmbed{}
	for i := range te.freqs {
		te.freqs[i] = math.Pow(timeFreqMax, float64(i)/float64(timeFreqs-1))
	}
	dense := func(r, c int) (*mat.Dense, *mat.Dense) {
		a, b := mat.NewFrom(r, c, params[off:off+r*c]), mat.NewFrom(r, c, grads[off:off+r*c])
		off += r * c
		return a, b
	}
	vec := func(r int) ([]float32, []float32) {
		a, b := params[off:off+r:off+r], grads[off:off+r:off+r]
		off += r
		return a, b
	}
	te.w1, te.gw1 = dense(e, f2)
	te.b1, te.gb1 = vec(e)
	te.w2, te.gw2 = dense(e, e)
	te.b2, te.gb2 = vec(e)
	te.m, te.gm = dense(k, e)
	te.mb, te.gmb = vec(k)
	te.mb1 = make([]float32, k)
	col := 0
	for i := range layers {
		l := &layers[i]
		l.col = col
		l.u = mat.New(0, l.out)
		if i < len(layers)-1 {
			col += 2 * l.out
		} else {
			col += l.out
		}
	}
	te.phi = mat.New(0, f2)
	te.p1, te.a1, te.p2, te.e = mat.New(0, e), mat.New(0, e), mat.New(0, e), mat.New(0, e)
	te.dsc = mat.New(0, k)
	te.newGroups(cfg, layers)
	te.de, te.da = mat.New(0, e), mat.New(0, e)
	te.gv = mat.New(0, cfg.Dim)
	te.passFn = te.passBlocks
	return te, off
}

// features writes φ(t) for every time into te.phi (B×2F).
func (te *timeEmbed) features(t []float32) {
	f := timeFreqs
	te.phi.Reshape(len(t), 2*f)
	for i, ti := range t {
		row := te.phi.Data[i*2*f : (i+1)*2*f]
		for k, w := range te.freqs {
			s, c := math.Sincos(w * float64(ti))
			row[k], row[f+k] = float32(s), float32(c)
		}
	}
}

// forward computes e(t) from φ(t) and readies the modulation's groups,
// whose rows the layers' passes compute (filmsc.go).
func (te *timeEmbed) forward(th mat.Threads, cfg *Config, layers []layer) {
	b, e := te.phi.R, cfg.TimeEmbed
	te.p1.Reshape(b, e)
	te.a1.Reshape(b, e)
	th.GemmBiasAct(false, true, te.phi, te.w1, te.b1, mat.SiLU, te.p1, te.a1)
	te.p2.Reshape(b, e)
	te.e.Reshape(b, e)
	if te.lab != nil {
		te.lab.secondLayer(th, te)
	} else {
		th.GemmBiasAct(false, true, te.a1, te.w2, te.b2, mat.SiLU, te.p2, te.e)
	}
	te.prepare(b, layers)
}

// scaleTangent multiplies d (B×w, a tangent of layer l's u) by its 1+s:
// s and c do not depend on x, so d(u⊙(1+s) + c) = d(u)⊙(1+s).
func (te *timeEmbed) scaleTangent(d *mat.Dense, l *layer) {
	w := d.C
	for r := 0; r < d.R; r++ {
		dr := d.Data[r*w : (r+1)*w]
		mat.Mul(dr, dr, te.scRow(l, r, w))
	}
}

// backward adds the gradients of the heads and of the time MLP from dsc,
// which outputBackward and layerBackward have filled (less the heads'
// gradients, when the passes summed them: see filmpass.go).
func (te *timeEmbed) backward(th mat.Threads) {
	if !te.gmOn {
		th.Gemm(true, false, 1, te.dsc, te.e, 1, te.gm)
		mat.ColSumAdd(te.dsc, te.gmb)
	}
	te.gmOn = false
	te.de.Reshape(te.dsc.R, te.e.C)
	th.Gemm(false, false, 1, te.dsc, te.m, 0, te.de)
	th.ActBackward(mat.SiLU, te.p2, te.de)
	if te.lab != nil {
		te.lab.backward(te.de)
	}
	th.Gemm(true, false, 1, te.de, te.a1, 1, te.gw2)
	mat.ColSumAdd(te.de, te.gb2)
	te.da.Reshape(te.de.R, te.e.C)
	th.Gemm(false, false, 1, te.de, te.w2, 0, te.da)
	th.ActBackward(mat.SiLU, te.p1, te.da)
	th.Gemm(true, false, 1, te.da, te.phi, 1, te.gw1)
	mat.ColSumAdd(te.da, te.gb1)
}

// init draws the time MLP's weights and biases with PyTorch's Linear
// default, uniform in ±1/√fan_in, after the MLP's; the heads stay zero.
func (te *timeEmbed) init(draw func(bound float64, dst []float32)) {
	b1 := 1 / math.Sqrt(float64(te.w1.C))
	draw(b1, te.w1.Data)
	draw(b1, te.b1)
	b2 := 1 / math.Sqrt(float64(te.w2.C))
	draw(b2, te.w2.Data)
	draw(b2, te.b2)
}

// DefaultTimeEmbed is the time-embedding width E that flowlab uses for a
// film net with these hidden widths when none is given: the narrowest width
// over 16, between 8 and 64. The heads hold (2·Σ widths + dim)·E weights
// and cost three products of that size a training step, against the MLP's
// Σ w_l·w_{l+1}: with E at most w/16 they add about a fifth to a step of
// three equal layers (3E/w), where E = 64 at w = 256 added three quarters
// (docs/FILM.md has the measurement).
func DefaultTimeEmbed(hidden []int) int {
	w := 0
	for i, h := range hidden {
		if i == 0 || h < w {
			w = h
		}
	}
	return min(max(w/16, 8), 64)
}
