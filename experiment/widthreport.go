package experiment

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
)

// widthFigures draws the norm histograms, the norms against training
// length, the slopes and the excess loss, every seed of every cell.
func widthFigures(e *env, c widthConfig, cells []*widthCell) ([]report.Figure, error) {
	ps := widthPoints(cells)
	var figs []report.Figure
	for _, f := range []func(*env, widthConfig, []widthPoint) ([]report.Figure, error){widthNormFigures, widthTrainingFigure, widthSlopeFigure, widthExcessFigure} {
		fs, err := f(e, c, ps)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fs...)
	}
	return figs, nil
}

// widthNormFigures draws, per network and k, the density of the norms of
// f(x) in a grid of width × steps, one curve per seed.
func widthNormFigures(e *env, c widthConfig, ps []widthPoint) ([]report.Figure, error) {
	var figs []report.Figure
	for _, n := range c.Nets {
		arch := n.name()
		for _, k := range c.Ks {
			var panels []plot.LinePanel
			lo, hi := widthNormRange(c, k)
			xs := grid(lo, hi, 200)
			edges, _ := plot.Histogram(nil, lo, hi, widthNormBins)
			for _, wl := range c.Widths {
				if n.Only != "" && n.Only != wl {
					continue
				}
				for _, st := range c.Steps {
					p := plot.LinePanel{XLabel: "‖f(x)‖", YLabel: "density", Curves: []plot.Curve{
						{Label: fmt.Sprintf("target Chi(%d)", k), X: xs, Y: curve(xs, chiPDF(k, math.Sqrt(c.VarB))), Dashed: true},
						{Label: "source", X: xs, Y: curve(xs, chiPDF(k, math.Sqrt(c.VarA))), Dashed: true},
					}}
					for _, x := range ps {
						if x.K == k && x.WLabel == wl && x.Steps == st && x.Net.name() == arch {
							p.Title = fmt.Sprintf("w=%d (%s), %d steps", x.W, wl, st)
							p.Curves = append(p.Curves, plot.Curve{Label: fmt.Sprintf("seed %d", x.Seed), X: centres(edges), Y: x.NormHist})
						}
					}
					panels = append(panels, p)
				}
			}
			name := fmt.Sprintf("norms_k%d_%s.png", k, slug(arch))
			err := plot.LineGrid(e.figure(name),
				fmt.Sprintf("‖f(x)‖, x ~ N(0,½I_%d), %s: rows width w, columns training steps, one curve per seed", k, arch),
				len(c.Steps), panels, 300, 210)
			if err != nil {
				return nil, err
			}
			figs = append(figs, report.Figure{File: name, Caption: fmt.Sprintf(
				"Density of the norms of the learned flow's output for k = %d (%s), one curve per seed, with the target's Chi(%d) density and the source's (dashed). The training lengths are snapshots of one run per seed.", k, arch, k)})
		}
	}
	return figs, nil
}

// widthTrainingFigure draws, per network, k and width, the mean norm of
// f(x) against the training length, one curve per seed.
func widthTrainingFigure(e *env, c widthConfig, ps []widthPoint) ([]report.Figure, error) {
	var panels []plot.LinePanel
	xs := make([]float64, len(c.Steps))
	for i, st := range c.Steps {
		xs[i] = math.Log10(float64(st))
	}
	for _, arch := range widthNets(c) {
		for _, k := range c.Ks {
			chi := chiMean(k, math.Sqrt(c.VarB))
			for _, wl := range c.Widths {
				p := plot.LinePanel{Title: fmt.Sprintf("k=%d %s, %s", k, wl, arch), XLabel: "log₁₀ steps", YLabel: "mean ‖f(x)‖",
					Curves: []plot.Curve{{Label: fmt.Sprintf("Chi(%d) mean", k), X: xs, Y: curve(xs, func(float64) float64 { return chi }), Dashed: true}}}
				for s := range c.Seeds {
					ys := make([]float64, len(c.Steps))
					for i, st := range c.Steps {
						ys[i] = math.NaN()
						for _, x := range ps {
							if x.K == k && x.WLabel == wl && x.Steps == st && x.Seed == s+1 && x.Net.name() == arch {
								ys[i] = x.MeanNorm
							}
						}
					}
					p.Curves = append(p.Curves, plot.Curve{Label: fmt.Sprintf("seed %d", s+1), X: xs, Y: ys})
				}
				panels = append(panels, p)
			}
		}
	}
	if err := plot.LineGrid(e.figure("norm_vs_steps.png"), "mean ‖f(x)‖ against training length: rows network and k, columns width", len(c.Widths), panels, 300, 220); err != nil {
		return nil, err
	}
	return []report.Figure{{File: "norm_vs_steps.png", Caption: "The learned flow's mean output norm against the training length (snapshots of one run per seed; one curve per seed), with the target's Chi mean (dashed): below it the flow falls short, above it overshoots."}}, nil
}

// widthSlopeFigure draws each learned field's slope ĉ(t) against c(t) at
// the longest training, one curve per seed.
func widthSlopeFigure(e *env, c widthConfig, ps []widthPoint) ([]report.Figure, error) {
	longest := c.Steps[len(c.Steps)-1]
	var lp []plot.LinePanel
	for _, arch := range widthNets(c) {
		for _, k := range c.Ks {
			for _, wl := range c.Widths {
				pan := plot.LinePanel{Title: fmt.Sprintf("k=%d %s, %s", k, wl, arch), XLabel: "t", YLabel: "ĉ(t) = E[v·x] / E[|x|²]"}
				for _, x := range ps {
					if x.K == k && x.WLabel == wl && x.Net.name() == arch && x.Steps == longest {
						if len(pan.Curves) == 0 {
							pan.Curves = append(pan.Curves, plot.Curve{Label: "exact c(t)", X: c.SlopeT, Y: x.SlopeExact, Dashed: true})
						}
						pan.Curves = append(pan.Curves, plot.Curve{Label: fmt.Sprintf("seed %d", x.Seed), X: c.SlopeT, Y: x.Slope})
					}
				}
				lp = append(lp, pan)
			}
		}
	}
	if err := plot.LineGrid(e.figure("slopes.png"), fmt.Sprintf("the learned field's slope along x against the exact c(t), %d steps: rows network and k, columns width", longest), len(c.Widths), lp, 300, 220); err != nil {
		return nil, err
	}
	return []report.Figure{{File: "slopes.png", Caption: "v*(x,t) = c(t)·x: the slope ĉ(t) of each learned field (one curve per seed) against the exact c(t) (dashed), at the longest training. c(t) < 0 before t = a/(a+b), where the flow contracts."}}, nil
}

// widthExcessFigure draws the relative excess loss at the longest training.
func widthExcessFigure(e *env, c widthConfig, ps []widthPoint) ([]report.Figure, error) {
	longest := c.Steps[len(c.Steps)-1]
	h := plot.Heatmap{
		Title: fmt.Sprintf("excess loss over the floor, relative (%d steps)", longest), XLabel: "hidden width w", YLabel: "",
		XTicks: c.Widths, BarLabel: "(loss − floor)/floor", Format: "%.3f",
	}
	for _, arch := range widthNets(c) {
		for _, k := range c.Ks {
			row := make([]float64, len(c.Widths))
			for i, wl := range c.Widths {
				row[i] = mean(widthEach(ps, func(x widthPoint) bool {
					return x.K == k && x.WLabel == wl && x.Steps == longest && x.Net.name() == arch
				}, func(x widthPoint) float64 { return x.RelExcess }))
			}
			h.Values = append(h.Values, row)
			h.YTicks = append(h.YTicks, fmt.Sprintf("k=%d %s", k, arch))
		}
	}
	if err := h.Save(e.figure("excess_loss.png"), 760, 120+70*len(h.Values)); err != nil {
		return nil, err
	}
	return []report.Figure{{File: "excess_loss.png", Caption: "Excess of the flow-matching loss over its floor (π/2)√(ab)·k, relative to the floor, at the longest training: the mean over seeds (each seed's value and the interval are in metrics.json)."}}, nil
}

// widthCriteria are the width experiment's rules.
func widthCriteria() map[string]criterion {
	return named("width", map[string]criterion{
		"rank": {Metric: "Jacobian rank − w", Cmp: "<", Lo: 0.5, Every: true,
			Why: "the theorem: the Jacobian factors through the narrowest layer, so its rank is an integer ≤ w"},
		"bound": {Metric: "(excess loss + 3 s.e.) / ((k−w)·E[v*_i²]), w < k, longest training", Cmp: ">", Lo: 1, Every: true,
			Why: "the theorem: a field of rank ≤ w misses at least the part of v* outside any w-dimensional space; 3 standard errors absorb the loss estimate's sampling error"},
		"hard": {Metric: "(mean KS of w < k − mean KS of w ≥ k) / KS bound, raw-t MLP, longest training", Cmp: ">", Lo: 1,
			Why: "a difference of one 95 % KS sampling bound is the least a sample can resolve"},
		"imperfect": {Metric: "mean KS of w ≥ k against Chi(k) / KS bound, raw-t MLP, longest training", Cmp: ">", Lo: 2,
			Why: "within twice the sampling bound a flow counts as reaching the law (the rank experiment's control criterion)"},
		"undertrained": {Metric: "norm gap at the longest training / at the shortest, w ≥ k", Cmp: "<", Lo: 0.5,
			Why: "halving the gap between the learned mean norm and the Chi mean is a clear effect of training, not noise"},
		"wide": {Metric: "max over w ≥ k cells of (excess + 3 s.e.) / E[v*_i²], longest training", Cmp: "<", Lo: 1,
			Why: "E[v*_i²] is the least excess of any field of rank ≤ k−1 (the rank bound at w = k−1), so of any w < k network: below it, w ≥ k does what none of them can"},
		"control": {Metric: "KS of the learned-t FiLM at the widest w against Chi(k) / KS bound, longest training", Cmp: "<", Lo: 2,
			Why: "within twice the sampling bound a flow counts as reaching the law (as in imperfect): the control that shows the recipe can converge"},
		"time": {Metric: "mean ĉ/c at t = 0.1, other networks − raw-t MLP, w ≥ k, longest training", Cmp: ">", Lo: 0.3,
			Why: "the gap between the two thresholds first stated (raw-t below ½, the others above 0.8)"},
	})
}

// widthFindings: the seed's claims, flowlab's hypotheses, the theorems;
// then the table of cells.
func widthFindings(c widthConfig, cells []*widthCell) ([]report.Finding, []report.Table) {
	ps := widthPoints(cells)
	cr := widthCriteria()
	longest, first := c.Steps[len(c.Steps)-1], c.Steps[0]
	bound := ksBound(c.FlowN)
	// perSeed returns, per seed, the mean of f over the points keep selects.
	perSeed := func(keep func(x widthPoint) bool, f func(x widthPoint) float64) []float64 {
		out := make([]float64, c.Seeds)
		for s := range out {
			out[s] = mean(widthEach(ps, func(x widthPoint) bool { return x.Seed == s+1 && keep(x) }, f))
		}
		return out
	}
	raw := func(x widthPoint) bool { return x.Net.raw() }
	at := func(st int, narrow bool, net func(widthPoint) bool) func(widthPoint) bool {
		return func(x widthPoint) bool { return x.Steps == st && (x.W < x.K) == narrow && net(x) }
	}
	ks := func(x widthPoint) float64 { return x.KS }
	narrowKS, wideKS := perSeed(at(longest, true, raw), ks), perSeed(at(longest, false, raw), ks)
	hard, imperfect := make([]float64, c.Seeds), make([]float64, c.Seeds)
	for s := range hard {
		hard[s], imperfect[s] = (narrowKS[s]-wideKS[s])/bound, wideKS[s]/bound
	}
	gap := func(x widthPoint) float64 { return math.Abs(x.MeanNorm-x.ChiMean) / x.ChiMean }
	all := func(widthPoint) bool { return true }
	g0, g1 := perSeed(at(first, false, all), gap), perSeed(at(longest, false, all), gap)
	ratio := make([]float64, c.Seeds)
	for s := range ratio {
		ratio[s] = g1[s] / g0[s]
	}
	r := func(x widthPoint) float64 { return x.Slope[1] / x.SlopeExact[1] }
	rawR, otherR := perSeed(at(longest, false, raw), r), perSeed(at(longest, false, func(x widthPoint) bool { return !raw(x) }), r)
	timeGap := make([]float64, c.Seeds)
	for s := range timeGap {
		timeGap[s] = otherR[s] - rawR[s]
	}
	widest := c.Widths[len(c.Widths)-1]
	control := perSeed(func(x widthPoint) bool {
		return x.Steps == longest && x.WLabel == widest && x.Net.Embed && x.Net.plain()
	}, ks)
	for s := range control {
		control[s] /= bound
	}
	fs := findings(
		test{kind: seedClaim, claim: "“Mapping between two zero-mean isotropic Gaussians in k dimensions is hard if k > w, where w is the smallest width of the neural network.”",
			crit: cr["hard"], values: hard, note: fmt.Sprintf("Mean KS w < k: %s; w ≥ k: %s; KS bound %.4f (n = %d).", tInterval(narrowKS), tInterval(wideKS), bound, c.FlowN)},
		test{kind: seedClaim, claim: "“With (lots) more training, the neural network can get better, but it's still not perfect. A high dimensional Gaussian is surprisingly hard to learn.”",
			crit: cr["imperfect"], values: imperfect},
		test{kind: hypothesis, claim: "The seed's norm shortfall is undertraining: with more steps, the learned norms of w ≥ k networks approach the Chi(k) mean.",
			crit: cr["undertrained"], values: ratio, note: fmt.Sprintf("Gap %s at %d steps, %s at %d steps.", tInterval(g0), first, tInterval(g1), longest)},
		test{kind: hypothesis, claim: "Given enough steps, w ≥ k reaches a loss that no w < k network can.",
			crit: cr["wide"], values: widthWideRatios(c, ps, longest)},
		test{kind: hypothesis, claim: fmt.Sprintf("The control: FiLM with a learned time embedding at w = %s, on the same recipe, carries N(0,½I_k) to N(0,I_k).", widest),
			crit: cr["control"], values: control},
		test{kind: hypothesis, claim: "flowlab's diagnosis: with t as one raw input column the MLP misses the early, contracting phase of v* = c(t)·x (c(t) < 0); time features or FiLM learn it.",
			crit: cr["time"], values: timeGap},
		test{kind: codeCheck, claim: "The learned field's Jacobian has rank ≤ w (the narrowest hidden width).",
			crit: cr["rank"], values: widthEach(ps, all, func(x widthPoint) float64 { return float64(x.JacRankMax - x.W) })},
		test{kind: codeCheck, claim: "w < k cannot express v*: its excess loss is at least (k−w)·E[v*_i²].",
			crit: cr["bound"], values: widthEach(ps, func(x widthPoint) bool { return x.Steps == longest && x.W < x.K },
				func(x widthPoint) float64 { return (x.Excess + 3*x.LossSE) / x.RankBound })},
	)
	return fs, []report.Table{widthTable(ps)}
}

// widthEach returns f of every point keep selects.
func widthEach(ps []widthPoint, keep func(widthPoint) bool, f func(widthPoint) float64) []float64 {
	var v []float64
	for _, x := range ps {
		if keep(x) {
			v = append(v, f(x))
		}
	}
	return v
}

// widthWideRatios returns, per seed, the largest (excess + 3 s.e.) over
// E[v*_i²] among the w ≥ k points at the longest training.
func widthWideRatios(c widthConfig, ps []widthPoint, longest int) []float64 {
	out := make([]float64, c.Seeds)
	for _, x := range ps {
		if x.Steps == longest && x.W >= x.K {
			least := c.VarA + c.VarB - x.LossFloor/float64(x.K)
			out[x.Seed-1] = max(out[x.Seed-1], (x.Excess+3*x.LossSE)/least)
		}
	}
	return out
}

// widthStats is the per-cell interval of each metric, at each training
// length.
func widthStats(cells []*widthCell) []cellStat {
	return cellStats(widthPoints(cells), func(x widthPoint) string {
		return fmt.Sprintf("k=%d w=%d %s %d steps", x.K, x.W, x.Net.name(), x.Steps)
	}, func(x widthPoint) []metric {
		return []metric{{"rel_excess", x.RelExcess}, {"rel_l2_error", x.RelL2}, {"mean_norm", x.MeanNorm}, {"ks", x.KS}, {"jacobian_rank_max", float64(x.JacRankMax)}}
	})
}

// widthTable lists every cell at every training length.
func widthTable(ps []widthPoint) report.Table {
	tab := report.Table{
		Caption: "Every cell at every training length (snapshots of one run): loss against its floor, relative L2 error of v against v*, norms of f(x) against Chi(k), and the Jacobian's numerical rank.",
		Columns: []string{"k", "w", "network", "steps", "seed", "loss", "floor", "excess/floor", "rank bound", "‖v−v*‖/‖v*‖", "mean ‖f(x)‖", "Chi mean", "KS", "Jacobian ranks"},
	}
	for _, x := range ps {
		tab.Rows = append(tab.Rows, []any{x.K, x.W, x.Net.name(), x.Steps, x.Seed, x.Loss, x.LossFloor, x.RelExcess, x.RankBound,
			x.RelL2, x.MeanNorm, x.ChiMean, x.KS, fmt.Sprint(x.JacRanks)})
	}
	return tab
}
