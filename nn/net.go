// Package nn holds flowlab's neural velocity field v(x, t): a multilayer
// perceptron that takes a batch of points x (one per row) and their times t,
// with a forward pass, a backward pass (parameter gradients and, on request,
// the input gradient dL/dx), a forward-mode Jacobian-vector product, seeded
// PyTorch-like initialisation, and safetensors save/load with the tensor names
// a PyTorch nn.Sequential of Linear and activation layers would have.
//
// Every parameter lives in one flat []float32 (Params), laid out layer by
// layer as weight (out×in, row-major, PyTorch's layout) then bias, with the
// gradients in a parallel slice (Grads), so that optimizers, EMA and gradient
// clipping work on flat slices. Activations are stored batch-major (B×width),
// so that every heavy operation is one mat.Gemm or one fused mat kernel.
//
// A Net owns its buffers and is not safe for concurrent use; Clone one per
// goroutine. Large batches are split over the cores by the net itself: Grad
// (training) in fixed shards, Eval (sampling) in fixed row chunks, each on
// a worker net whose matrix products run on one goroutine, so that results
// do not depend on GOMAXPROCS.
package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"

	"github.com/flowlab/flowlab/mat"
)

// Config describes a velocity-field network. Its JSON form is stored in the
// safetensors metadata and in run folders.
type Config struct {
	Dim     int    `json:"dim"`     // data dimension: x in, v out
	Hidden  []int  `json:"hidden"`  // hidden widths; any may be narrower than Dim
	Act     string `json:"act"`     // silu (default), relu, tanh, selu, gelu
	Fourier int    `json:"fourier"` // 0: t is one raw input column; F > 0: plus sin/cos(2πkt), k = 1..F
	Arch    string `json:"arch"`    // "mlp" (default: t concatenated to x) or "film" (see below)
}

// The "film" architecture is the MLP plus feature-wise linear modulation by
// time: every hidden pre-activation u = W·h + b becomes u⊙(1 + s(t)) + c(t)
// before the activation, with [s; c] = M·e(t) + m linear in the time
// embedding e(t) = [t, sin(2πkt), cos(2πkt)] (k = 1..Fourier). M and m start
// at zero, so a fresh FiLM net computes what the MLP of the same seed does.
// The exact Gaussian field c(t)·x is a product of a function of t and x; FiLM
// lets the network form such products directly.

// maxParams bounds the parameter count a Config may ask for (2^31 float32
// values, 8 GiB), so that a corrupt file cannot make New allocate without end.
const maxParams = 1 << 31

// normalize fills in defaults and checks cfg; it returns the activation.
func (c *Config) normalize() (mat.Activation, error) {
	if c.Act == "" {
		c.Act = "silu"
	}
	if c.Arch == "" {
		c.Arch = "mlp"
	}
	if c.Dim < 1 {
		return 0, fmt.Errorf("nn: config: dim %d, want ≥ 1", c.Dim)
	}
	for i, w := range c.Hidden {
		if w < 1 {
			return 0, fmt.Errorf("nn: config: hidden width %d (layer %d), want ≥ 1", w, i)
		}
	}
	if c.Fourier < 0 {
		return 0, fmt.Errorf("nn: config: fourier %d, want ≥ 0", c.Fourier)
	}
	if c.Arch != "mlp" && c.Arch != "film" {
		return 0, fmt.Errorf("nn: config: unknown arch %q (want mlp or film)", c.Arch)
	}
	act, err := mat.ParseActivation(c.Act)
	if err != nil || act == mat.Identity {
		return 0, fmt.Errorf("nn: config: unknown activation %q (want silu, relu, tanh, selu or gelu)", c.Act)
	}
	if _, ok := c.paramCount(); !ok {
		return 0, fmt.Errorf("nn: config: more than %d parameters", maxParams)
	}
	return act, nil
}

// InputDim is the width of the network's first layer input: Dim data columns,
// one raw t column and 2·Fourier time features.
func (c *Config) InputDim() int { return c.Dim + 1 + 2*c.Fourier }

// EmbedDim is the width of the time embedding e(t): 1 + 2·Fourier.
func (c *Config) EmbedDim() int { return 1 + 2*c.Fourier }

// widths returns the layer widths: input, hidden..., output.
func (c *Config) widths() []int {
	w := make([]int, 0, len(c.Hidden)+2)
	w = append(w, c.InputDim())
	w = append(w, c.Hidden...)
	return append(w, c.Dim)
}

// paramCount returns the number of parameters and false when it exceeds
// maxParams (or a width overflows), checked without overflow.
func (c *Config) paramCount() (int, bool) {
	if c.Dim > maxParams || c.Fourier > maxParams {
		return 0, false
	}
	w := c.widths()
	n := 0
	for i := 1; i < len(w); i++ {
		in, out := w[i-1], w[i]
		if in > maxParams || out > maxParams {
			return 0, false
		}
		p := (in + 1) * out // ≤ 2^31·2^31 fits in int64
		if p > maxParams || n+p > maxParams {
			return 0, false
		}
		n += p
		if c.Arch == "film" && i < len(w)-1 {
			p = (c.EmbedDim() + 1) * 2 * out
			if p > maxParams || n+p > maxParams {
				return 0, false
			}
			n += p
		}
	}
	return n, true
}

// ParamCount returns the number of parameters a valid config gives, or an
// error if cfg is invalid.
func (c Config) ParamCount() (int, error) {
	if _, err := c.normalize(); err != nil {
		return 0, err
	}
	n, _ := c.paramCount()
	return n, nil
}

// layer is one Linear layer: views into the net's flat parameter and gradient
// slices, and the buffers of its output.
type layer struct {
	in, out  int
	off      int        // offset of W in params; b follows at off+in*out
	w, gw    *mat.Dense // out×in views into params / grads
	b, gb    []float32  // out views into params / grads
	pre, act *mat.Dense // B×out pre-activation and activation (act unused for the last layer)
	dpre     *mat.Dense // JVP tangent of pre (and of act, in place)

	// FiLM (hidden layers of a film net only): [s; c] = M·e(t) + m.
	fm, gfm *mat.Dense // 2·out × EmbedDim views into params / grads
	fb, gfb []float32  // 2·out views into params / grads
	u       *mat.Dense // B×out W·h + b before modulation
	sc      *mat.Dense // B×2out: 1+s in columns [0, out), c in [out, 2out)
}

// Net is the velocity field v(x, t). Create one with New or Load.
type Net struct {
	cfg    Config
	act    mat.Activation
	params []float32
	grads  []float32
	layers []layer

	in, din *mat.Dense    // B×InputDim network input and its tangent
	emb     *mat.Dense    // B×EmbedDim time embedding (film)
	g       [2]*mat.Dense // ping-pong buffers of the backward pass
	dsc     *mat.Dense    // B×2w gradient of [s; c] (film)
	gfmT    *mat.Dense    // EmbedDim×2w transposed gradient of M (film)
	fb1     []float32     // m + [1; 0] (film)
	zero    []float32     // zero bias for the activation after modulation (film)
	gx      *mat.Dense    // B×Dim input gradient
	tbuf    []float32     // Eval's time column
	packs   []mat.Packed  // each layer's Wᵀ, packed once per Eval or Grad call for its chunks or shards (none for film layers)
	th      mat.Threads   // goroutines per mat call: 0 (GOMAXPROCS), 1 in workers

	// Worker nets sharing params (see grow): Eval's, and Grad's shards
	// (with gradients of their own); their buffers are reused across calls.
	evalWorkers, shards []*Net
	next                atomic.Int64 // the next chunk or shard to take
	shardLoss           []float64    // Grad's loss per shard
	job                 job          // the parallel work in progress
	pool                *pool        // the goroutines that run jobs with the caller
	workFn              func(w int)  // n.work, made once
	gOut                *mat.Dense   // Grad's dLoss/dv
	xv, ov              mat.Dense    // a worker's view of its rows of x and of Eval's out
}

// New returns a network for cfg with PyTorch's default Linear initialisation
// (weights and biases uniform in ±1/√fan_in) drawn from a PCG source seeded
// with seed. It returns an error if cfg is invalid.
func New(cfg Config, seed uint64) (*Net, error) {
	n, err := newNet(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x666c6f776c6162)) // "flowlab"
	for i := range n.layers {
		l := &n.layers[i]
		bound := 1 / math.Sqrt(float64(l.in))
		for j := range l.w.Data {
			l.w.Data[j] = float32((2*rng.Float64() - 1) * bound)
		}
		for j := range l.b {
			l.b[j] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	return n, nil
}

// newNet allocates a zero-parameter network for cfg.
func newNet(cfg Config) (*Net, error) { return newNetOn(cfg, nil, nil) }

// newNetOn returns a network for cfg whose parameters and gradients are the
// given slices (of the config's parameter count), or new zeroed ones if nil.
func newNetOn(cfg Config, params, grads []float32) (*Net, error) {
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	act, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	np, _ := cfg.paramCount()
	if params == nil {
		params, grads = make([]float32, np), make([]float32, np)
	}
	n := &Net{cfg: cfg, act: act, params: params, grads: grads}
	w := cfg.widths()
	off := 0
	for i := 1; i < len(w); i++ {
		in, out := w[i-1], w[i]
		l := layer{in: in, out: out, off: off}
		l.w = mat.NewFrom(out, in, n.params[off:off+in*out])
		l.gw = mat.NewFrom(out, in, n.grads[off:off+in*out])
		off += in * out
		l.b = n.params[off : off+out : off+out]
		l.gb = n.grads[off : off+out : off+out]
		off += out
		l.pre, l.act, l.dpre = mat.New(0, out), mat.New(0, out), mat.New(0, out)
		n.layers = append(n.layers, l)
	}
	if cfg.Arch == "film" {
		e := cfg.EmbedDim()
		maxW := 0
		for i := range n.layers[:len(n.layers)-1] {
			l := &n.layers[i]
			k := 2 * l.out
			l.fm = mat.NewFrom(k, e, n.params[off:off+k*e])
			l.gfm = mat.NewFrom(k, e, n.grads[off:off+k*e])
			off += k * e
			l.fb = n.params[off : off+k : off+k]
			l.gfb = n.grads[off : off+k : off+k]
			off += k
			l.u, l.sc = mat.New(0, l.out), mat.New(0, k)
			maxW = max(maxW, l.out)
		}
		n.emb, n.dsc, n.gfmT = mat.New(0, e), mat.New(0, 2*maxW), mat.New(0, 2*maxW)
		n.zero, n.fb1 = make([]float32, maxW), make([]float32, 2*maxW)
	}
	n.in, n.din = mat.New(0, w[0]), mat.New(0, w[0])
	n.g = [2]*mat.Dense{mat.New(0, 0), mat.New(0, 0)}
	n.gx, n.gOut = mat.New(0, cfg.Dim), mat.New(0, cfg.Dim)
	return n, nil
}

// Config returns the network's configuration (with defaults filled in).
func (n *Net) Config() Config {
	c := n.cfg
	c.Hidden = append([]int(nil), c.Hidden...)
	return c
}

// Dim returns the data dimension: the width of x and of v(x, t).
func (n *Net) Dim() int { return n.cfg.Dim }

// Params returns every parameter in one flat slice (shared, not copied):
// per Linear layer, the weight (out×in, row-major) then the bias.
func (n *Net) Params() []float32 { return n.params }

// Grads returns the parameter gradients, laid out as Params.
func (n *Net) Grads() []float32 { return n.grads }

// ZeroGrad sets every gradient to zero.
func (n *Net) ZeroGrad() { clear(n.grads) }

// Clone returns an independent copy of the network: the same config,
// parameters and gradients, and buffers of its own.
func (n *Net) Clone() *Net {
	c, err := newNet(n.cfg)
	if err != nil {
		panic("nn: Clone of an invalid net: " + err.Error())
	}
	copy(c.params, n.params)
	copy(c.grads, n.grads)
	return c
}

// fillInput writes [x, t, sin(2πkt), cos(2πkt)] into n.in (reshaped to
// B×InputDim) and, when dx is not nil, [dx, 0...] into n.din.
func (n *Net) fillInput(x, dx *mat.Dense, t []float32) {
	d := n.cfg.Dim
	if x.C != d || len(t) != x.R {
		panic(fmt.Sprintf("nn: input x %s, t %d: want B×%d and B times", x.Shape(), len(t), d))
	}
	b, w := x.R, n.cfg.InputDim()
	n.in.Reshape(b, w)
	if f := n.cfg.Fourier; f == 0 && d == 2 {
		// [x0, x1, t], the 2-D fields of the toy experiments, without a
		// loop per row (the general one takes about 5 ns a row, 2–4 % of
		// the tiny net's Eval).
		in, xs := n.in.Data[:3*b], x.Data[:2*b]
		for i, ti := range t {
			o, s := in[3*i:3*i+3:3*i+3], xs[2*i:2*i+2:2*i+2]
			o[0], o[1], o[2] = s[0], s[1], ti
		}
	} else {
		n.fillRows(x, t, f)
	}
	if n.emb != nil {
		e := n.cfg.EmbedDim()
		n.emb.Reshape(b, e)
		for i := 0; i < b; i++ {
			copy(n.emb.Data[i*e:(i+1)*e], n.in.Data[i*w+d:(i+1)*w])
		}
	}
	if dx == nil {
		return
	}
	if dx.R != x.R || dx.C != x.C {
		panic(fmt.Sprintf("nn: JVP shapes: x %s, dx %s", x.Shape(), dx.Shape()))
	}
	n.din.Reshape(b, w)
	for i := 0; i < b; i++ {
		row := n.din.Data[i*w : (i+1)*w]
		copy(row[:d], dx.Data[i*d:(i+1)*d])
		clear(row[d:])
	}
}

// fillRows writes the rows [x, t, sin(2πkt), cos(2πkt)] (f Fourier
// frequencies) of n.in, already shaped B×InputDim, for fillInput.
func (n *Net) fillRows(x *mat.Dense, t []float32, f int) {
	d, w := n.cfg.Dim, n.cfg.InputDim()
	for i, ti := range t {
		row, xr := n.in.Data[i*w:(i+1)*w], x.Data[i*d:(i+1)*d]
		if d <= 8 {
			// Element by element: for a low-dimensional field a call to
			// copy per row costs more than the copying.
			row := row[:len(xr)]
			for j, v := range xr {
				row[j] = v
			}
		} else {
			copy(row[:d], xr)
		}
		row[d] = ti
		for k := 1; k <= f; k++ {
			s, c := math.Sincos(2 * math.Pi * float64(k) * float64(ti))
			row[d+k] = float32(s)
			row[d+f+k] = float32(c)
		}
	}
}

// Forward evaluates v(x_i, t_i) for every row x_i of x (B×Dim) and time t_i
// (len(t) = B). The result is owned by the net and valid until its next
// Forward, JVP, Eval or EulerStep. Backward uses what Forward stored.
func (n *Net) Forward(x *mat.Dense, t []float32) *mat.Dense {
	n.fillInput(x, nil, t)
	return n.forward()
}

func (n *Net) forward() *mat.Dense { return n.forwardTo(nil, nil) }

// forwardTo is forward with the output written into dst (of the output's
// shape) instead of the last layer's buffer, when dst is not nil: Eval's
// chunks land in the caller's matrix without a copy. packs, when not nil,
// holds each layer's Wᵀ packed (see packWeights).
func (n *Net) forwardTo(dst *mat.Dense, packs []mat.Packed) *mat.Dense {
	h := n.in
	last := len(n.layers) - 1
	for i := range n.layers[:last] {
		l := &n.layers[i]
		n.linear(l, h, packOf(packs, i))
		h = l.act
	}
	return n.output(h, dst, packOf(packs, last))
}

// packOf returns &packs[i], or nil when there are no packs or layer i has
// none (film).
func packOf(packs []mat.Packed, i int) *mat.Packed {
	if packs == nil || packs[i].Empty() {
		return nil
	}
	return &packs[i]
}

// packWeights packs every MLP layer's Wᵀ into n.packs, for products that
// share them (Eval's chunks, Grad's shards).
func (n *Net) packWeights() []mat.Packed {
	if len(n.packs) != len(n.layers) {
		n.packs = make([]mat.Packed, len(n.layers))
	}
	for i := range n.layers {
		if l := &n.layers[i]; l.fm == nil {
			mat.Pack(true, l.w, &n.packs[i])
		}
	}
	return n.packs
}

// output computes the last layer, v = W·h + b, into dst, or into the
// layer's own buffer when dst is nil, and returns it; with Wᵀ from p when p
// is not nil.
func (n *Net) output(h, dst *mat.Dense, p *mat.Packed) *mat.Dense {
	l := &n.layers[len(n.layers)-1]
	if dst == nil {
		dst = l.pre
	}
	dst.Reshape(h.R, l.out)
	n.gemmLayer(h, l, p, mat.Identity, dst, dst)
	return dst
}

// gemmLayer sets pre = h·Wᵀ + b and out = act(pre) for layer l, with Wᵀ
// from p when p is not nil (the same bits either way).
func (n *Net) gemmLayer(h *mat.Dense, l *layer, p *mat.Packed, act mat.Activation, pre, out *mat.Dense) {
	if p != nil {
		n.th.GemmBiasActPacked(h, p, l.b, act, pre, out)
		return
	}
	n.th.GemmBiasAct(false, true, h, l.w, l.b, act, pre, out)
}

// linear computes hidden layer l's pre-activation from its input h and its
// activation: pre = W·h + b, modulated for film, with Wᵀ from p when p is not
// nil. (The last layer is output.)
func (n *Net) linear(l *layer, h *mat.Dense, p *mat.Packed) {
	l.pre.Reshape(h.R, l.out)
	if l.fm == nil {
		l.act.Reshape(h.R, l.out)
		n.gemmLayer(h, l, p, n.act, l.pre, l.act)
		return
	}
	// FiLM: u = W·h + b; [s; c] = M·e + m; pre = u⊙(1+s) + c.
	l.u.Reshape(h.R, l.out)
	n.th.GemmBiasAct(false, true, h, l.w, l.b, mat.Identity, l.u, l.u)
	// sc holds [1+s; c]: the bias m plus 1 on the s half.
	w := l.out
	fb1 := n.fb1[:2*w]
	for j, v := range l.fb {
		fb1[j] = v
		if j < w {
			fb1[j] = v + 1
		}
	}
	l.sc.Reshape(h.R, 2*w)
	n.th.GemmBiasAct(false, true, n.emb, l.fm, fb1, mat.Identity, l.sc, l.sc)
	for r := 0; r < h.R; r++ {
		pre := l.pre.Data[r*w : (r+1)*w]
		u := l.u.Data[r*w : (r+1)*w]
		s1 := l.sc.Data[r*2*w : r*2*w+w]
		c := l.sc.Data[r*2*w+w : (r+1)*2*w]
		u, s1, c = u[:len(pre)], s1[:len(pre)], c[:len(pre)]
		for j := range pre {
			pre[j] = u[j]*s1[j] + c[j]
		}
	}
	l.act.Reshape(h.R, l.out)
	n.th.BiasAct(n.act, l.pre, n.zero[:w], l.act)
}

// Backward propagates gOut = dL/dv (B×Dim, the shape of the last Forward's
// output) back through the network, adding the parameter gradients into
// Grads. When wantGX is true it returns dL/dx (B×Dim, owned by the net, valid
// until the next Backward); otherwise nil. gOut is not modified.
func (n *Net) Backward(gOut *mat.Dense, wantGX bool) *mat.Dense {
	last := len(n.layers) - 1
	if gOut.R != n.in.R || gOut.C != n.cfg.Dim {
		panic(fmt.Sprintf("nn: Backward gOut %s, want %d×%d (the last Forward's output)", gOut.Shape(), n.in.R, n.cfg.Dim))
	}
	g := gOut
	for i := last; i >= 0; i-- {
		l := &n.layers[i]
		h := n.in
		if i > 0 {
			h = n.layers[i-1].act
		}
		n.th.Gemm(true, false, 1, g, h, 1, l.gw)
		mat.ColSumAdd(g, l.gb)
		if i == 0 && !wantGX {
			break
		}
		dh := n.g[i&1]
		dh.Reshape(g.R, l.in)
		n.th.Gemm(false, false, 1, g, l.w, 0, dh)
		if i > 0 {
			n.th.ActBackward(n.act, n.layers[i-1].pre, dh)
			if n.layers[i-1].fm != nil {
				n.filmBackward(&n.layers[i-1], dh)
			}
		}
		g = dh
	}
	if !wantGX {
		return nil
	}
	d, w := n.cfg.Dim, g.C
	n.gx.Reshape(g.R, d)
	for i := 0; i < g.R; i++ {
		copy(n.gx.Data[i*d:(i+1)*d], g.Data[i*w:i*w+d])
	}
	return n.gx
}

// JVP evaluates out = v(x, t) and the directional derivative
// dout = ∂v/∂x(x, t)·dx row by row (forward mode), with x and dx B×Dim. Both
// results are owned by the net and valid until its next Forward, JVP, Eval or EulerStep;
// a following Backward sees this call as the last Forward.
func (n *Net) JVP(x, dx *mat.Dense, t []float32) (out, dout *mat.Dense) {
	n.fillInput(x, dx, t)
	h, dh := n.in, n.din
	last := len(n.layers) - 1
	for i := range n.layers {
		l := &n.layers[i]
		if i == last {
			n.output(h, nil, nil)
		} else {
			n.linear(l, h, nil)
		}
		l.dpre.Reshape(h.R, l.out)
		n.th.Gemm(false, true, 1, dh, l.w, 0, l.dpre)
		if i == last {
			return l.pre, l.dpre
		}
		if l.fm != nil { // s and c do not depend on x: d(pre) = d(u)⊙(1+s)
			w := l.out
			for r := 0; r < h.R; r++ {
				dp := l.dpre.Data[r*w : (r+1)*w]
				s1 := l.sc.Data[r*2*w : r*2*w+w]
				s1 = s1[:len(dp)]
				for j := range dp {
					dp[j] *= s1[j]
				}
			}
		}
		n.th.ActBackward(n.act, l.pre, l.dpre) // tangent through the activation
		h, dh = l.act, l.dpre
	}
	panic("unreachable")
}

// filmBackward takes g = dL/d(pre) of FiLM layer l (pre = u⊙(1+s) + c),
// adds the gradients of M and m, and turns g into dL/du = g⊙(1+s) in place.
func (n *Net) filmBackward(l *layer, g *mat.Dense) {
	w := l.out
	n.dsc.Reshape(g.R, 2*w)
	for r := 0; r < g.R; r++ {
		gr := g.Data[r*w : (r+1)*w]
		u := l.u.Data[r*w : (r+1)*w]
		s1 := l.sc.Data[r*2*w : r*2*w+w]
		ds := n.dsc.Data[r*2*w : r*2*w+w]
		u, s1, ds = u[:len(gr)], s1[:len(gr)], ds[:len(gr)]
		copy(n.dsc.Data[r*2*w+w:(r+1)*2*w], gr) // dc = g
		for j, gj := range gr {
			ds[j] = gj * u[j]
			gr[j] = gj * s1[j]
		}
	}
	// dM = dscᵀ·e is 2w×E with E small: computed transposed (E×2w, a shape
	// the GEMM handles far better) and added in.
	e := n.emb.C
	n.gfmT.Reshape(e, 2*w)
	n.th.Gemm(true, false, 1, n.emb, n.dsc, 0, n.gfmT)
	for k := 0; k < e; k++ {
		row := n.gfmT.Data[k*2*w : (k+1)*2*w]
		for j, v := range row {
			l.gfm.Data[j*e+k] += v
		}
	}
	mat.ColSumAdd(n.dsc, l.gfb)
}

// timeColumn returns the net's length-B time buffer filled with t.
func (n *Net) timeColumn(b int, t float64) []float32 {
	if cap(n.tbuf) < b {
		n.tbuf = make([]float32, b)
	}
	n.tbuf = n.tbuf[:b]
	for i := range n.tbuf {
		n.tbuf[i] = float32(t)
	}
	return n.tbuf
}

// evalChunk returns the number of rows Eval hands to one worker at a time:
// 512, or 256 when a layer is wider than 512 (so that a chunk's widest
// activation stays under about 1 MiB, in L2 with its neighbours: mnist's
// 785-wide input, 256 rows 3–5 % faster than 512 in alternating runs, while
// the 512-wide gauss128 and narrower nets were as fast or faster with 512).
// It depends on the net's shape alone, never on GOMAXPROCS, so that every
// row goes through the same kernels whatever the thread count: Eval's bits
// do not depend on GOMAXPROCS. Small enough that 10000 points make 20 or 40
// chunks, which two or three workers share evenly; large enough that a
// chunk's products keep the micro-kernels busy (docs/PERFORMANCE.md).
func (n *Net) evalChunk() int {
	widest := max(n.cfg.InputDim(), n.cfg.Dim)
	for _, w := range n.cfg.Hidden { // may be empty
		widest = max(widest, w)
	}
	if widest > 512 {
		return 256
	}
	return 512
}

// Eval writes v(x, t) for every row of x into out (the same shape), with one
// time t for the whole batch. With Dim it makes a Net a solve.Field.
//
// A batch of more than 512 rows (256 for a net with a layer wider than 512)
// is cut into fixed chunks of that many rows (the last one ragged), each
// evaluated as Forward would evaluate it alone; up to GOMAXPROCS workers
// take the chunks concurrently, each with buffers of its own (created on
// first use and kept for later calls), sharing the net's parameters (and
// each layer's Wᵀ, packed once per call), and each running its products on
// its own goroutine (one level of parallelism, not two). The chunking does not depend on GOMAXPROCS, so
// neither do the result's bits. Like every method, Eval is not safe for
// concurrent use of one Net.
func (n *Net) Eval(t float64, x, out *mat.Dense) {
	if out.R != x.R || out.C != x.C {
		panic(fmt.Sprintf("nn: Eval shapes: x %s, out %s", x.Shape(), out.Shape()))
	}
	n.evalRows(t, x, out, 0)
}

// EulerStep advances every row of x by one Euler step of the field, x +=
// h·v(x, t), with one time t for the whole batch (solve.EulerStepper, which
// solve.Integrate's Euler method uses). The bits are those of Eval into a
// buffer followed by x[i] += float32(h)·v[i] (product rounded, then the
// sum); it is faster for a large batch because each chunk's update is
// applied while the chunk's output is in cache, and v is never written out
// (docs/PERFORMANCE.md).
func (n *Net) EulerStep(t, h float64, x *mat.Dense) {
	n.evalRows(t, x, nil, float32(h))
}

// evalRows is Eval into out, or, when out is nil, EulerStep with step h.
func (n *Net) evalRows(t float64, x, out *mat.Dense, h float32) {
	rows := n.evalChunk()
	if x.R <= rows {
		n.fillInput(x, nil, n.timeColumn(x.R, t))
		if out != nil {
			n.forwardTo(out, nil)
		} else {
			addScaled(x.Data, h, n.forwardTo(nil, nil).Data)
		}
		return
	}
	if x.C != n.cfg.Dim {
		panic(fmt.Sprintf("nn: input x %s: want B×%d", x.Shape(), n.cfg.Dim))
	}
	chunks := (x.R + rows - 1) / rows
	k := min(runtime.GOMAXPROCS(0), chunks)
	n.evalWorkers = n.grow(n.evalWorkers, k, false)
	n.job = job{kind: evalJob, x: x, out: out, h: h, t: n.timeColumn(rows, t), items: chunks, chunk: rows, packs: n.packWeights()}
	n.runJob(k)
}

// addScaled sets y += h·v element by element, the product rounded before
// the sum: the arithmetic of solve's Euler update, so that EulerStep has its
// bits. (The conversion forbids fusing the two into an FMA, which the
// compiler may otherwise do for one loop and not the other, e.g. with
// GOAMD64=v3.)
func addScaled(y []float32, h float32, v []float32) {
	v = v[:len(y)]
	for i := range y {
		y[i] += float32(h * v[i])
	}
}

// grow returns pool extended to at least k worker nets: nets sharing n's
// parameters that run every mat call on their own goroutine
// (mat.Threads(1)), with gradients of their own when ownGrads (training
// shards) or shared with n (Eval's workers, which never touch them).
func (n *Net) grow(pool []*Net, k int, ownGrads bool) []*Net {
	for len(pool) < k {
		var grads []float32
		if ownGrads {
			grads = make([]float32, len(n.params))
		} else {
			grads = n.grads
		}
		w, err := newNetOn(n.cfg, n.params, grads)
		if err != nil {
			panic("nn: worker of an invalid net: " + err.Error())
		}
		w.th = 1
		pool = append(pool, w)
	}
	return pool
}

// job is the parallel work in progress on a net's workers (Eval's chunks,
// Grad's shards, or the sum of the shards' gradients), which they take in
// turn from the counter next.
type job struct {
	kind   int        // evalJob, gradJob or reduceJob
	x, out *mat.Dense // evalJob: out nil for EulerStep, which updates x
	h      float32    // EulerStep's step
	t      []float32
	packs  []mat.Packed // evalJob, gradJob: the layers' Wᵀ, packed once for all items
	loss   LossFunc
	items  int              // chunks, shards or blocks of parameters
	chunk  int              // evalJob: rows per chunk; reduceJob: parameters per block
	update func(lo, hi int) // reduceJob: applied to each block once summed (nil for none)
	shards int              // gradJob, reduceJob: the number of shards
}

const (
	evalJob = iota
	gradJob
	reduceJob
)

// runJob runs n.job on k goroutines (the caller's and k−1 of the net's
// pool) and returns when every item is done.
func (n *Net) runJob(k int) {
	n.next.Store(0)
	if k > 1 && n.pool == nil {
		n.pool = newPool()
		n.workFn = n.work
		runtime.AddCleanup(n, func(p *pool) { p.stop() }, n.pool)
	}
	if k > 1 {
		n.pool.run(k, n.workFn)
	} else {
		n.work(0)
	}
	n.job.x, n.job.out, n.job.t, n.job.loss, n.job.packs, n.job.update = nil, nil, nil, nil, nil, nil // do not keep the caller's data alive
}

// work takes items of n.job until none is left. w is the goroutine's number
// (it names Eval's worker net; Grad's shards have one each).
func (n *Net) work(w int) {
	j := &n.job
	for {
		i := int(n.next.Add(1)) - 1
		if i >= j.items {
			return
		}
		switch j.kind {
		case evalJob:
			net, d := n.evalWorkers[w], j.x.C
			r0 := i * j.chunk
			r1 := min(r0+j.chunk, j.x.R)
			net.xv = mat.Dense{R: r1 - r0, C: d, Data: j.x.Data[r0*d : r1*d]}
			net.fillInput(&net.xv, nil, j.t[:r1-r0])
			if j.out == nil {
				// EulerStep: the chunk's rows of x were copied into the
				// input above, so they can be updated now.
				addScaled(net.xv.Data, j.h, net.forwardTo(nil, j.packs).Data)
			} else {
				net.ov = mat.Dense{R: r1 - r0, C: d, Data: j.out.Data[r0*d : r1*d]}
				net.forwardTo(&net.ov, j.packs)
			}
			net.xv, net.ov = mat.Dense{}, mat.Dense{}
		case gradJob:
			net, d := n.shards[i], j.x.C
			r0, r1 := i*j.x.R/j.items, (i+1)*j.x.R/j.items
			net.xv = mat.Dense{R: r1 - r0, C: d, Data: j.x.Data[r0*d : r1*d]}
			net.fillInput(&net.xv, nil, j.t[r0:r1])
			out := net.forwardTo(nil, j.packs) // Forward's bits
			net.gOut.Reshape(out.R, out.C)
			n.shardLoss[i] = j.loss(r0, out, net.gOut)
			net.ZeroGrad()
			net.Backward(net.gOut, false)
			net.xv = mat.Dense{}
		case reduceJob:
			// grads += ((g_0 + g_1) + g_2) + ..., element by element in
			// shard order.
			lo, hi := i*j.chunk, min((i+1)*j.chunk, len(n.params))
			// ColSumAdd of one row is dst[k] += row[k], vectorised: the
			// scalar loop's additions (4 % of an mnist step in Go).
			acc := n.shards[0].grads[lo:hi]
			for _, sh := range n.shards[1:j.shards] {
				mat.ColSumAdd(&mat.Dense{R: 1, C: len(acc), Data: sh.grads[lo:hi]}, acc)
			}
			mat.ColSumAdd(&mat.Dense{R: 1, C: len(acc), Data: acc}, n.grads[lo:hi])
			if j.update != nil {
				j.update(lo, hi) // while the block's gradient is in this core's cache
			}
		}
	}
}

// LossFunc computes a loss on rows [r0, r0+out.R) of a batch from the net's
// output for those rows, writes dLoss/dout into g (out's shape) and returns
// the loss. Net.Grad calls it concurrently on disjoint rows.
type LossFunc func(r0 int, out, g *mat.Dense) float64

// A training batch of B rows is cut into shards of nearly equal size, each
// worked by its own worker net on one goroutine: one shard per shardRows
// rows, at most maxShards, and at least two once there are shardRows rows
// (two 128-row shards of the tiny 2-D net on two cores beat one of 256 by
// 1.3–1.5×; for larger nets 256-row shards beat 128-row ones, whose weight
// packing (measured when each shard packed its own) and gradient sums cost
// more per row). The count depends on B
// alone, never on GOMAXPROCS, so the gradient's bits do not either.
const (
	shardRows = 256
	maxShards = 8
)

// shardCount returns the number of shards for a batch of b rows.
func shardCount(b int) int {
	return min(maxShards, max(b/shardRows, min(2, b/(shardRows/2)), 1))
}

// Grad evaluates the net on the batch x (times t), lets loss turn the output
// into dLoss/dv, and adds the parameter gradient into Grads (as Backward
// does); it returns the summed loss. A batch of 256 rows or more is cut into
// fixed shards (see shardCount) that up to GOMAXPROCS goroutines work at
// once, one level of parallelism, each shard into a gradient of its own; the
// shards' gradients and losses are then added in shard order. For a batch of
// fewer rows, Grad is Forward, loss and Backward on the calling net. loss is
// called concurrently on disjoint rows and must not panic. Grad leaves the
// net's Forward results undefined: call Forward before a Backward or JVP that
// needs them.
func (n *Net) Grad(x *mat.Dense, t []float32, loss LossFunc) float64 {
	return n.GradUpdate(x, t, loss, nil)
}

// GradUpdate is Grad followed by update(lo, hi) on blocks [lo, hi) of the
// parameters that together cover them once, lo a multiple of 16: an
// optimizer step (optim.BlockStepper) applied while the gradient is in
// cache. With several shards each block is summed and then updated by the
// same worker, the blocks shared among the net's workers, so that the step
// runs on every core instead of after Grad on one (the tiny net's Adam step
// took 7–24 µs of a 150–185 µs step there); update must therefore be safe
// to call concurrently on disjoint blocks. A nil update makes it Grad.
func (n *Net) GradUpdate(x *mat.Dense, t []float32, loss LossFunc, update func(lo, hi int)) float64 {
	if len(t) != x.R {
		panic(fmt.Sprintf("nn: Grad: x %s, %d times", x.Shape(), len(t)))
	}
	s := shardCount(x.R)
	if s == 1 {
		out := n.Forward(x, t)
		n.gOut.Reshape(out.R, out.C)
		l := loss(0, out, n.gOut)
		n.Backward(n.gOut, false)
		if update != nil {
			update(0, len(n.params))
		}
		return l
	}
	if x.C != n.cfg.Dim {
		panic(fmt.Sprintf("nn: input x %s: want B×%d", x.Shape(), n.cfg.Dim))
	}
	n.shards = n.grow(n.shards, s, true)
	if cap(n.shardLoss) < s {
		n.shardLoss = make([]float64, s)
	}
	// The shards share the layers' packed Wᵀ (packed once, not once per
	// shard: mnist's 4 shards spent 6.5 % of a step transposing weights).
	n.job = job{kind: gradJob, x: x, t: t, loss: loss, items: s, shards: s, packs: n.packWeights()}
	n.runJob(min(runtime.GOMAXPROCS(0), s))
	bs := reduceBlock(len(n.params))
	blocks := (len(n.params) + bs - 1) / bs
	n.job = job{kind: reduceJob, items: blocks, chunk: bs, shards: s, update: update}
	n.runJob(min(runtime.GOMAXPROCS(0), blocks))
	var l float64
	for _, v := range n.shardLoss[:s] {
		l += v
	}
	return l
}

// reduceChunk is the largest number of parameters in a block of Grad's
// reduction, reduceMin the smallest (but for the last).
const (
	reduceChunk = 1 << 15
	reduceMin   = 1 << 10
)

// reduceBlock returns the number of parameters in each block of Grad's
// reduction (the last may be shorter) for a net of p parameters: at least
// four blocks where that leaves each reduceMin or more, so that a small
// net's sum and optimizer step are shared among the cores too, and a
// multiple of 16, so that every block but the last is whole vectors (an
// element's bits then do not depend on its block). Summing is element by
// element, so the blocks do not change the gradient's bits either.
func reduceBlock(p int) int {
	b := (p + 3) / 4
	b = (b + 15) &^ 15
	return min(max(b, reduceMin), reduceChunk)
}

// EvalJVP writes v(x, t) into out and ∂v/∂x·dx into dout, with one time t for
// the whole batch (solve.JVPField's JVP; see JVPField).
func (n *Net) EvalJVP(t float64, x, dx, out, dout *mat.Dense) {
	if out.R != x.R || out.C != x.C || dout.R != x.R || dout.C != x.C {
		panic(fmt.Sprintf("nn: EvalJVP shapes: x %s, out %s, dout %s", x.Shape(), out.Shape(), dout.Shape()))
	}
	v, dv := n.JVP(x, dx, n.timeColumn(x.R, t))
	copy(out.Data, v.Data)
	copy(dout.Data, dv.Data)
}

// JVPField adapts a Net to solve.JVPField (whose JVP method takes a scalar
// time and output buffers; Net.JVP takes per-row times and returns its own).
type JVPField struct{ Net *Net }

// Dim returns the data dimension.
func (f JVPField) Dim() int { return f.Net.Dim() }

// Eval writes v(x, t) into out.
func (f JVPField) Eval(t float64, x, out *mat.Dense) { f.Net.Eval(t, x, out) }

// EulerStep sets x += h·v(x, t) (see Net.EulerStep).
func (f JVPField) EulerStep(t, h float64, x *mat.Dense) { f.Net.EulerStep(t, h, x) }

// JVP writes v(x, t) into out and ∂v/∂x·dx into dout.
func (f JVPField) JVP(t float64, x, dx, out, dout *mat.Dense) { f.Net.EvalJVP(t, x, dx, out, dout) }
