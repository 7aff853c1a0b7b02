package nn

import (
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/flowlab/flowlab/mat"
)

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
	u       *mat.Dense // B×out W·h + b before modulation (both film kinds)
	col     int        // learned-embedding film: the layer's first column of the modulation (of K)
	grp     int        // learned-embedding film: the layer's group of the modulation (filmsc.go)
	gcol    int        // learned-embedding film: the layer's first column in its group
	sc      *mat.Dense // B×2out: 1+s in columns [0, out), c in [out, 2out)
}

// Net is the velocity field v(x, t). Create one with New or Load.
type Net struct {
	cfg    Config
	act    mat.Activation
	params []float32
	grads  []float32
	layers []layer

	te      *timeEmbed    // learned-embedding film's time MLP and heads, or nil
	labels  []int         // the batch's class labels (SetLabels), nil for Null
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
// with seed; a film net's modulation starts at zero, so that it computes
// the MLP of the same seed (see film.go). It returns an error if cfg is
// invalid.
func New(cfg Config, seed uint64) (*Net, error) {
	n, err := newNet(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x666c6f776c6162)) // "flowlab"
	draw := func(bound float64, dst []float32) {
		for j := range dst {
			dst[j] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	for i := range n.layers {
		l := &n.layers[i]
		bound := 1 / math.Sqrt(float64(l.in))
		draw(bound, l.w.Data)
		draw(bound, l.b)
	}
	if n.te != nil {
		n.te.init(draw)
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
	if cfg.learned() {
		n.te, off = newTimeEmbed(&n.cfg, n.layers, n.params, n.grads, off)
		if cfg.Classes > 0 {
			n.te.lab = newLabelEmbed(&n.cfg, n.params, n.grads, off)
		}
		maxW := 0
		for _, w := range cfg.Hidden {
			maxW = max(maxW, w)
		}
		n.zero = make([]float32, maxW)
	} else if cfg.Arch == "film" {
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
	n.gx, n.gOut = mat.New(0, cfg.Dim), mat.New(0, cfg.OutDim())
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
