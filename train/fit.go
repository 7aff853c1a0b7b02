package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/optim"
)

// ErrInterrupted is wrapped by the error Fit and Run return when their
// context is cancelled: the state was checkpointed (when a checkpoint
// callback is set) and training can be resumed.
var ErrInterrupted = errors.New("training interrupted")

// ErrNonFinite is wrapped by the error returned when a loss or a weight
// becomes NaN or ±Inf. The message names the step; no checkpoint is written
// for that step, so the last one on disk is the last good state.
var ErrNonFinite = errors.New("non-finite value")

// ErrConfig is wrapped by every error that comes from the configuration or
// the samplers disagreeing with it (bad values, dimensions that differ, a
// checkpoint of another configuration): what the user got wrong.
var ErrConfig = errors.New("bad training configuration")

// StepInfo describes one completed optimizer step.
type StepInfo struct {
	Step    int     // 1-based index of the step just taken
	Loss    float64 // drift loss on the step's batch, before the update
	EtaLoss float64 // denoiser loss (0 without η)
	LR      float64 // learning rate used
	// Net and Eta are the live networks (raw weights, not the EMA) after
	// the update. Hooks may read them; fault-injection tests may write
	// them, since the NaN guard runs after the hook.
	Net, Eta *nn.Net
}

// StepLoss is one row of the loss history (loss.csv).
type StepLoss struct {
	Step    int
	Loss    float64
	EtaLoss float64 // 0 without η
	LR      float64
}

// Options are the settings of Fit that do not change the trained weights.
type Options struct {
	// Progress receives a progress bar (a terminal) or periodic plain lines
	// (anything else). Nil: silent.
	Progress io.Writer
	// OnStep is called after every step, before the NaN guard; a non-nil
	// error stops training and is returned (wrapped).
	OnStep func(StepInfo) error
	// Resume continues from this checkpoint instead of a fresh start. Its
	// configuration hash must match.
	Resume *Checkpoint
	// Checkpoint, when set, is called with the complete state every
	// Config.CheckpointEvery steps, after the last step, and when the context
	// is cancelled. An error stops training.
	Checkpoint func(*Checkpoint) error
	// SnapshotAt lists steps (ascending, each in 1..Config.Steps) after
	// which Snapshot is called with what Fit would return had the run
	// stopped there: the weights to use (EMA when on) and the losses so far.
	// It measures training lengths as checkpoints of one run; the run itself
	// does not change. An error from Snapshot stops training.
	SnapshotAt []int
	Snapshot   func(*Result) error
}

// Result is what Fit trained.
type Result struct {
	// Model holds the Config (with Dim filled in and defaults applied), the
	// drift Net (the EMA weights when Config.EMA > 0, otherwise the raw
	// weights) and the denoiser Eta (EMA weights when EMA is on; nil when
	// the interpolant is deterministic). Result.Sample carries points with it.
	Model
	// Raw and RawEta are always the raw weights (RawEta nil without η).
	Raw, RawEta *nn.Net
	// Losses holds one row per step, from step 1 (including steps restored
	// from a checkpoint).
	Losses []StepLoss
}

// FinalLoss returns the mean drift and η losses of the last n steps (all
// steps if there are fewer), a less noisy figure than the last batch's.
func (r *Result) FinalLoss(n int) (loss, etaLoss float64) {
	h := r.Losses[max(len(r.Losses)-n, 0):]
	for _, s := range h {
		loss += s.Loss
		etaLoss += s.EtaLoss
	}
	if len(h) > 0 {
		loss /= float64(len(h))
		etaLoss /= float64(len(h))
	}
	return loss, etaLoss
}

// model is one trained network with its optimizer and EMA.
type model struct {
	name  string // "v" or "eta": the checkpoint key prefix
	net   *nn.Net
	opt   optim.Optimizer
	ema   *optim.EMA // nil when EMA is off
	decay float32    // the configured EMA decay

	// The loss of the current update (see lossRows): its target, the
	// gradient's scale 2/B, and lossRows as an nn.LossFunc, made once.
	target *mat.Dense
	scale  float32
	lossFn nn.LossFunc
}

// trainer holds the whole training state.
type trainer struct {
	cfg      Config
	src, tgt dist.Sampler
	ip       interp.Interpolant
	coupling coupling.Coupling
	sched    optim.Schedule
	pcg      *rand.PCG
	rng      *rand.Rand
	step     int
	v, eta   *model
	losses   []StepLoss
	cond     *condBatch // a conditional run's labels, or nil

	x0, x1, z, xt, bT, etaT *mat.Dense
	t                       []float32
}

// Seed streams: the loop's PCG and the networks' initialisations are
// distinct streams of the one Config.Seed.
const (
	loopStream = 0x74726169_6e6c6f6f // "trainloo"
	etaSeedXor = 0x9e3779b97f4a7c15
)

func newModel(name string, cfg Config, seed uint64) (*model, error) {
	net, err := nn.New(cfg.NetConfig(), seed)
	if err != nil {
		return nil, cfgErrorf("network: %w", err)
	}
	m := &model{name: name, net: net}
	m.lossFn = m.lossRows
	n := len(net.Params())
	switch cfg.Optimizer {
	case "adam":
		a := optim.NewAdam(n)
		a.WeightDecay = float32(cfg.WeightDecay)
		m.opt = a
	case "adamw":
		m.opt = optim.NewAdamW(n, float32(cfg.WeightDecay))
	case "sgd":
		s := optim.NewSGD(n, float32(cfg.Momentum))
		s.WeightDecay = float32(cfg.WeightDecay)
		m.opt = s
	default:
		return nil, cfgErrorf("optimizer: unknown %q", cfg.Optimizer)
	}
	if cfg.EMA > 0 {
		m.decay = float32(cfg.EMA)
		m.ema = optim.NewEMA(net.Params(), m.decay)
	}
	return m, nil
}

// schedule returns the learning-rate multiplier of the configuration.
func schedule(cfg Config) optim.Schedule {
	if cfg.Schedule == "cosine" {
		return optim.WarmupCosine(cfg.Warmup, cfg.Steps, 0)
	}
	w := cfg.Warmup
	return func(s int) float64 {
		if s < w {
			return float64(s+1) / float64(w)
		}
		return 1
	}
}

// Prepare applies defaults, fills Dim from the samplers and validates cfg
// against them: what Fit does before training, exposed so that callers can
// report configuration errors before doing anything else.
func Prepare(src, tgt dist.Sampler, cfg Config) (Config, error) {
	cfg = cfg.Defaults()
	if src.Dim() != tgt.Dim() {
		return cfg, cfgErrorf("source has dimension %d, target %d: they must agree", src.Dim(), tgt.Dim())
	}
	if cfg.Dim != 0 && cfg.Dim != src.Dim() {
		return cfg, cfgErrorf("dim: config says %d, the samplers have %d", cfg.Dim, src.Dim())
	}
	cfg.Dim = src.Dim()
	if err := cfg.prepareCond(tgt); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, cfgErrorf("%w", err)
	}
	return cfg, nil
}

func newTrainer(src, tgt dist.Sampler, cfg Config) (*trainer, error) {
	cfg, err := Prepare(src, tgt, cfg)
	if err != nil {
		return nil, err
	}
	ip, err := cfg.Interpolant()
	if err != nil {
		return nil, cfgErrorf("%w", err)
	}
	cp, err := coupling.Parse(cfg.Coupling)
	if err != nil {
		return nil, cfgErrorf("%w", err)
	}
	tr := &trainer{cfg: cfg, src: src, tgt: tgt, ip: ip, coupling: cp, sched: schedule(cfg)}
	tr.pcg = rand.NewPCG(cfg.Seed, loopStream)
	tr.rng = rand.New(tr.pcg)
	if tr.v, err = newModel("v", cfg, cfg.Seed); err != nil {
		return nil, err
	}
	if cfg.HasEta() {
		if tr.eta, err = newModel("eta", cfg, cfg.Seed^etaSeedXor); err != nil {
			return nil, err
		}
	}
	b, d := cfg.Batch, cfg.Dim
	tr.x0, tr.x1, tr.xt, tr.bT = mat.New(b, d), mat.New(b, d), mat.New(b, d), mat.New(b, d)
	if !ip.Gamma.Zero() {
		tr.z = mat.New(b, d)
	}
	if tr.eta != nil {
		tr.etaT = mat.New(b, d)
	}
	tr.t = make([]float32, b)
	if cfg.Cond != "" {
		tr.cond = newCondBatch(tgt, cfg, tr.v.net, tr.eta)
	}
	return tr, nil
}

// Fit trains the drift b(x, t) (and, for a stochastic interpolant, the
// denoiser η(x, t)) that carries src to tgt along cfg's interpolant, in
// memory. Each step draws a batch x0 ~ src and x1 ~ tgt, pairs them with the
// coupling, draws t (and z when γ ≠ 0), and takes one optimizer step on the
// mean squared error ‖b(x_t, t) − ẋ_t‖² summed over coordinates and averaged
// over the batch (and on ‖η(x_t, t) − z‖² for η).
//
// Every draw comes from one PCG source seeded by cfg.Seed, in a fixed order,
// so the same configuration gives the same bits whatever GOMAXPROCS is; the
// source's state is part of the checkpoint, so a resumed run continues
// bit-identically. src and tgt must draw only from the rng they are given.
//
// A cancelled ctx stops training between steps: the state is checkpointed
// (when opts.Checkpoint is set) and the error wraps ErrInterrupted and
// ctx.Err(), with the partial Result. A NaN or Inf loss or weight stops with
// an error wrapping ErrNonFinite that names the step.
func Fit(ctx context.Context, src, tgt dist.Sampler, cfg Config, opts Options) (*Result, error) {
	tr, err := newTrainer(src, tgt, cfg)
	if err != nil {
		return nil, err
	}
	if opts.Resume != nil {
		if err := tr.restore(opts.Resume); err != nil {
			return nil, err
		}
	}
	err = tr.loop(ctx, opts)
	return tr.result(), err
}

func (tr *trainer) loop(ctx context.Context, opts Options) error {
	cfg := tr.cfg
	rep := newReporter(opts.Progress, tr.step, cfg.Steps, tr.eta != nil)
	defer rep.finish()
	save := func() error {
		if opts.Checkpoint == nil {
			return nil
		}
		if err := opts.Checkpoint(tr.checkpoint()); err != nil {
			return fmt.Errorf("step %d: checkpoint: %w", tr.step, err)
		}
		return nil
	}
	for tr.step < cfg.Steps {
		if err := ctx.Err(); err != nil {
			if serr := save(); serr != nil {
				return errors.Join(fmt.Errorf("%w at step %d: %w", ErrInterrupted, tr.step, err), serr)
			}
			return fmt.Errorf("%w at step %d: %w", ErrInterrupted, tr.step, err)
		}
		info, err := tr.trainStep()
		if err != nil {
			return fmt.Errorf("step %d: %w", tr.step+1, err)
		}
		if opts.OnStep != nil {
			if err := opts.OnStep(info); err != nil {
				return fmt.Errorf("step %d: %w", info.Step, err)
			}
		}
		if err := tr.guard(info); err != nil {
			return err
		}
		tr.losses = append(tr.losses, StepLoss{info.Step, info.Loss, info.EtaLoss, info.LR})
		rep.update(info.Step, info.Loss, info.EtaLoss, info.LR)
		if opts.Snapshot != nil && slices.Contains(opts.SnapshotAt, tr.step) {
			if err := opts.Snapshot(tr.result()); err != nil {
				return fmt.Errorf("step %d: snapshot: %w", tr.step, err)
			}
		}
		if tr.step == cfg.Steps || (cfg.CheckpointEvery > 0 && tr.step%cfg.CheckpointEvery == 0) {
			if err := save(); err != nil {
				return err
			}
		}
	}
	return nil
}

// trainStep takes one optimizer step (of each network) and returns its
// losses. The order of random draws is: x0, x1 (with its labels), the
// coupling's, t, z, then a conditional run's label drops.
//
// A step is never cut short: the coupling runs without the loop's context
// (cancellation is checked between steps), so that an interrupted run's
// checkpoint is a state an uninterrupted run also passes through.
func (tr *trainer) trainStep() (StepInfo, error) {
	cfg := tr.cfg
	tr.src.Sample(tr.rng, tr.x0)
	if err := tr.drawTarget(); err != nil {
		return StepInfo{}, err // coupling errors name themselves
	}
	sampleT(tr.rng, cfg.TSampler, tr.ip, tr.t)
	if tr.z != nil {
		interp.FillNormal(tr.rng, tr.z)
	}
	if tr.cond != nil {
		tr.cond.drop(tr.rng)
	}
	batchFor(cfg, tr.ip)(tr.x0, tr.x1, tr.z, tr.t, tr.xt, tr.bT, tr.etaT)
	lr := cfg.LR * tr.sched(tr.step)
	tr.step++
	info := StepInfo{Step: tr.step, LR: lr, Net: tr.v.net}
	info.Loss = tr.v.update(tr.xt, tr.t, tr.bT, cfg.Clip, float32(lr), tr.step)
	if tr.eta != nil {
		info.EtaLoss = tr.eta.update(tr.xt, tr.t, tr.etaT, cfg.Clip, float32(lr), tr.step)
		info.Eta = tr.eta.net
	}
	return info, nil
}

// sampleT fills t from the named sampler on the interpolant's time range.
func sampleT(rng *rand.Rand, name string, ip interp.Interpolant, t []float32) {
	if name == "logitnormal" {
		lo, hi := ip.TRange()
		for i := range t {
			u := 1 / (1 + math.Exp(-rng.NormFloat64()))
			t[i] = float32(lo + (hi-lo)*u)
		}
		return
	}
	ip.SampleT(rng, t)
}

// update takes one step of m on the MSE between m.net(xt, t) and target, and
// returns the loss (computed in float64). nn.Net.GradUpdate (Grad, when
// clipping) spreads batches of 256 rows or more over the cores in fixed
// shards (the same bits for any GOMAXPROCS), and applies the optimizer's
// step to each block of the summed gradient on the core that summed it.
// step is the 1-based index of this step (for the EMA warm-up).
func (m *model) update(xt *mat.Dense, t []float32, target *mat.Dense, clip float64, lr float32, step int) float64 {
	m.target, m.scale = target, 2/float32(xt.R)
	m.net.ZeroGrad()
	var loss float64
	if bs, ok := m.opt.(optim.BlockStepper); ok && clip <= 0 {
		// The optimizer's step on each block of the gradient as soon as it
		// is summed, on every core (the same bits as Grad then Step).
		loss = m.net.GradUpdate(xt, t, m.lossFn, bs.StepBlocks(m.net.Params(), m.net.Grads(), lr)) / float64(xt.R)
	} else {
		// Clipping needs the whole gradient's norm before any step.
		loss = m.net.Grad(xt, t, m.lossFn) / float64(xt.R)
		if clip > 0 {
			optim.ClipGlobalNorm(m.net.Grads(), clip)
		}
		m.opt.Step(m.net.Params(), m.net.Grads(), lr)
	}
	m.target = nil
	if m.ema != nil {
		m.ema.Decay = emaDecay(m.decay, step)
		m.ema.Update(m.net.Params())
	}
	return loss
}

// lossRows is update's nn.LossFunc: for rows [r0, r0+out.R) of the batch it
// returns Σ‖out − target‖² (in float64) and writes the gradient of the
// batch's mean, 2(out − target)/B, into g.
func (m *model) lossRows(r0 int, out, g *mat.Dense) float64 {
	d := out.C
	tg := m.target.Data[r0*d : r0*d+len(out.Data)]
	gd := g.Data[:len(out.Data)]
	var loss float64
	for i, v := range out.Data {
		e := v - tg[i]
		loss += float64(e) * float64(e)
		gd[i] = m.scale * e
	}
	return loss
}

// emaDecay is the EMA decay used at 1-based step s: the configured decay,
// warmed up as min(decay, (1+s)/(10+s)) (as diffusers' EMAModel does by
// default), so that the average of a short run is not
// dominated by the random initial weights (with decay 0.999 they would
// still weigh e^−3 ≈ 5 % after 3000 steps).
func emaDecay(decay float32, s int) float32 {
	return min(decay, float32(1+s)/float32(10+s))
}

// guard stops training on a non-finite loss or weight.
func (tr *trainer) guard(info StepInfo) error {
	if math.IsNaN(info.Loss) || math.IsInf(info.Loss, 0) {
		return fmt.Errorf("%w: step %d: drift loss is %v", ErrNonFinite, info.Step, info.Loss)
	}
	if math.IsNaN(info.EtaLoss) || math.IsInf(info.EtaLoss, 0) {
		return fmt.Errorf("%w: step %d: denoiser loss is %v", ErrNonFinite, info.Step, info.EtaLoss)
	}
	for _, m := range []*model{tr.v, tr.eta} {
		if m == nil {
			continue
		}
		if i := firstNonFinite(m.net.Params()); i >= 0 {
			return fmt.Errorf("%w: step %d: %s weight %d is %v", ErrNonFinite, info.Step, m.name, i, m.net.Params()[i])
		}
		if m.ema != nil {
			if i := firstNonFinite(m.ema.Shadow); i >= 0 {
				return fmt.Errorf("%w: step %d: %s EMA weight %d is %v", ErrNonFinite, info.Step, m.name, i, m.ema.Shadow[i])
			}
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in p, or −1.
func firstNonFinite(p []float32) int {
	for i, v := range p {
		// v−v is 0 for finite v and NaN for NaN and ±Inf.
		if v-v != 0 {
			return i
		}
	}
	return -1
}

func (tr *trainer) result() *Result {
	r := &Result{Model: Model{Config: tr.cfg}, Losses: append([]StepLoss(nil), tr.losses...)}
	r.Raw = tr.v.net.Clone()
	r.Net = tr.v.weights()
	if tr.eta != nil {
		r.RawEta = tr.eta.net.Clone()
		r.Eta = tr.eta.weights()
	}
	return r
}

// weights returns a copy of the network to use: with the EMA weights when
// EMA is on.
func (m *model) weights() *nn.Net {
	n := m.net.Clone()
	if m.ema != nil {
		copy(n.Params(), m.ema.Shadow)
	}
	n.ZeroGrad()
	return n
}
