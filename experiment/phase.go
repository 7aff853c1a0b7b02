package experiment

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/flowlab/flowlab/diagnose"
	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

// phaseSpec: flowlab's phase diagram of failure, in a dimension where
// intrinsic-dimension estimates can be trusted.
func phaseSpec() spec {
	p := plan[phaseConfig, *phaseCell]{
		setup: phaseSetup, cells: phaseCells, measure: phaseMeasure,
		cost:    phaseCost,
		figures: phaseFigures, findings: phaseFindings,
		stats: func(_ phaseConfig, xs []*phaseCell) []cellStat { return phaseStats(xs) },
	}
	return spec{
		name:  "phase",
		title: "a phase diagram of failure: source rank × width × training steps",
		question: "Over the source's rank r, the network's width w and the training steps, in D = 16: does a deterministic flow's output keep the source's intrinsic dimension r, " +
			"do the two fixes (noise ε in the source's dead directions; a stochastic interpolant sampled by its SDE) reach D, and what Lipschitz constant does the ε fix pay?",
		claim: "“If we allow ourselves to use randomness, then this problem quickly disappears.” " +
			"(flowlab: an ODE flow is a diffeomorphism, so it maps an r-dimensional support onto an r-dimensional one whatever the network and its training; " +
			"noise ε in the dead directions buys the missing variation with a map whose Lipschitz constant is √(b/ε); an SDE adds it along the way. " +
			"Here both explanations are measured: the output's intrinsic dimension, and the Lipschitz constants along the flow.)",
		run: p.run,
	}
}

// The three ways of carrying a rank-r source to N(0, bI_D).
const (
	phaseODE = "ode" // the plain source, ODE
	phaseEps = "eps" // variance ε added in the dead directions, ODE
	phaseSDE = "sde" // the plain source, a stochastic interpolant sampled by its SDE
)

// phaseB is the target's variance b: the target is N(0, bI_D).
const phaseB = 1.0

// phaseMethods lists the methods in the figures' order, with their labels.
var phaseMethods = [...]struct{ id, label string }{
	{phaseODE, "ODE"}, {phaseEps, "ε fix (ODE)"}, {phaseSDE, "SDE"},
}

// phaseConfig is the phase experiment's setting.
type phaseConfig struct {
	// Train is the training recipe (its Hidden is replaced per cell by
	// Depth layers of the cell's width; no EMA, so that a snapshot during
	// training is the same kind of network as the final one).
	Train     gaussConfig `json:"training"`
	Depth     int         `json:"depth"`
	Ranks     []int       `json:"ranks"`
	Widths    []int       `json:"widths"`
	Steps     []int       `json:"steps"` // snapshots of one training each; the last is its length
	Seeds     int         `json:"seeds"`
	GridEps   float64     `json:"grid_eps"`   // ε of the grid's ε-fix cells
	SweepEps  []float64   `json:"sweep_eps"`  // ε of the Lipschitz sweep (GridEps among them)
	SweepRank int         `json:"sweep_rank"` // the sweep's rank (the widest network, every step count)
	Gamma     string      `json:"gamma"`      // the SDE cells' γ (interp.ParseGamma)
	DiagN     int         `json:"diag_n"`     // points whose Jacobians diagnose measures
	DiagTimes []float64   `json:"diag_times"` // when along the flow
	KSAlpha   float64     `json:"ks_alpha"`
	WhyDim    string      `json:"why_dim"`
	ID        string      `json:"intrinsic_dimension"`
	Lipschitz string      `json:"lipschitz"`
}

func phaseSetup(s Scale) phaseConfig {
	tr := gaussSetup(s)
	tr.D, tr.Var, tr.EMA = 16, 0.5, 0
	tr.Steps = 0 // the last of Steps
	tr.LR, tr.Batch = 5e-3, 256
	tr.Warmup = pick(s, 10, 100, 200)
	tr.FlowN = pick(s, 400, 2000, 5000)
	tr.SDESteps = pick(s, 100, 150, 500)
	tr.Hidden = nil
	return phaseConfig{
		Train: tr, Depth: 3,
		Ranks:     pick(s, []int{2, 8}, []int{2, 4, 8}, []int{2, 4, 8, 12}),
		Widths:    pick(s, []int{16}, []int{16, 64}, []int{16, 64, 256}),
		Steps:     pick(s, []int{100, 300}, []int{300, 1200}, []int{500, 2000, 8000}),
		Seeds:     seedsFor(s),
		GridEps:   0.1,
		SweepEps:  pick(s, []float64{0.1, 0.01}, []float64{0.1, 0.03, 0.01, 0.003}, []float64{0.3, 0.1, 0.03, 0.01, 0.003, 0.001}),
		SweepRank: pick(s, 2, 4, 4),
		Gamma:     "1",
		DiagN:     pick(s, 8, 12, 32),
		DiagTimes: []float64{0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1},
		KSAlpha:   0.05,
		WhyDim: "D = 16: intrinsic-dimension estimates are reliable at n of a few thousand up to a dimension of about 10–15 " +
			"(measured with these estimators: ranks 2, 5, 10 in 64 dimensions within 5 % at n = 5000, rank 20 read 16.4–17.4); " +
			"in D = 128 every fix would read far below D at any affordable n, and r could not be told from D",
		ID: "TwoNN (Facco et al., 10 % of the ratios discarded) on the flow's output, every point against the others; " +
			"set against the same estimator on a rank-r N(0, I_r) and an N(0, I_D) sample of the same size (per rank and seed): " +
			"the dimension gain (ID − ID_r)/(ID_D − ID_r) is 0 for an output that reads like a rank-r Gaussian and 1 for one that reads like N(0, I_D), whatever the estimator's finite-n bias",
		Lipschitz: "diagnose.Run on diag_n source points along the drift's ODE (RK4, the sampler's steps, split at diag_times): " +
			"σ₁(∂v/∂x) from the network's JVPs; 'lipschitz' is the largest over diag_times of its median over the points, 'max_lipschitz' the largest over points and times; " +
			"'flow_map_sigma1' the median σ₁ of the flow map's Jacobian by the variational equation. The exact ε fix maps the dead directions by √(b/ε) (b = 1, the target's variance), " +
			"and its field's σ₁ peaks near ½√(b/ε) at t ≈ √(ε/b)",
	}
}

// phaseCell is one training: a method, a source rank, a width, a seed,
// measured at every snapshot of Steps. Every field is exported (the cell
// contract): the figures and findings read nothing else.
type phaseCell struct {
	Method string  `json:"method"` // ode, eps or sde
	Rank   int     `json:"rank"`
	Width  int     `json:"width"`
	Eps    float64 `json:"eps,omitempty"` // variance in the dead directions (eps cells)
	Seed   int     `json:"seed"`
	Grid   bool    `json:"grid"` // part of the r × w × steps grid (false: the ε sweep only)
	// RefRank and RefFull are TwoNN on a rank-r N(0, I_r) sample and on an
	// N(0, I_D) sample of the output's size: where a flow that keeps r, and
	// one that reaches D, read.
	RefRank float64     `json:"ref_id_rank"`
	RefFull float64     `json:"ref_id_full"`
	Snaps   []phaseSnap `json:"snapshots"`
	cost    int         // estimated multiply-adds (phaseCellCost), set by phaseCells
}

// phaseSnap is a cell's network after Steps optimizer steps, measured.
type phaseSnap struct {
	Steps    int     `json:"steps"`
	Loss     float64 `json:"loss"` // mean drift loss of the 100 steps before the snapshot
	ID       float64 `json:"id_twonn"`
	IDSpread float64 `json:"id_twonn_spread"` // bootstrap standard deviation
	IDLB     float64 `json:"id_levina_bickel"`
	Gain     float64 `json:"dim_gain"` // (ID − RefRank)/(RefFull − RefRank)
	MeanNorm float64 `json:"mean_norm"`
	KS       float64 `json:"ks_chi_full"` // against Chi(D)
	LiveVar  float64 `json:"live_var"`
	DeadVar  float64 `json:"dead_var"`
	Lip      float64 `json:"lipschitz"` // max over t of the median σ₁(∂v/∂x)
	LipT     float64 `json:"lipschitz_t"`
	MaxLip   float64 `json:"max_lipschitz"`   // over points and times
	FlowLip  float64 `json:"flow_map_sigma1"` // median σ₁(∂X₁/∂X₀)
}

// source returns the cell's source SPEC.
func (x *phaseCell) source(d int, v float64) string {
	s := fmt.Sprintf("embedded:dim=%d,rank=%d,var=%g", d, x.Rank, v)
	if x.Method == phaseEps {
		s += fmt.Sprintf(",eps=%g", x.Eps)
	}
	return s
}

// label names the cell's training for seeds and logs.
func (x *phaseCell) label() string {
	return fmt.Sprintf("phase/%s/r%d/w%d/eps%g", x.Method, x.Rank, x.Width, x.Eps)
}

// phaseCost is a cell's estimated work (see phaseCellCost).
func phaseCost(x *phaseCell) int { return x.cost }

// phaseCellCost estimates a cell's work in the runner's units (cost.go:
// cellSeconds divides by macsPerCPUSecond), from CPU seconds fitted to
// training and evaluation of these cells on this machine (docs/DIAGNOSE.md,
// the phase experiment's paper estimate): per training step a fixed part and
// one proportional to batch·w² (twice for the SDE's two nets); per snapshot
// a part that grows as n² (nearest neighbours, the references) and the
// sampler's network evaluations, n·w² per ODE evaluation or SDE step.
func phaseCellCost(c phaseConfig, x *phaseCell) int {
	w2, n := float64(x.Width*x.Width), float64(c.Train.FlowN)
	nets, fixed, perEval, evals := 1.0, 0.66, 9.15e-11, float64(4*flowSteps)
	if x.Method == phaseSDE {
		nets, fixed, perEval, evals = 2, 1.97, 1.18e-10, float64(c.Train.SDESteps)
	}
	steps := float64(c.Steps[len(c.Steps)-1])
	train := steps * (2.7e-4 + 1.77e-10*float64(c.Train.Batch)*w2) * nets
	sq := (n / 5000) * (n / 5000)
	eval := fixed*sq + perEval*evals*n*w2
	return int((train + 0.5*sq + float64(len(c.Steps))*eval) * macsPerCPUSecond)
}

// phaseCells: per seed, the grid (method × rank × width) and the ε sweep
// at SweepRank with the widest network.
func phaseCells(_ *env, c phaseConfig) ([]*phaseCell, error) {
	if !slices.Contains(c.SweepEps, c.GridEps) || !slices.Contains(c.Ranks, c.SweepRank) || slices.Max(c.Ranks) >= c.Train.D {
		panic("experiment: phase setting: the sweep must hold the grid's ε and rank, and every rank be below D")
	}
	wMax := slices.Max(c.Widths)
	var xs []*phaseCell
	for s := 1; s <= c.Seeds; s++ {
		for _, m := range phaseMethods {
			for _, r := range c.Ranks {
				for _, w := range c.Widths {
					x := &phaseCell{Method: m.id, Rank: r, Width: w, Seed: s, Grid: true}
					if m.id == phaseEps {
						x.Eps = c.GridEps
					}
					x.cost = phaseCellCost(c, x)
					xs = append(xs, x)
				}
			}
		}
		for _, eps := range c.SweepEps {
			if eps != c.GridEps {
				x := &phaseCell{Method: phaseEps, Rank: c.SweepRank, Width: wMax, Eps: eps, Seed: s}
				x.cost = phaseCellCost(c, x)
				xs = append(xs, x)
			}
		}
	}
	return xs, nil
}

// phaseMeasure trains one cell, keeping the networks at each snapshot, and
// measures each.
func phaseMeasure(e *env, c phaseConfig, x *phaseCell) error {
	t0 := time.Now()
	d := c.Train.D
	src, err := dist.Parse(x.source(d, c.Train.Var))
	if err != nil {
		return err
	}
	tgt, err := dist.NewGaussian(d, phaseB, 0)
	if err != nil {
		return err
	}
	cfg := c.Train.train(subSeed(e.seed, x.label(), x.Seed))
	cfg.Hidden = slices.Repeat([]int{x.Width}, c.Depth)
	cfg.Steps = c.Steps[len(c.Steps)-1]
	if x.Method == phaseSDE {
		cfg.Gamma = c.Gamma
	}
	snaps := map[int]*train.Model{}
	keep := func(s train.StepInfo) error {
		if s.Step < cfg.Steps && slices.Contains(c.Steps, s.Step) {
			m := &train.Model{Net: s.Net.Clone()}
			if s.Eta != nil {
				m.Eta = s.Eta.Clone()
			}
			snaps[s.Step] = m
		}
		return nil
	}
	res, err := train.Fit(e.ctx, src, tgt, cfg, train.Options{OnStep: keep})
	if err != nil {
		return fmt.Errorf("%s: %w", x.label(), err)
	}
	snaps[cfg.Steps] = &train.Model{Net: res.Net, Eta: res.Eta}
	if x.RefRank, x.RefFull, err = phaseRefs(e, c, x); err != nil {
		return err
	}
	rng := newRNG(e.seed, x.label()+"-eval", x.Seed)
	pts := draw(src, c.Train.FlowN, rng)
	for _, steps := range c.Steps {
		m := snaps[steps]
		m.Config = res.Config
		s, err := phaseEval(e, c, x, &train.Result{Model: *m}, pts, steps)
		if err != nil {
			return fmt.Errorf("%s, %d steps: %w", x.label(), steps, err)
		}
		s.Loss = meanLoss(res.Losses, steps, 100)
		x.Snaps = append(x.Snaps, s)
	}
	last := x.Snaps[len(x.Snaps)-1]
	e.logf("%s seed %d: ID %.2f (refs %.2f, %.2f), KS %.3f, dead var %.3f, Lipschitz %.3g, flow map σ₁ %.3g [%.1fs]",
		x.label(), x.Seed, last.ID, x.RefRank, x.RefFull, last.KS, last.DeadVar, last.Lip, last.FlowLip, time.Since(t0).Seconds())
	return nil
}

// meanLoss is the mean loss of the n steps up to step (1-based).
func meanLoss(h []train.StepLoss, step, n int) float64 {
	var s float64
	var k int
	for _, l := range h {
		if l.Step > step-n && l.Step <= step {
			s += l.Loss
			k++
		}
	}
	return s / float64(max(k, 1))
}

// phaseRefs estimates the intrinsic dimension of a rank-r N(0, I_r) and an
// N(0, I_D) sample of the output's size, drawn per rank and seed (so the
// same for every method and width).
func phaseRefs(e *env, c phaseConfig, x *phaseCell) (rank, full float64, err error) {
	d, n := c.Train.D, c.Train.FlowN
	rng := newRNG(e.seed, "phase-ref", x.Rank, x.Seed)
	var ids [2]float64
	for i, k := range []int{x.Rank, d} {
		s, err := dist.NewEmbedded(d, k, 1, 0, false, 0)
		if err != nil {
			return 0, 0, err
		}
		y := draw(s, n, rng)
		id, err := metrics.IntrinsicDim(e.ctx, y, y, metrics.IntrinsicOptions{Bootstrap: -1})
		if err != nil {
			return 0, 0, fmt.Errorf("reference rank %d: %w", k, err)
		}
		ids[i] = id.TwoNN.Dim
	}
	return ids[0], ids[1], nil
}

// phaseEval pushes the source points through one snapshot with its
// sampler (the ODE; the SDE for γ > 0) and measures the output and, along
// the drift's ODE, the field's and the flow map's Jacobians.
func phaseEval(e *env, c phaseConfig, x *phaseCell, res *train.Result, pts *mat.Dense, steps int) (phaseSnap, error) {
	s := phaseSnap{Steps: steps}
	smp, err := newSampler(res, c.Train.SDESteps)
	if err != nil {
		return s, err
	}
	fx, err := smp.push(e.ctx, pts, false, newRNG(e.seed, x.label()+"-push", x.Seed, steps))
	if err != nil {
		return s, err
	}
	id, err := metrics.IntrinsicDim(e.ctx, fx, fx, metrics.IntrinsicOptions{Bootstrap: 100, Seed: subSeed(e.seed, x.label()+"-id", x.Seed, steps)})
	if err != nil {
		return s, err
	}
	s.ID, s.IDSpread, s.IDLB = id.TwoNN.Dim, id.TwoNN.Spread, id.LBAveraged.Dim
	s.Gain = (s.ID - x.RefRank) / (x.RefFull - x.RefRank)
	nr := norms(fx)
	s.MeanNorm, s.KS = mean(nr), ksChi(nr, c.Train.D, math.Sqrt(phaseB))
	v := colVars(fx)
	s.LiveVar, s.DeadVar = mean(v[:x.Rank]), mean(v[x.Rank:])
	sub := &mat.Dense{R: c.DiagN, C: pts.C, Data: pts.Data[:c.DiagN*pts.C]}
	rep, err := diagnose.Run(e.ctx, diagnose.NewNetField(res.Net), sub, diagnose.Options{
		Solve: solve.Options{Method: solve.RK4, Steps: flowSteps}, Times: c.DiagTimes, Seed: subSeed(e.seed, x.label()+"-diag", x.Seed, steps)})
	if err != nil {
		return s, err
	}
	s.MaxLip = rep.MaxLip.Value
	for _, ts := range rep.Times {
		if ts.Lipschitz.Median > s.Lip {
			s.Lip, s.LipT = ts.Lipschitz.Median, ts.T
		}
	}
	s.FlowLip = rep.FlowMap.Sigma[0].Median
	return s, nil
}
