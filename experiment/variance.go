package experiment

import (
	"fmt"
	"math"
	"slices"
	"time"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
	"github.com/flowlab/flowlab/train"
)

// varianceSpec: the seed's 2-D example of "not enough variance".
func varianceSpec() spec {
	p := plan[varianceConfig, *pairResult]{
		setup: varianceSetup, cells: varianceCells, measure: varianceMeasure,
		figures: varianceFigures, findings: varianceFindings,
		stats: func(_ varianceConfig, ps []*pairResult) []cellStat { return pairStats(ps) },
	}
	return spec{
		name:     "variance",
		title:    "creating variation: 8 gaussians ↔ moons and ↔ line",
		question: "With identical hyperparameters, can a deterministic flow carry the 8 gaussians to a 2-D set (moons) and to a 1-D set (a line), and back?",
		claim: "“Here we learn a flow from; 1. moons to 8-Gaussian dataset 2. line to 8-Gaussian dataset while keeping every other hyperparameter the same … " +
			"However we see that the learned flow is not able to map the line to the 8-Gaussian dataset.” " +
			"(flowlab: an ODE flow is a homeomorphism and cannot turn a line into a 2-D density.)",
		run: p.run,
	}
}

// varianceConfig is the variance experiment's setting: the 2-D training
// recipe, the seeds, and the exact flow that calibrates the metrics.
type varianceConfig struct {
	toyConfig
	Seeds int    `json:"seeds"`
	Floor string `json:"floor"`
	Ideal string `json:"ideal"`
}

func varianceSetup(s Scale) varianceConfig {
	return varianceConfig{
		toyConfig: toySetup(s), Seeds: seedsFor(s),
		Floor: "W2 between two independent samples of the same law and size (the source's for the inverse flow, the target's for the forward one), measured per seed",
		Ideal: "the exact field of the linear interpolant from N(0, I_2) to the 8 gaussians (exact.EightGaussians), integrated with RK4 both ways: what a perfect flow between two 2-D densities reads on these metrics",
	}
}

// pairResult is one trained pair: a flow f from Source to Target.
type pairResult struct {
	Source       string  `json:"source"`
	Target       string  `json:"target"`
	Gamma        string  `json:"gamma,omitempty"`
	Sampler      string  `json:"sampler"` // ode, or sde:eps=…
	Seed         int     `json:"seed"`
	FinalLoss    float64 `json:"final_loss"`
	ForwardW2    float64 `json:"forward_w2"`      // f(source) against target
	InverseW2    float64 `json:"inverse_w2"`      // f⁻¹(target) against source
	BaselineW2   float64 `json:"baseline_w2"`     // two independent source samples: the inverse's sampling floor
	TargetW2     float64 `json:"target_floor_w2"` // two independent target samples: the forward's sampling floor
	ForwardMMD   float64 `json:"forward_mmd"`     //
	InverseMMD   float64 `json:"inverse_mmd"`     //
	InverseModes int     `json:"inverse_modes"`   // 8-gaussian modes covered by f⁻¹(target)
	ModeAspect   float64 `json:"inverse_mode_aspect"`
	SourceAspect float64 `json:"source_mode_aspect"`
	ModeCounts   []int   `json:"inverse_mode_counts"`
	// Figure state (seed 1 only, the figures' seed; at most panelPoints
	// points each): source, f(source), f⁻¹(target), target. Kept in a
	// cell's result file, left out of metrics.json.
	Panels [4]*mat.Dense `json:"panels,omitzero" figure:"true"`
}

// panelPoints is the most points a scatter panel keeps.
const panelPoints = 1000

// pairEval measures a trained pair from its four samples: source, f(source),
// f⁻¹(target), target, and independent source and target samples for the
// sampling floors.
func pairEval(e *env, p *pairResult, src, fsrc, finv, tgt, src2, tgt2 *mat.Dense, centres [][]float64, sigma float64) error {
	var err error
	if p.TargetW2, err = metrics.W2(e.ctx, tgt2, tgt); err != nil {
		return err
	}
	if p.ForwardW2, err = metrics.W2(e.ctx, fsrc, tgt); err != nil {
		return err
	}
	if p.InverseW2, err = metrics.W2(e.ctx, finv, src); err != nil {
		return err
	}
	if p.BaselineW2, err = metrics.W2(e.ctx, src2, src); err != nil {
		return err
	}
	p.ForwardMMD = metrics.MMD(fsrc, tgt, nil)
	p.InverseMMD = metrics.MMD(finv, src, nil)
	// A mode is covered when it holds a quarter of its fair share within 3σ.
	m := metrics.ModeCoverage(finv, centres, 3*sigma, 1.0/float64(4*len(centres)))
	p.InverseModes, p.ModeCounts = m.Covered, m.Counts
	p.ModeAspect = modeAspect(finv, centres, 3*sigma)
	p.SourceAspect = modeAspect(src, centres, 3*sigma)
	if p.Seed == 1 {
		for k, m := range []*mat.Dense{src, fsrc, finv, tgt} {
			p.Panels[k] = m.Rows(0, min(m.R, panelPoints))
		}
	}
	return nil
}

// modeAspect measures how two-dimensional the points near each centre are:
// for every centre with at least 10 points within radius (nearest centre),
// the ratio λ_min/λ_max of their 2×2 covariance, averaged over those centres.
// An isotropic Gaussian mode gives ≈ 1; a curve threaded through the mode
// gives ≈ 0. NaN when no centre has 10 points.
func modeAspect(x *mat.Dense, centres [][]float64, radius float64) float64 {
	groups := make([][][2]float64, len(centres))
	for i := range x.R {
		px, py := float64(x.At(i, 0)), float64(x.At(i, 1))
		best, bd := -1, math.Inf(1)
		for k, c := range centres {
			if d := (px-c[0])*(px-c[0]) + (py-c[1])*(py-c[1]); d < bd {
				best, bd = k, d
			}
		}
		if bd <= radius*radius {
			groups[best] = append(groups[best], [2]float64{px, py})
		}
	}
	sum, n := 0.0, 0
	for _, g := range groups {
		if len(g) < 10 {
			continue
		}
		var mx, my float64
		for _, p := range g {
			mx += p[0]
			my += p[1]
		}
		mx /= float64(len(g))
		my /= float64(len(g))
		var sxx, sxy, syy float64
		for _, p := range g {
			sxx += (p[0] - mx) * (p[0] - mx)
			sxy += (p[0] - mx) * (p[1] - my)
			syy += (p[1] - my) * (p[1] - my)
		}
		var eig gmat.EigenSym
		if !eig.Factorize(gmat.NewSymDense(2, []float64{sxx, sxy, sxy, syy}), false) {
			continue
		}
		v := eig.Values(nil) // ascending
		if v[1] > 0 {
			sum += max(v[0], 0) / v[1]
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// trainPair trains the flow from src to tgt and fills p's metrics.
func trainPair(e *env, c toyConfig, p *pairResult, cfg train.Config, label string, i int) error {
	t0 := time.Now()
	src, err := dist.Parse(p.Source)
	if err != nil {
		return err
	}
	tgt, err := dist.Parse(p.Target)
	if err != nil {
		return err
	}
	res, err := train.Fit(e.ctx, src, tgt, cfg, train.Options{})
	if err != nil {
		return fmt.Errorf("%s → %s: %w", p.Source, p.Target, err)
	}
	p.FinalLoss, _ = res.FinalLoss(100)
	rng := newRNG(e.seed, label+"-eval", i, p.Seed)
	xs, xt, xs2, xt2 := draw(src, c.EvalN, rng), draw(tgt, c.EvalN, rng), draw(src, c.EvalN, rng), draw(tgt, c.EvalN, rng)
	smp, err := newSampler(res, c.SDESteps)
	if err != nil {
		return err
	}
	p.Sampler = smp.name
	fwd, err := smp.push(e.ctx, xs, false, rng)
	if err != nil {
		return err
	}
	inv, err := smp.push(e.ctx, xt, true, rng)
	if err != nil {
		return err
	}
	g, _ := dist.NewToy2D("8gaussians", "")
	centres, sigma := g.Centres(), eightSigma(g)
	if err := pairEval(e, p, xs, fwd, inv, xt, xs2, xt2, centres, sigma); err != nil {
		return err
	}
	e.logf("%s → %s seed %d: forward W2 %.3f, inverse W2 %.3f (baseline %.3f), inverse modes %d, aspect %.2f [%.1fs]",
		p.Source, p.Target, p.Seed, p.ForwardW2, p.InverseW2, p.BaselineW2, p.InverseModes, p.ModeAspect, time.Since(t0).Seconds())
	return nil
}

// eightSigma is the per-coordinate standard deviation of the 8 gaussians.
func eightSigma(g *dist.Toy2D) float64 { return math.Sqrt(g.Var) }

// The exact row's endpoints.
const (
	idealSource = "gaussian:dim=2,var=1"
	idealTarget = "8gaussians"
)

// varianceCells: per seed, the two pairs (8 gaussians → moons and → line)
// and the exact flow between N(0, I_2) and the 8 gaussians.
func varianceCells(_ *env, c varianceConfig) ([]*pairResult, error) {
	var ps []*pairResult
	for s := range c.Seeds {
		ps = append(ps,
			&pairResult{Source: "8gaussians", Target: "moons", Seed: s + 1},
			&pairResult{Source: "8gaussians", Target: "line", Seed: s + 1},
			&pairResult{Source: idealSource, Target: idealTarget, Seed: s + 1, Sampler: "exact field, rk4"})
	}
	return ps, nil
}

// varianceMeasure trains one pair (identical hyperparameters and
// initialisation for both targets of a seed) or integrates the exact field.
func varianceMeasure(e *env, c varianceConfig, p *pairResult) error {
	if p.Source == idealSource {
		return idealPair(e, c.toyConfig, p)
	}
	i := 0
	if p.Target == "line" {
		i = 1
	}
	return trainPair(e, c.toyConfig, p, c.train(c.Hidden, subSeed(e.seed, "variance", p.Seed)), "variance", i)
}

// idealPair pushes samples through the exact 8-gaussian field both ways
// and measures them like a trained pair (the modes on the forward image,
// where the 8 gaussians are).
func idealPair(e *env, c toyConfig, p *pairResult) error {
	src, err := dist.Parse(p.Source)
	if err != nil {
		return err
	}
	tgt, err := dist.Parse(p.Target)
	if err != nil {
		return err
	}
	field := exact.EightGaussians()
	rng := newRNG(e.seed, "variance-ideal", p.Seed)
	xs, xt, xs2, xt2 := draw(src, c.EvalN, rng), draw(tgt, c.EvalN, rng), draw(src, c.EvalN, rng), draw(tgt, c.EvalN, rng)
	fwd, err := flow(e.ctx, field, xs, false)
	if err != nil {
		return err
	}
	inv, err := flow(e.ctx, field, xt, true)
	if err != nil {
		return err
	}
	g, _ := dist.NewToy2D("8gaussians", "")
	if err := pairEval(e, p, xs, fwd, inv, xt, xs2, xt2, g.Centres(), eightSigma(g)); err != nil {
		return err
	}
	m := metrics.ModeCoverage(fwd, g.Centres(), 3*eightSigma(g), 1.0/float64(4*len(g.Centres())))
	p.InverseModes, p.ModeCounts = m.Covered, m.Counts
	p.ModeAspect, p.SourceAspect = modeAspect(fwd, g.Centres(), 3*eightSigma(g)), modeAspect(xt, g.Centres(), 3*eightSigma(g))
	return nil
}

// varianceFigures draws the four panels of each pair for the first seed.
func varianceFigures(e *env, _ varianceConfig, pairs []*pairResult) ([]report.Figure, error) {
	var first []*pairResult
	for _, p := range pairs {
		if p.Seed == 1 {
			first = append(first, p)
		}
	}
	if err := pairFigure(e, "variance.png", "source, f(source), f^-1(target), target (seed 1)", first); err != nil {
		return nil, err
	}
	if err := pairSeedsFigure(e, "seeds.png", "every seed: W2 over the sampling floor", pairs); err != nil {
		return nil, err
	}
	return []report.Figure{
		{File: "variance.png", Caption: "Seed 1. Each row: the source, the flow's image of it, the inverse flow's image of the target, and the target; the last row is the exact field between N(0, I_2) and the 8 gaussians. Every seed's numbers are in the table."},
		{File: "seeds.png", Caption: "The spread over seeds: each pair's inverse and forward W2 in units of the sampling floor, one curve per pair across the seeds, with the criteria's threshold 1.5 dashed."},
	}, nil
}

// pairSeedsFigure draws each pair's W2 over its floor against the seed,
// inverse and forward, one curve per pair.
func pairSeedsFigure(e *env, file, title string, pairs []*pairResult) error {
	var keys []string
	for _, p := range pairs {
		if k := pairKey(p); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	seed := func(p *pairResult) int { return p.Seed }
	var inv, fwd []seedSeries
	for _, k := range keys {
		keep := func(p *pairResult) bool { return pairKey(p) == k }
		inv = append(inv, seriesOf(k, pairs, keep, seed, func(p *pairResult) float64 { return p.InverseW2 / p.BaselineW2 }))
		fwd = append(fwd, seriesOf(k, pairs, keep, seed, func(p *pairResult) float64 { return p.ForwardW2 / p.TargetW2 }))
	}
	th := map[string]float64{"1.5× floor": 1.5}
	return plot.LineGrid(e.figure(file), title, 2, []plot.LinePanel{
		seedPanel("inverse: f^-1(target) vs source", "W2 / floor", inv, th),
		seedPanel("forward: f(source) vs target", "W2 / floor", fwd, th),
	}, 460, 320)
}

// varianceCriteria are the variance experiment's rules.
func varianceCriteria() map[string]criterion {
	return named("variance", map[string]criterion{
		"line": {Metric: "line → 8 gaussians W2 / floor", Cmp: ">", Lo: 1.5,
			Why: "the moons control's threshold, seen from the other side: a flow within 1.5× the sampling floor works"},
		"moons": {Metric: "moons → 8 gaussians W2 / floor", Cmp: "<", Lo: 1.5,
			Why: "1.5× the W2 between two independent samples of the 8 gaussians: a flow within it is as close to the data as a second sample, up to half that again for training error"},
		"forward": {Metric: "max over moons and line of forward W2 / target floor", Cmp: "<", Lo: 1.5,
			Why: "the same 1.5× of the sampling floor, on the target's side"},
		"aspect": {Metric: "line's inverse mode aspect / the source's", Cmp: "<", Lo: 0.5,
			Why: "a curve through the modes has aspect ≈ 0, the 8 gaussians' own modes ≈ 1; half separates them"},
		"ideal": {Metric: "max over both directions of the exact flow's W2 / floor", Cmp: "<", Lo: 1.5,
			Why: "the exact flow is perfect, so W2 must read at the sampling floor: this checks W2 and the integrator"},
	})
}

// varianceFindings: the seed's claim, the controls, the mode shape and the
// exact row; then the table.
func varianceFindings(c varianceConfig, pairs []*pairResult) ([]report.Finding, []report.Table) {
	cr := varianceCriteria()
	by := func(target, source string, f func(p *pairResult) float64) []float64 {
		var v []float64
		for _, p := range pairs {
			if p.Target == target && p.Source == source {
				v = append(v, f(p))
			}
		}
		return v
	}
	inv := func(p *pairResult) float64 { return p.InverseW2 / p.BaselineW2 }
	fwd := func(p *pairResult) float64 { return p.ForwardW2 / p.TargetW2 }
	m, l := by("moons", "8gaussians", fwd), by("line", "8gaussians", fwd)
	worst := make([]float64, len(m))
	for i := range m {
		worst[i] = max(m[i], l[i])
	}
	ideal := by(idealTarget, idealSource, func(p *pairResult) float64 { return max(fwd(p), inv(p)) })
	floor := tInterval(by("moons", "8gaussians", func(p *pairResult) float64 { return p.BaselineW2 }))
	note := func(target string) string {
		return fmt.Sprintf("Inverse W2 %s against a floor of %s (n = %d); modes covered %s of 8.", tInterval(by(target, "8gaussians", func(p *pairResult) float64 { return p.InverseW2 })),
			floor, c.EvalN, tInterval(by(target, "8gaussians", func(p *pairResult) float64 { return float64(p.InverseModes) })))
	}
	fs := findings(
		test{kind: seedClaim, claim: "The learned flow is not able to map the line to the 8 gaussians (the inverse of 8 gaussians → line fails).",
			crit: cr["line"], values: by("line", "8gaussians", inv), note: note("line")},
		test{kind: hypothesis, claim: "Control: with the same hyperparameters, moons → 8 gaussians works.",
			crit: cr["moons"], values: by("moons", "8gaussians", inv), note: note("moons")},
		test{kind: hypothesis, claim: "Forward, both work: the 8 gaussians can be squeezed onto moons and onto a line.",
			crit: cr["forward"], values: worst},
		test{kind: hypothesis, claim: "f⁻¹(line) is a curve through the modes, not the 2-D modes of the 8 gaussians.",
			crit: cr["aspect"], values: by("line", "8gaussians", func(p *pairResult) float64 { return p.ModeAspect / p.SourceAspect })},
		test{kind: codeCheck, claim: "The exact 8-gaussian field's forward and inverse flows read at the sampling floor.",
			crit: cr["ideal"], values: ideal},
	)
	return fs, []report.Table{pairTable(pairs)}
}

// pairStats is the per-pair interval of each metric.
func pairStats(ps []*pairResult) []cellStat {
	return cellStats(ps, func(p *pairResult) string { return pairKey(p) },
		func(p *pairResult) []metric {
			return []metric{{"forward_w2", p.ForwardW2}, {"inverse_w2", p.InverseW2}, {"inverse_floor_w2", p.BaselineW2},
				{"forward_floor_w2", p.TargetW2}, {"inverse_w2_over_floor", p.InverseW2 / p.BaselineW2},
				{"forward_w2_over_floor", p.ForwardW2 / p.TargetW2}, {"modes", float64(p.InverseModes)}, {"mode_aspect", p.ModeAspect}}
		})
}

// pairKey names a pair's cell.
func pairKey(p *pairResult) string {
	k := p.Source + " → " + p.Target
	if p.Gamma != "" {
		k += ", γ " + p.Gamma
	}
	return k
}

// pairTable lists pair metrics.
func pairTable(pairs []*pairResult) report.Table {
	t := report.Table{
		Caption: "W2 is exact (Hungarian assignment) between equal-size samples; each floor is W2 between two independent samples of that law; modes and aspect are measured on the 8 gaussians' side (the inverse image, or the exact row's forward image); MMD uses RBF kernels at ¼…4× the median distance; a mode is covered when it holds ≥ ¼ of its fair share within 3σ; the aspect is λmin/λmax of the points near each mode.",
		Columns: []string{"source", "target", "sampler", "seed", "final loss", "forward W2", "target floor", "inverse W2", "source floor", "forward MMD", "inverse MMD", "modes", "mode aspect"},
	}
	for _, p := range pairs {
		t.Rows = append(t.Rows, []any{p.Source, p.Target, p.Sampler, p.Seed, p.FinalLoss, p.ForwardW2, p.TargetW2, p.InverseW2, p.BaselineW2,
			p.ForwardMMD, p.InverseMMD, p.InverseModes, finite(p.ModeAspect)})
	}
	return t
}

// pairFigure draws the four panels of each pair, one pair per row.
func pairFigure(e *env, file, title string, pairs []*pairResult) error {
	var panels []plot.ScatterPanel
	for _, p := range pairs {
		f := "f"
		if p.Gamma != "" {
			f = "SDE"
		}
		names := [4]string{p.Source, f + "(" + p.Source + ")", f + "^-1(" + p.Target + ")", p.Target}
		for k, m := range p.Panels {
			panels = append(panels, plot.ScatterPanel{Title: names[k], X: coords(m, 0), Y: coords(m, 1), Color: k})
		}
	}
	return plot.ScatterGrid(e.figure(file), title, 4, panels, plot.ScatterOptions{Panel: 230})
}
