package experiment

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/report"
)

// stochasticSpec: the seed's first fix, randomness.
func stochasticSpec() spec {
	p := plan[stochasticConfig, *stochasticCell]{
		setup: stochasticSetup, cells: stochasticCells, measure: stochasticMeasure,
		figures: stochasticFigures, findings: stochasticFindings,
		results: func(_ stochasticConfig, xs []*stochasticCell) any {
			pairs, runs := stochasticSplit(xs)
			return map[string]any{"pairs": pairs, "gauss": runs}
		},
	}
	return spec{
		name:     "stochastic",
		title:    "the fix by randomness: noised sources and stochastic interpolants",
		question: "Does randomness let a flow create the variation that a deterministic flow cannot: noise added to the source, or a stochastic interpolant (γ > 0) sampled with its SDE?",
		claim: "The seed proposes randomness as the fix for the failures of the variance and rank experiments. " +
			"Noise in the source's missing directions makes the exact map well defined at the price of a Lipschitz constant √(b/ε); " +
			"an SDE (drift b ± ε·s with the score s = −η/γ) adds the variation along the way.",
		run: p.run,
	}
}

// stochasticConfig is the stochastic experiment's setting.
type stochasticConfig struct {
	Toy    toyConfig   `json:"toy"`
	Gauss  gaussConfig `json:"gauss"`
	Sigmas []float64   `json:"line_noise_sigmas"` // std of the noise added to the line
	Epss   []float64   `json:"dead_variances"`    // variance added in the rank-64 source's dead directions
	Gamma  string      `json:"gamma"`             // interp.ParseGamma: the stochastic interpolant's γ
	Eps    string      `json:"sde_eps"`
}

func stochasticSetup(s Scale) stochasticConfig {
	return stochasticConfig{
		Toy: toySetup(s), Gauss: gaussSetup(s),
		Sigmas: pick(s, []float64{0.3}, []float64{0.05, 0.2, 0.5}, []float64{0.02, 0.05, 0.1, 0.2, 0.5}),
		Epss:   pick(s, []float64{0.1}, []float64{0.01, 0.1, 0.5}, []float64{0.001, 0.01, 0.1, 0.5}),
		Gamma:  "1",
		Eps:    "ε(t) = γ(t)², zero at both ends",
	}
}

// stochasticCell is one training: a 2-D pair or a 128-D run. For a run
// with γ > 0, pf receives the probability-flow ODE of the same training.
type stochasticCell struct {
	i    int // index among all cells: part of the evaluation seed
	pair *pairResult
	run  *rankRun
	pf   *rankRun
}

// stochasticCells: the line (plain, noised at each σ, with γ > 0) and the
// rank-64 source (plain, noised at each ε, with γ > 0).
func stochasticCells(_ *env, c stochasticConfig) ([]*stochasticCell, error) {
	pairs := []*pairResult{{Source: "8gaussians", Target: "line"}}
	for _, s := range c.Sigmas {
		pairs = append(pairs, &pairResult{Source: "8gaussians", Target: fmt.Sprintf("line:noise=%g", s)})
	}
	pairs = append(pairs, &pairResult{Source: "8gaussians", Target: "line", Gamma: c.Gamma})
	g := c.Gauss
	base := fmt.Sprintf("embedded:dim=%d,rank=%d,var=%g", g.D, g.D/2, g.Var)
	runs := []*rankRun{{Source: base, SourceRank: g.D / 2, Arch: g.Arch, Seed: 1}}
	for _, eps := range c.Epss {
		runs = append(runs, &rankRun{Source: fmt.Sprintf("%s,eps=%g", base, eps), SourceRank: g.D / 2, Arch: g.Arch, Eps: eps, Seed: 1})
	}
	runs = append(runs, &rankRun{Source: base, SourceRank: g.D / 2, Arch: g.Arch, Gamma: c.Gamma, Seed: 1})
	var cells []*stochasticCell
	for _, p := range pairs {
		cells = append(cells, &stochasticCell{i: len(cells), pair: p})
	}
	for _, r := range runs {
		x := &stochasticCell{i: len(cells), run: r}
		if r.Gamma != "" {
			x.pf = &rankRun{}
		}
		cells = append(cells, x)
	}
	return cells, nil
}

// stochasticMeasure trains one cell.
func stochasticMeasure(e *env, c stochasticConfig, x *stochasticCell) error {
	if p := x.pair; p != nil {
		cfg := c.Toy.train(c.Toy.Hidden, subSeed(e.seed, "stochastic-2d"))
		cfg.Gamma = p.Gamma
		return trainPair(e, c.Toy, p, cfg, "stochastic-2d", x.i)
	}
	cfg := c.Gauss.train(subSeed(e.seed, "stochastic-gauss"))
	cfg.Gamma = x.run.Gamma
	return runGauss(e, c.Gauss, x.run, x.pf, cfg, fmt.Sprintf("stochastic-gauss-%d", x.i))
}

// stochasticSplit returns the pairs and the runs, the probability-flow
// measurements last.
func stochasticSplit(xs []*stochasticCell) (pairs []*pairResult, runs []*rankRun) {
	var pfs []*rankRun
	for _, x := range xs {
		if x.pair != nil {
			pairs = append(pairs, x.pair)
			continue
		}
		runs = append(runs, x.run)
		if x.pf != nil && x.pf.Source != "" {
			pfs = append(pfs, x.pf)
		}
	}
	return pairs, append(runs, pfs...)
}

// stochasticFigures draws the line pairs and the rank-64 norms.
func stochasticFigures(e *env, c stochasticConfig, xs []*stochasticCell) ([]report.Figure, error) {
	pairs, runs := stochasticSplit(xs)
	g := c.Gauss
	if err := pairFigure(e, "line.png", "8 gaussians ↔ line: deterministic, noised lines, and the stochastic interpolant's SDE", pairs); err != nil {
		return nil, err
	}
	if err := rankFigure(e, g, "norms.png", fmt.Sprintf("‖f(x)‖ from the rank-%d source: plain, with variance ε in the dead directions, and with γ > 0", g.D/2), runs, len(runs)); err != nil {
		return nil, err
	}
	return []report.Figure{
		{File: "line.png", Caption: "Rows: the plain line (the variance experiment's failure), the line with noise σ added, and the plain line with a stochastic interpolant sampled by its SDE. Columns: source, forward image, inverse image of the target, target."},
		{File: "norms.png", Caption: fmt.Sprintf("Norms at t = 1 from the rank-%d source, with Chi(%d) (solid) and Chi(%d) (dashed).", g.D/2, g.D, g.D/2)},
	}, nil
}

// stochasticFindings: the line's fixes, then the rank-64 source's.
func stochasticFindings(c stochasticConfig, xs []*stochasticCell) ([]report.Finding, []report.Table) {
	pairs, runs := stochasticSplit(xs)
	fs := append(stochasticLineFindings(c, pairs), stochasticRankFindings(c, runs)...)
	return fs, []report.Table{pairTable(pairs), rankTable(c.Gauss, runs)}
}

// stochasticLineFindings judges the noised lines and the SDE on the line.
func stochasticLineFindings(c stochasticConfig, pairs []*pairResult) []report.Finding {
	det, noised, sde := pairs[0], pairs[len(pairs)-2], pairs[len(pairs)-1]
	return []report.Finding{
		{
			Claim: "Noise added to the line lets the ODE's inverse recover the 8 gaussians.",
			Measured: fmt.Sprintf("inverse W2 %.3f for the plain line, %s; mode aspect %.2f plain, %.2f at σ = %g (source %.2f).",
				det.InverseW2, pairSeries(pairs[1:len(pairs)-1], c.Sigmas), det.ModeAspect, noised.ModeAspect, c.Sigmas[len(c.Sigmas)-1], det.SourceAspect),
			Criterion: "at the largest σ: inverse W2 < ½ of the plain line's and mode aspect > ½ of the source's",
			Verdict: verdict(noised.InverseW2 < det.InverseW2/2 && noised.ModeAspect > det.SourceAspect/2,
				noised.InverseW2 < det.InverseW2/2 || noised.ModeAspect > det.SourceAspect/2),
		},
		{
			Claim: "A stochastic interpolant (γ > 0) sampled with its SDE turns the plain line back into the 8 gaussians.",
			Measured: fmt.Sprintf("inverse W2 %.3f (ODE, γ = 0: %.3f); modes %d/8; mode aspect %.2f (source %.2f).",
				sde.InverseW2, det.InverseW2, sde.InverseModes, sde.ModeAspect, det.SourceAspect),
			Criterion: "inverse W2 < ½ of the deterministic flow's and mode aspect > ½ of the source's",
			Verdict: verdict(sde.InverseW2 < det.InverseW2/2 && sde.ModeAspect > det.SourceAspect/2,
				sde.InverseW2 < det.InverseW2/2 || sde.ModeAspect > det.SourceAspect/2),
		}}
}

// stochasticRankFindings judges the noised rank-64 sources and the SDE.
func stochasticRankFindings(c stochasticConfig, runs []*rankRun) []report.Finding {
	g := c.Gauss
	r0, rSDE := runs[0], runs[len(c.Epss)+1]
	rEps := runs[1] // the ε whose flow is closest to Chi(D)
	for _, r := range runs[1 : len(c.Epss)+1] {
		if r.KSFull < rEps.KSFull {
			rEps = r
		}
	}
	dead := func(r *rankRun) float64 {
		if r.DeadVar == nil {
			return math.NaN()
		}
		return *r.DeadVar
	}
	return []report.Finding{
		{
			Claim: fmt.Sprintf("Variance ε in the dead directions lets the ODE reach Chi(%d), at the price of a map with Lipschitz constant √(1/ε).", g.D),
			Measured: fmt.Sprintf("KS against Chi(%d): %.3f plain, %.3f at ε = %g (Lipschitz √(1/ε) = %.3g); dead-direction variance %.3g → %.3g (target 1).",
				g.D, r0.KSFull, rEps.KSFull, rEps.Eps, math.Sqrt(1/rEps.Eps), dead(r0), dead(rEps)),
			Criterion: "at the ε with the smallest KS (every ε is in the table): KS < ⅓ of the plain source's and dead variance > 0.5",
			Verdict:   verdict(rEps.KSFull < r0.KSFull/3 && dead(rEps) > 0.5, rEps.KSFull < r0.KSFull/3 || dead(rEps) > 0.5),
		},
		{
			Claim: fmt.Sprintf("A stochastic interpolant sampled with its SDE carries the rank-%d source to Chi(%d).", g.D/2, g.D),
			Measured: fmt.Sprintf("KS against Chi(%d): %.3f with the SDE, %.3f for the deterministic flow; dead-direction variance %.3g (deterministic %.3g, target 1).",
				g.D, rSDE.KSFull, r0.KSFull, dead(rSDE), dead(r0)),
			Criterion: "KS < ⅓ of the deterministic flow's and dead variance > 0.5",
			Verdict:   verdict(rSDE.KSFull < r0.KSFull/3 && dead(rSDE) > 0.5, rSDE.KSFull < r0.KSFull/3 || dead(rSDE) > 0.5),
		}}
}

// pairSeries lists the inverse W2 of the noised pairs.
func pairSeries(pairs []*pairResult, sigmas []float64) string {
	out := ""
	for i, p := range pairs {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%.3f at σ = %g", p.InverseW2, sigmas[i])
	}
	return out
}
