package experiment

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

// stochasticSpec: the seed's first fix, randomness.
func stochasticSpec() spec {
	p := plan[stochasticConfig, *stochasticCell]{
		setup: stochasticSetup, cells: stochasticCells, measure: stochasticTrain, needs: stochasticNeeds,
		figures: stochasticFigures, findings: stochasticFindings,
		results: func(_ stochasticConfig, xs []*stochasticCell) any {
			pairs, runs := stochasticSplit(xs)
			return map[string]any{"pairs": pairs, "gauss": runs}
		},
		stats: func(_ stochasticConfig, xs []*stochasticCell) []cellStat { return stochasticStats(xs) },
	}
	return spec{
		name:     "stochastic",
		title:    "the fix by randomness: noised sources and stochastic interpolants",
		question: "Does randomness let a flow create the variation that a deterministic flow cannot: noise added to the source, or a stochastic interpolant (γ > 0) sampled with its SDE?",
		claim: "“If we allow ourselves to use randomness, then this problem quickly disappears. Thus why diffusion models do not suffer from this issue.” " +
			"Noise in the source's missing directions makes the exact map well defined at the price of a Lipschitz constant √(b/ε); " +
			"an SDE (drift b ± ε·s with the score s = −η/γ) adds the variation along the way.",
		run: p.run,
	}
}

// stochasticConfig is the stochastic experiment's setting.
type stochasticConfig struct {
	Toy       toyConfig   `json:"toy"`
	Gauss     gaussConfig `json:"gauss"`
	Seeds     int         `json:"seeds"`
	Sigmas    []float64   `json:"line_noise_sigmas"` // std of the noise added to the line; the verdict uses the largest
	Epss      []float64   `json:"dead_variances"`    // variances tried in the rank-64 source's dead directions
	Selection string      `json:"eps_selection"`
	Recipe    string      `json:"gauss_recipe"`
	Gamma     string      `json:"gamma"` // interp.ParseGamma: the stochastic interpolant's γ
	Drift     string      `json:"drift"` // what the drift network of a γ run learns (train.Config.Drift)
	Eps       string      `json:"sde_eps"`
	SweepEps  []float64   `json:"sde_eps_sweep"` // further ε peaks at which each γ run's SDE is sampled again
	Sweep     string      `json:"sde_eps_sweep_why"`
}

func stochasticSetup(s Scale) stochasticConfig {
	return stochasticConfig{
		Toy: toySetup(s), Gauss: pick(s, gaussSetup(s), gaussSetup(s), convergingGauss(s)), Seeds: seedsFor(s),
		Recipe: pick(s, "rank's short recipe", "rank's short recipe (3×256, 1500 steps, batch 256): rank's converging recipe (3×512, 2000 steps, batch 512), with two networks and the SDE a cell, does not fit the quick budget (docs/PERFORMANCE.md)",
			"rank's converging recipe (3×512, 8 Fourier features, lr 1e-2, 10000 steps, batch 512)"),
		Sigmas:    pick(s, []float64{0.3}, []float64{0.5}, []float64{0.02, 0.05, 0.1, 0.2, 0.5}),
		Epss:      pick(s, []float64{0.1}, []float64{0.01, 0.1}, []float64{0.001, 0.01, 0.1}),
		Selection: "ε is chosen on seed 0, which no verdict uses: the ε whose flow has the smallest KS against Chi(D); seeds 1… then run with that ε only. Every ε tried lies below the live directions' variance 0.5: at ε = 0.5 the noised source is the full-rank control itself",
		Gamma:     "1",
		Drift:     "split: the network learns v = E[α̇x0 + β̇x1 | x_t] and b = v + γ̇·η (γ̇ at t clamped to [0.001, 0.999]); trained on b itself, the drift learned nothing in the live directions at D = 128 (docs/STOCHASTIC.md)",
		Eps:       fmt.Sprintf("ε(t) = %g·γ(t)/max γ (train.Diffusion), zero at both ends", train.DefaultEps),
		SweepEps:  pick(s, []float64{1}, []float64{0.25, 1}, []float64{0.25, 1, 2}),
		Sweep: fmt.Sprintf("in a direction the source lacks the exact SDE started on the source ends at variance 1 − exp(−2π·ε), not 1 "+
			"(train's TestDiffusionDeadDirections): %.3f at the default ε = %g, %.3f at ε = 1. Each γ run's SDE is sampled again at these ε "+
			"from the same source points, with the exact SDE beside it", deadFill(train.DefaultEps), train.DefaultEps, deadFill(1)),
	}
}

// stochasticCell is one training: a 2-D pair or a 128-D run. For a run
// with γ > 0, pf receives the probability-flow ODE of the same training.
// A noised run of a verdict seed takes its ε from sel, the selection
// cells (measured before it: stochasticNeeds).
type stochasticCell struct {
	Pair *pairResult `json:"pair,omitempty"`
	Run  *rankRun    `json:"run,omitempty"`
	PF   *rankRun    `json:"pf,omitempty"`
	// Sweep holds a γ run's SDE sampled again at each ε of SweepEps.
	Sweep []*rankRun        `json:"sweep,omitempty"`
	i     int               // index among the cells of a seed: part of the evaluation seed
	sel   []*stochasticCell // the ε selection, for a run whose ε it chooses
	base  string            // that run's source before ε is added
}

// stochasticCells: the ε selection first (seed 0, a cell per ε); then,
// per seed, the line (plain, noised at each σ, with γ > 0) and the rank-64
// source (plain, noised with the chosen ε, with γ > 0).
func stochasticCells(_ *env, c stochasticConfig) ([]*stochasticCell, error) {
	g := c.Gauss
	base := fmt.Sprintf("embedded:dim=%d,rank=%d,var=%g", g.D, g.D/2, g.Var)
	var sel []*stochasticCell
	for i, eps := range c.Epss {
		r := &rankRun{Source: fmt.Sprintf("%s,eps=%g", base, eps), SourceRank: g.D / 2, Arch: g.Arch, Eps: eps, Seed: 0}
		sel = append(sel, &stochasticCell{i: i, Run: r})
	}
	cells := slices.Clone(sel)
	for s := 1; s <= c.Seeds; s++ {
		pairs := []*pairResult{{Source: "8gaussians", Target: "line", Seed: s}}
		for _, sg := range c.Sigmas {
			pairs = append(pairs, &pairResult{Source: "8gaussians", Target: fmt.Sprintf("line:noise=%g", sg), Seed: s})
		}
		pairs = append(pairs, &pairResult{Source: "8gaussians", Target: "line", Gamma: c.Gamma, Seed: s})
		runs := []*rankRun{
			{Source: base, SourceRank: g.D / 2, Arch: g.Arch, Seed: s},
			{Source: base + ",eps=chosen on seed 0", SourceRank: g.D / 2, Arch: g.Arch, Seed: s},
			{Source: base, SourceRank: g.D / 2, Arch: g.Arch, Gamma: c.Gamma, Seed: s},
		}
		i := 0
		for _, p := range pairs {
			cells = append(cells, &stochasticCell{i: i, Pair: p})
			i++
		}
		for k, r := range runs {
			x := &stochasticCell{i: i, Run: r}
			if r.Gamma != "" {
				x.PF = &rankRun{}
			}
			if k == 1 {
				x.sel, x.base = sel, base
			}
			cells = append(cells, x)
			i++
		}
	}
	return cells, nil
}

// stochasticNeeds: a run whose ε the selection chooses reads the selection
// cells, the first of the experiment.
func stochasticNeeds(xs []*stochasticCell, i int) []int {
	var n []int
	for k := range xs[i].sel {
		n = append(n, k)
	}
	return n
}

// stochasticChoose sets a noised run's ε: the selection's with the smallest
// KS against Chi(D).
func stochasticChoose(x *stochasticCell) {
	chosen := x.sel[0].Run
	for _, y := range x.sel {
		if y.Run.KSFull < chosen.KSFull {
			chosen = y.Run
		}
	}
	x.Run.Eps = chosen.Eps
	x.Run.Source = fmt.Sprintf("%s,eps=%g", x.base, chosen.Eps)
}

// stochasticTrain trains and measures one cell.
func stochasticTrain(e *env, c stochasticConfig, x *stochasticCell) error {
	if p := x.Pair; p != nil {
		cfg := c.Toy.train(c.Toy.Hidden, subSeed(e.seed, "stochastic-2d", p.Seed))
		cfg.Gamma = p.Gamma
		if p.Gamma != "" {
			cfg.Drift = train.DriftSplit
		}
		return trainPair(e, c.Toy, p, cfg, "stochastic-2d", x.i)
	}
	if x.sel != nil {
		stochasticChoose(x)
	}
	cfg := c.Gauss.train(subSeed(e.seed, "stochastic-gauss", x.Run.Seed))
	cfg.Gamma = x.Run.Gamma
	if x.Run.Gamma != "" {
		cfg.Drift = train.DriftSplit
	}
	res, err := runGauss(e, c.Gauss, x.Run, x.PF, cfg, fmt.Sprintf("stochastic-gauss-%d", x.i))
	if err != nil {
		return err
	}
	if x.Run.Eps > 0 && x.Run.Seed > 0 { // a noised source's ODE: no γ, so res.Net is the whole drift
		v0 := make([]float64, c.Gauss.D)
		for i := range v0 {
			v0[i] = x.Run.Eps
			if i < c.Gauss.D/2 {
				v0[i] = c.Gauss.Var
			}
		}
		if x.Run.Lip, err = measureLip(e.ctx, res.Net, v0, x.Run.Eps, x.Run.src); err != nil {
			return err
		}
	}
	if x.Run.Gamma == "" {
		return nil
	}
	ex, err := exactSDE(e, c, x.Run.src, x.Run.Seed, train.DefaultEps)
	if err != nil {
		return err
	}
	ex.KSLearned = ks2(x.Run.Norms, ex.Norms)
	x.Run.Exact = ex
	return stochasticSweep(e, c, x, res)
}

// stochasticSweep samples a γ run's SDE again at each ε of c.SweepEps from
// the same source points, each beside the exact SDE at that ε.
func stochasticSweep(e *env, c stochasticConfig, x *stochasticCell, res *train.Result) error {
	x.Sweep = nil
	for k, eps := range c.SweepEps {
		s := sdeSampler(res, eps, c.Gauss.SDESteps)
		fx, err := s.push(e.ctx, x.Run.src, false, newRNG(e.seed, "stochastic-sweep", x.i, x.Run.Seed, k))
		if err != nil {
			return err
		}
		r := *x.Run
		r.Sampler, r.EpsPeak, r.Lip = s.name, eps, nil
		r.measure(c.Gauss, fx)
		ex, err := exactSDE(e, c, x.Run.src, x.Run.Seed, eps)
		if err != nil {
			return err
		}
		ex.KSLearned = ks2(r.Norms, ex.Norms)
		r.Exact = ex
		x.Sweep = append(x.Sweep, &r)
	}
	return nil
}

// exactSDE integrates the half-rank source's SDE with the exact drift and
// score of its Gaussian interpolant (closed form) and the sampler's
// conventions (ε(t) = train.Diffusion(γ, eps), the same
// Euler–Maruyama steps) from the
// learned SDE's source points: where the learned SDE falls short and this
// one does not, the learning lost it; where both do, the sampler.
func exactSDE(e *env, c stochasticConfig, x *mat.Dense, seed int, eps float64) (*exactRun, error) {
	g := c.Gauss
	ip, err := train.Config{Gamma: c.Gamma}.Defaults().Interpolant()
	if err != nil {
		return nil, err
	}
	zero, v0, v1 := make([]float64, g.D), make([]float64, g.D), make([]float64, g.D)
	for i := range g.D {
		v1[i] = 1
		if i < g.D/2 {
			v0[i] = g.Var
		}
	}
	f, err := exact.NewGaussianField(zero, v0, zero, v1, ip)
	if err != nil {
		return nil, err
	}
	y := x.Clone()
	rng := newRNG(e.seed, "stochastic-exact-sde", seed)
	if eps != train.DefaultEps { // the default's stream as before the sweep
		rng = newRNG(e.seed, fmt.Sprintf("stochastic-exact-sde-%g", eps), seed)
	}
	if _, err := solve.IntegrateSDE(e.ctx, exact.AwayFromZero{F: f}, exact.AwayFromZero{F: f.ScoreField()}, y, rng, solve.SDEOptions{Steps: g.SDESteps, Eps: train.Diffusion(ip, eps)}); err != nil {
		return nil, err
	}
	ex := &exactRun{}
	ex.measure(y, g.D/2, g.D)
	return ex, nil
}

// stochasticSplit returns the pairs and the runs, the probability-flow
// and ε-sweep measurements last.
func stochasticSplit(xs []*stochasticCell) (pairs []*pairResult, runs []*rankRun) {
	var pfs []*rankRun
	for _, x := range xs {
		if x.Pair != nil {
			pairs = append(pairs, x.Pair)
			continue
		}
		runs = append(runs, x.Run)
		if x.PF != nil && x.PF.Source != "" {
			pfs = append(pfs, x.PF)
		}
		pfs = append(pfs, x.Sweep...)
	}
	return pairs, append(runs, pfs...)
}

// stochasticFigures draws the line pairs and the rank-64 norms of seed 1.
func stochasticFigures(e *env, c stochasticConfig, xs []*stochasticCell) ([]report.Figure, error) {
	pairs, runs := stochasticSplit(xs)
	var p1 []*pairResult
	var r1 []*rankRun
	for _, p := range pairs {
		if p.Seed == 1 {
			p1 = append(p1, p)
		}
	}
	for _, r := range runs {
		if r.Seed == 1 {
			r1 = append(r1, r)
		}
	}
	g := c.Gauss
	if err := pairFigure(e, "line.png", "8 gaussians ↔ line: deterministic, noised lines, and the stochastic interpolant's SDE (seed 1)", p1); err != nil {
		return nil, err
	}
	if err := rankFigure(e, g, "norms.png", fmt.Sprintf("‖f(x)‖ from the rank-%d source (seed 1): plain, with variance ε in the dead directions, with γ > 0, then the γ run's SDE at each ε of the sweep", g.D/2), r1, min(len(r1), 4)); err != nil {
		return nil, err
	}
	if err := stochasticSeedsFigure(e, c, pairs, runs); err != nil {
		return nil, err
	}
	return []report.Figure{
		{File: "seeds.png", Caption: fmt.Sprintf("The spread over seeds (seed 0 chose ε and is left out): the line's inverse W2 over the floor, the rank-%d source's KS against Chi(%d) in units of the sampling bound, and the dead-direction variance of each sampler beside the same SDE with the exact drift and score; one curve per cell, thresholds dashed.", g.D/2, g.D)},
		{File: "line.png", Caption: "Seed 1. Rows: the plain line (the variance experiment's failure), the line with noise σ added, and the plain line with a stochastic interpolant sampled by its SDE. Columns: source, forward image, inverse image of the target, target. Every seed's numbers are in the tables."},
		{File: "norms.png", Caption: fmt.Sprintf("Seed 1: norms at t = 1 from the rank-%d source, with Chi(%d) (solid) and Chi(%d) (dashed).", g.D/2, g.D, g.D/2)},
	}, nil
}

// stochasticSeedsFigure draws the verdicts' metrics against the seed, one
// curve per cell.
func stochasticSeedsFigure(e *env, c stochasticConfig, pairs []*pairResult, runs []*rankRun) error {
	var keys []string
	for _, p := range pairs {
		if k := pairKey(p); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var line []seedSeries
	for _, k := range keys {
		line = append(line, seriesOf(k, pairs, func(p *pairResult) bool { return pairKey(p) == k }, func(p *pairResult) int { return p.Seed },
			func(p *pairResult) float64 { return p.InverseW2 / p.BaselineW2 }))
	}
	bound := ksBound(c.Gauss.FlowN)
	kinds := []struct {
		label string
		keep  func(r *rankRun) bool
	}{
		{"ODE", func(r *rankRun) bool { return r.Gamma == "" && r.Eps == 0 }},
		{"ODE, ε-noised source", func(r *rankRun) bool { return r.Eps > 0 }},
		{"SDE", isSDE},
		{"probability-flow ODE", isPF},
	}
	seed := func(r *rankRun) int { return r.Seed }
	verdict := func(keep func(r *rankRun) bool) func(r *rankRun) bool {
		return func(r *rankRun) bool { return r.Seed > 0 && keep(r) }
	}
	var ks, dead []seedSeries
	for _, k := range kinds {
		ks = append(ks, seriesOf(k.label, runs, verdict(k.keep), seed, func(r *rankRun) float64 { return r.KSFull / bound }))
		dead = append(dead, seriesOf(k.label, runs, verdict(k.keep), seed, func(r *rankRun) float64 { return *r.DeadVar }))
	}
	dead = append(dead, seriesOf("SDE, exact drift and score", runs, verdict(func(r *rankRun) bool { return isSDE(r) && r.Exact != nil }), seed,
		func(r *rankRun) float64 { return r.Exact.DeadVar }))
	return plot.LineGrid(e.figure("seeds.png"), "every seed", 3, []plot.LinePanel{
		seedPanel("line → 8 gaussians", "inverse W2 / floor", line, map[string]float64{"1.5× floor": 1.5}),
		seedPanel(fmt.Sprintf("rank %d → N(0, I_%d)", c.Gauss.D/2, c.Gauss.D), "KS / bound", ks, map[string]float64{"2× bound": 2}),
		seedPanel("dead directions", "variance", dead, map[string]float64{"0.9": 0.9, "1.1": 1.1}),
	}, 420, 320)
}

// stochasticCriteria are the stochastic experiment's rules.
func stochasticCriteria() map[string]criterion {
	return named("stochastic", map[string]criterion{
		"sde-line": {Metric: "line → 8 gaussians W2 / floor, SDE (γ > 0)", Cmp: "<", Lo: 1.5,
			Why: "the variance experiment's moons control: within 1.5× the sampling floor a flow works"},
		"sde-rank": {Metric: "KS(half-rank SDE output, Chi(D)) / KS bound", Cmp: "<", Lo: 2,
			Why: "the rank experiment's full-rank control: within twice the 95 % KS sampling bound"},
		"noise-line": {Metric: "line → 8 gaussians W2 / floor, ODE, line noised at the largest σ", Cmp: "<", Lo: 1.5,
			Why: "the variance experiment's moons control"},
		"noise-rank": {Metric: "KS(half-rank + ε noise flow, Chi(D)) / KS bound, ε chosen on seed 0", Cmp: "<", Lo: 2,
			Why: "the rank experiment's full-rank control"},
		"noise-lip": {Metric: "σ₁ of the ε-noised flow map's Jacobian ∂X₁/∂X₀ (median over points) / √(b/ε)", Cmp: "in", Lo: 0.9, Hi: 1.1,
			Why: "the closed form: the exact map stretches the dead directions by √(b/ε) (b = 1, the target's variance), its largest singular value; ±10 %, as for the variances"},
		"sde-dead": {Metric: "dead-direction variance of the half-rank SDE output", Cmp: "in", Lo: 0.9, Hi: 1.1,
			Why: "the target's variance is 1; ±10 %, as for the live directions in the rank experiment"},
		"pf-live": {Metric: "live-direction variance of the half-rank probability-flow ODE (the learned drift alone)", Cmp: "in", Lo: 0.9, Hi: 1.1,
			Why: "the control of the SDE's verdicts: the exact drift's ODE takes the live directions from the source's 0.5 to the target's 1; ±10 %, as rank/live. Outside it the drift was not learned, and sde-rank and sde-dead say nothing about randomness"},
		"sde-eps-rank": {Metric: "KS(half-rank SDE output at ε = 1, Chi(D)) / KS bound", Cmp: "<", Lo: 2,
			Why: "the rank experiment's full-rank control, at the ε where the closed form 1 − exp(−2π·ε) leaves the dead directions at 0.998; at the default ε = 0.5 (0.957) even the exact SDE ends 4.5 bounds from Chi(128) (scripts/exactsde). Written, with sde-eps-dead, before any learned SDE was sampled at ε ≠ 0.5"},
		"sde-eps-dead": {Metric: "largest |dead-direction variance of the learned SDE − of the exact SDE| over the ε sweep and the default ε", Cmp: "<", Lo: 0.03,
			Why: "3 % of the target's variance, the learned drift and score against the exact ones under the same sampler (its discretization cancels); the sampling error of the difference is about 0.004 (64 directions, 5000 points)"},
		"exact-sde-dead": {Metric: "dead-direction variance of the same SDE with the exact drift and score", Cmp: "in", Lo: 0.9, Hi: 1.1,
			Why: "the same ±10 % of the target's variance: if the exact SDE meets it and the learned one does not, the learning loses the variance, not the sampler"},
	})
}

// isSDE and isPF tell a stochastic interpolant's SDE runs at the default ε
// and its probability-flow ODE runs apart; anySDE takes the ε sweep's SDE
// runs (EpsPeak > 0) too.
func isSDE(r *rankRun) bool  { return anySDE(r) && r.EpsPeak == 0 }
func anySDE(r *rankRun) bool { return r.Gamma != "" && r.Sampler != pfName }
func isPF(r *rankRun) bool   { return r.Sampler == pfName }

// stochasticFindings: the seed's claim on the line and on the rank-64
// source, then the noised sources and the dead directions.
func stochasticFindings(c stochasticConfig, xs []*stochasticCell) ([]report.Finding, []report.Table) {
	pairs, runs := stochasticSplit(xs)
	cr := stochasticCriteria()
	bound := ksBound(c.Gauss.FlowN)
	maxSigma := fmt.Sprintf("line:noise=%g", c.Sigmas[len(c.Sigmas)-1])
	pv := func(target, gamma string) []float64 {
		var v []float64
		for _, p := range pairs {
			if p.Target == target && p.Gamma == gamma {
				v = append(v, p.InverseW2/p.BaselineW2)
			}
		}
		return v
	}
	rv := func(keep func(r *rankRun) bool, f func(r *rankRun) float64) []float64 {
		var v []float64
		for _, r := range runs {
			if r.Seed > 0 && keep(r) {
				v = append(v, f(r))
			}
		}
		return v
	}
	noised := func(r *rankRun) bool { return r.Eps > 0 }
	plain := func(r *rankRun) bool { return r.Gamma == "" && r.Eps == 0 }
	ks := func(r *rankRun) float64 { return r.KSFull / bound }
	dead := func(r *rankRun) float64 { return *r.DeadVar }
	eps := 0.0
	for _, r := range runs {
		if r.Seed > 0 && r.Eps > 0 {
			eps = r.Eps
		}
	}
	fs := findings(
		test{kind: seedClaim, claim: "“If we allow ourselves to use randomness, then this problem quickly disappears.” — on the line: a stochastic interpolant sampled by its SDE maps the line to the 8 gaussians.",
			crit: cr["sde-line"], values: pv("line", c.Gamma), note: fmt.Sprintf("The deterministic flow: %s.", tInterval(pv("line", "")))},
		test{kind: seedClaim, claim: fmt.Sprintf("“If we allow ourselves to use randomness, then this problem quickly disappears.” — on the rank-%d source: the SDE reaches Chi(%d).", c.Gauss.D/2, c.Gauss.D),
			crit: cr["sde-rank"], values: rv(isSDE, ks), note: fmt.Sprintf("The deterministic flow: %s.", tInterval(rv(plain, ks)))},
		test{kind: hypothesis, claim: "Noise added to the line lets the ODE's inverse recover the 8 gaussians.",
			crit: cr["noise-line"], values: pv(maxSigma, "")},
		test{kind: hypothesis, claim: fmt.Sprintf("Variance ε in the dead directions lets the ODE reach Chi(%d), at the price of a map with Lipschitz constant √(1/ε).", c.Gauss.D),
			crit: cr["noise-rank"], values: rv(noised, ks), note: fmt.Sprintf("ε = %g (Lipschitz √(1/ε) = %.3g), chosen on seed 0; dead-direction variance %s.", eps, math.Sqrt(1/eps), tInterval(rv(noised, dead)))},
		test{kind: hypothesis, claim: fmt.Sprintf("The price of the noised source, measured: the learned flow map's Lipschitz constant is the closed form's √(b/ε) = %.3g.", math.Sqrt(1/eps)),
			crit: cr["noise-lip"], values: rv(noised, func(r *rankRun) float64 { return lipOf(r).FlowSigma / lipOf(r).Price }), note: lipNote(rv, noised)},
		test{kind: hypothesis, claim: "The SDE fills the dead directions with the target's variance.",
			crit: cr["sde-dead"], values: rv(isSDE, dead), note: fmt.Sprintf("Live directions: %s.", tInterval(rv(isSDE, func(r *rankRun) float64 { return r.LiveVar })))},
		test{kind: hypothesis, claim: "Control: the stochastic interpolant's learned drift carries the live directions, as the exact one does: its probability-flow ODE takes their variance from 0.5 to 1.",
			crit: cr["pf-live"], values: rv(isPF, func(r *rankRun) float64 { return r.LiveVar }),
			note: fmt.Sprintf("Dead directions under the same ODE: %s (the exact ODE keeps them at 0).", tInterval(rv(isPF, dead)))},
		test{kind: seedClaim, claim: fmt.Sprintf("“If we allow ourselves to use randomness, then this problem quickly disappears.” — with enough of it: at ε = 1 the SDE reaches Chi(%d).", c.Gauss.D),
			crit: cr["sde-eps-rank"], values: rv(func(r *rankRun) bool { return r.EpsPeak == 1 }, ks),
			note: fmt.Sprintf("At each ε of the sweep, the learned SDE against the exact SDE from the same points and the closed form 1 − exp(−2π·ε) of the dead directions: %s.", sweepNote(runs, bound))},
		test{kind: hypothesis, claim: "At every ε the learned SDE fills the dead directions as the exact SDE does: what it leaves short is the SDE's, not the learning's.",
			crit: cr["sde-eps-dead"], values: sweepGap(runs)},
		test{kind: hypothesis, claim: "The sampler is sound: the same SDE (the sampler's ε(t), the same Euler–Maruyama steps) with the exact drift and score fills the dead directions.",
			crit: cr["exact-sde-dead"], values: rv(isSDE, func(r *rankRun) float64 { return r.Exact.DeadVar }),
			note: fmt.Sprintf("Live directions %s; KS against Chi(%d) %s.", tInterval(rv(isSDE, func(r *rankRun) float64 { return r.Exact.LiveVar })), c.Gauss.D,
				tInterval(rv(isSDE, func(r *rankRun) float64 { return r.Exact.KSFull })))},
	)
	return fs, []report.Table{pairTable(pairs), rankTable(c.Gauss.D, runs)}
}

// sweepGap returns, per seed, the largest |learned − exact| dead-direction
// variance over its SDE runs (the default ε and the sweep's).
func sweepGap(runs []*rankRun) []float64 {
	gap := map[int]float64{}
	var seeds []int
	for _, r := range runs {
		if r.Seed == 0 || !anySDE(r) || r.Exact == nil || r.DeadVar == nil {
			continue
		}
		if _, ok := gap[r.Seed]; !ok {
			seeds = append(seeds, r.Seed)
		}
		gap[r.Seed] = max(gap[r.Seed], math.Abs(*r.DeadVar-r.Exact.DeadVar))
	}
	v := make([]float64, 0, len(seeds))
	for _, s := range seeds {
		v = append(v, gap[s])
	}
	return v
}

// sweepNote lists at each ε (the default's and the sweep's) the learned
// SDE's dead-direction variance and KS against Chi(D) in units of bound,
// beside the exact SDE's and the closed form 1 − exp(−2π·ε).
func sweepNote(runs []*rankRun, bound float64) string {
	type cols struct{ dead, exDead, ks, exKS []float64 }
	byEps := map[float64]*cols{}
	var epss []float64
	for _, r := range runs {
		if r.Seed == 0 || r.DeadVar == nil || !anySDE(r) {
			continue
		}
		eps := r.EpsPeak
		if eps == 0 {
			eps = train.DefaultEps
		}
		v := byEps[eps]
		if v == nil {
			v = &cols{}
			byEps[eps] = v
			epss = append(epss, eps)
		}
		v.dead = append(v.dead, *r.DeadVar)
		v.ks = append(v.ks, r.KSFull/bound)
		if r.Exact != nil {
			v.exDead = append(v.exDead, r.Exact.DeadVar)
			v.exKS = append(v.exKS, r.Exact.KSFull/bound)
		}
	}
	slices.Sort(epss)
	var parts []string
	for _, eps := range epss {
		v := byEps[eps]
		parts = append(parts, fmt.Sprintf("ε = %g: dead variance %s (exact SDE %.3f, closed form %.3f), KS %s bounds (exact SDE %.2f)",
			eps, shortInterval(v.dead, "%.3f"), mean(v.exDead), deadFill(eps), shortInterval(v.ks, "%.2f"), mean(v.exKS)))
	}
	if len(parts) > 0 {
		parts[0] = "means over seeds [95 % t interval]; " + parts[0]
	}
	return strings.Join(parts, "; ")
}

// deadFill is the closed form of the dead-direction variance that the
// exact SDE started on a degenerate source ends at, 1 − exp(−2π·ε), for
// train.Diffusion's ε(t) of peak eps (docs/STOCHASTIC.md).
func deadFill(eps float64) float64 { return 1 - math.Exp(-2*math.Pi*eps) }

// shortInterval formats v's mean and 95 % t interval with verb f, the
// mean alone for fewer than two values.
func shortInterval(v []float64, f string) string {
	iv := tInterval(v)
	if iv.N < 2 {
		return fmt.Sprintf(f, iv.Mean)
	}
	return fmt.Sprintf(f+" ["+f+", "+f+"]", iv.Mean, iv.Lo, iv.Hi)
}

// lipOf returns a run's Lipschitz measurements (NaN where none were made).
func lipOf(r *rankRun) lipRun {
	if r.Lip == nil {
		n := math.NaN()
		return lipRun{FlowSigma: n, Price: n, FieldLip: n, FieldLipT: n, ExactFlowSigma: n, ExactFieldLip: n, ExactFieldLipT: n}
	}
	return *r.Lip
}

// lipNote reports diagnose's other Lipschitz figures of the noised flows:
// the exact map's σ₁ measured the same way, and the field's largest local
// Lipschitz constant along the flow, learned and exact, with its time.
func lipNote(rv func(keep func(r *rankRun) bool, f func(r *rankRun) float64) []float64, keep func(r *rankRun) bool) string {
	f := func(g func(l lipRun) float64) interval {
		return tInterval(rv(keep, func(r *rankRun) float64 { return g(lipOf(r)) }))
	}
	return fmt.Sprintf("Measured by diagnose on %d trajectories (RK4, %d steps, variational equation): σ₁ of the flow map %s, of the exact map %s; "+
		"largest σ₁(∂v/∂x) along the flow %s at t = %s, the exact field's %s at t = %s.",
		lipPoints, lipSteps, f(func(l lipRun) float64 { return l.FlowSigma }), f(func(l lipRun) float64 { return l.ExactFlowSigma }),
		f(func(l lipRun) float64 { return l.FieldLip }), f(func(l lipRun) float64 { return l.FieldLipT }),
		f(func(l lipRun) float64 { return l.ExactFieldLip }), f(func(l lipRun) float64 { return l.ExactFieldLipT }))
}

// stochasticStats is the per-cell interval of each metric (seed 0, the ε
// selection, left out).
func stochasticStats(xs []*stochasticCell) []cellStat {
	pairs, runs := stochasticSplit(xs)
	var verdictRuns []*rankRun
	for _, r := range runs {
		if r.Seed > 0 {
			verdictRuns = append(verdictRuns, r)
		}
	}
	return append(pairStats(pairs), cellStats(verdictRuns, func(r *rankRun) string { return r.Source + gammaNote(r.Gamma) + ", " + r.Sampler },
		func(r *rankRun) []metric {
			return []metric{{"mean_norm", r.MeanNorm}, {"ks_chi_full", r.KSFull}, {"live_var", r.LiveVar}, {"dead_var", *r.DeadVar}}
		})...)
}
