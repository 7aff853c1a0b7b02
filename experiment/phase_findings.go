package experiment

import (
	"fmt"
	"math"
	"slices"

	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
)

// phaseRow is one snapshot of one cell.
type phaseRow struct {
	x *phaseCell
	s phaseSnap
}

// phaseRows lists the snapshots at index i (all when i < 0) of the cells
// keep accepts.
func phaseRows(xs []*phaseCell, i int, keep func(x *phaseCell) bool) []phaseRow {
	var rows []phaseRow
	for _, x := range xs {
		if !keep(x) {
			continue
		}
		for j, s := range x.Snaps {
			if i < 0 || j == i {
				rows = append(rows, phaseRow{x, s})
			}
		}
	}
	return rows
}

// phaseValues returns f of each row.
func phaseValues(rows []phaseRow, f func(r phaseRow) float64) []float64 {
	v := make([]float64, len(rows))
	for i, r := range rows {
		v[i] = f(r)
	}
	return v
}

// gridCell selects the grid cells of method m, rank r and width w.
func gridCell(m string, r, w int) func(x *phaseCell) bool {
	return func(x *phaseCell) bool { return x.Grid && x.Method == m && x.Rank == r && x.Width == w }
}

// sweepCell selects the ε sweep's cells (the grid's one at GridEps among
// them).
func (c phaseConfig) sweepCell(eps float64) func(x *phaseCell) bool {
	w := slices.Max(c.Widths)
	return func(x *phaseCell) bool {
		return x.Method == phaseEps && x.Rank == c.SweepRank && x.Width == w && x.Eps == eps
	}
}

// phasePerSeed returns, for each seed, the mean of f over the rows of that seed.
func phasePerSeed(rows []phaseRow, seeds int, f func(r phaseRow) float64) []float64 {
	var out []float64
	for s := 1; s <= seeds; s++ {
		var v []float64
		for _, r := range rows {
			if r.x.Seed == s {
				v = append(v, f(r))
			}
		}
		if len(v) > 0 {
			out = append(out, mean(v))
		}
	}
	return out
}

// exactFieldLip returns σ₁ of the exact field's Jacobian at t for the ε
// fix: the field is diagonal, c(t) on each direction for its source
// variance (the live ones' a, the dead ones' ε) and the target's b.
func exactFieldLip(t, a, eps float64) float64 {
	one, out := []float64{1}, []float64{0}
	s := 0.0
	for _, v := range []float64{a, eps} {
		exact.Isotropic(1, v, phaseB).Eval64(t, one, out)
		s = max(s, math.Abs(out[0]))
	}
	return s
}

// exactFieldPeak returns the largest exact σ₁ over the times ts.
func exactFieldPeak(ts []float64, a, eps float64) float64 {
	p := 0.0
	for _, t := range ts {
		p = max(p, exactFieldLip(t, a, eps))
	}
	return p
}

// phaseFigures draws four heatmaps over the grid (intrinsic dimension, KS
// against Chi(D), dead-direction variance, the field's Lipschitz constant)
// and the summary: intrinsic dimension against r, Lipschitz against √(b/ε).
func phaseFigures(e *env, c phaseConfig, xs []*phaseCell) ([]report.Figure, error) {
	bound := ksCrit(c.Train.FlowN, c.KSAlpha)
	maps := []struct {
		file, title, bar, format string
		log                      bool
		f                        func(s phaseSnap) float64
		caption                  string
	}{
		{"id.png", fmt.Sprintf("intrinsic dimension of the output (TwoNN), D = %d", c.Train.D), "TwoNN dimension", "%.1f", false,
			func(s phaseSnap) float64 { return s.ID },
			fmt.Sprintf("TwoNN intrinsic dimension of the flow's output (n = %d), mean over seeds, per method and source rank r (rows) and width and training steps (columns). A flow that keeps the source's dimension reads r, one that reaches the target reads D = %d (the estimator on an N(0, I_%d) sample of the same size reads the table's ID_D).", c.Train.FlowN, c.Train.D, c.Train.D)},
		{"ks.png", fmt.Sprintf("KS of ‖f(x)‖ against Chi(%d), in KS bounds", c.Train.D), "KS / bound", "%.3g", true,
			func(s phaseSnap) float64 { return s.KS / bound },
			fmt.Sprintf("Kolmogorov–Smirnov statistic of the output's norms against Chi(%d), in units of the %g-level sampling bound %.4f (n = %d), mean over seeds; log colour scale.", c.Train.D, c.KSAlpha, bound, c.Train.FlowN)},
		{"dead.png", "dead-direction variance of the output (target 1)", "variance", "%.2f", false,
			func(s phaseSnap) float64 { return s.DeadVar },
			"Mean variance of the output over the source's dead directions (the target's is 1; the exact ODE from the plain source keeps 0), mean over seeds."},
		{"lipschitz.png", "largest Lipschitz constant along the drift's ODE: max over t of the median σ₁(∂v/∂x)", "σ₁", "%.3g", true,
			func(s phaseSnap) float64 { return s.Lip },
			fmt.Sprintf("The field's local Lipschitz constant σ₁(∂v/∂x) from the network's JVPs at %d source points carried by the drift's ODE, its median over the points at each of %d times, the largest over the times; mean over seeds, log colour scale. For the SDE cells: the drift's (probability-flow) ODE.", c.DiagN, len(c.DiagTimes))},
	}
	var figs []report.Figure
	for _, m := range maps {
		if err := phaseHeatmap(e, c, xs, m.file, m.title, m.bar, m.format, m.log, m.f); err != nil {
			return nil, err
		}
		figs = append(figs, report.Figure{File: m.file, Caption: m.caption})
	}
	if err := phaseSummaryFigure(e, c, xs); err != nil {
		return nil, err
	}
	return append(figs, report.Figure{File: "summary.png", Caption: fmt.Sprintf(
		"Left: intrinsic dimension of the output against the source rank r (width %d, %d steps, mean over seeds), with the estimator on a rank-r Gaussian and on N(0, I_%d) of the same size (dashed). "+
			"Right: the ε fix at r = %d: log10 of the flow map's σ₁ (median over points) and of the field's largest median σ₁ against log10 √(b/ε), with the exact map's √(b/ε) and the exact field's peak at the measured times (dashed).",
		slices.Max(c.Widths), c.Steps[len(c.Steps)-1], c.Train.D, c.SweepRank)}), nil
}

// phaseHeatmap draws f's mean over seeds: rows method × rank (the ODE on
// top), columns width × steps.
func phaseHeatmap(e *env, c phaseConfig, xs []*phaseCell, file, title, bar, format string, log bool, f func(s phaseSnap) float64) error {
	var vals [][]float64
	var yt, xt []string
	for _, w := range c.Widths {
		for _, s := range c.Steps {
			xt = append(xt, fmt.Sprintf("w %d, %d st.", w, s))
		}
	}
	for mi := len(phaseMethods) - 1; mi >= 0; mi-- {
		m := phaseMethods[mi]
		for ri := len(c.Ranks) - 1; ri >= 0; ri-- {
			r := c.Ranks[ri]
			var row []float64
			for _, w := range c.Widths {
				for i := range c.Steps {
					row = append(row, mean(phaseValues(phaseRows(xs, i, gridCell(m.id, r, w)), func(p phaseRow) float64 { return f(p.s) })))
				}
			}
			vals = append(vals, row)
			yt = append(yt, fmt.Sprintf("%s, r = %d", m.label, r))
		}
	}
	h := plot.Heatmap{Title: title, XLabel: "width w, training steps", YLabel: "method, source rank r",
		XTicks: xt, YTicks: yt, Values: vals, Format: format, Log: log, BarLabel: bar}
	return h.Save(e.figure(file), 150+95*len(xt)+90, 110+32*len(yt))
}

// phaseSummaryFigure draws the intrinsic dimension against r and the ε
// fix's Lipschitz constants against √(b/ε).
func phaseSummaryFigure(e *env, c phaseConfig, xs []*phaseCell) error {
	last, wMax := len(c.Steps)-1, slices.Max(c.Widths)
	rs := make([]float64, len(c.Ranks))
	idOf := func(m string, f func(p phaseRow) float64) []float64 {
		v := make([]float64, len(c.Ranks))
		for i, r := range c.Ranks {
			rs[i] = float64(r)
			v[i] = mean(phaseValues(phaseRows(xs, last, gridCell(m, r, wMax)), f))
		}
		return v
	}
	id := func(p phaseRow) float64 { return p.s.ID }
	left := plot.LinePanel{Title: fmt.Sprintf("intrinsic dimension against r (w %d, %d steps)", wMax, c.Steps[last]), XLabel: "source rank r", YLabel: "TwoNN dimension", LegendBottom: true, LegendRight: true}
	for _, m := range phaseMethods {
		left.Curves = append(left.Curves, plot.Curve{Label: m.label, X: rs, Y: idOf(m.id, id)})
	}
	left.Curves = append(left.Curves,
		plot.Curve{Label: "rank-r Gaussian", X: rs, Y: idOf(phaseODE, func(p phaseRow) float64 { return p.x.RefRank }), Dashed: true},
		plot.Curve{Label: fmt.Sprintf("N(0, I_%d)", c.Train.D), X: rs, Y: idOf(phaseODE, func(p phaseRow) float64 { return p.x.RefFull }), Dashed: true})
	right := plot.LinePanel{Title: fmt.Sprintf("ε fix, r = %d, w %d: Lipschitz against √(b/ε)", c.SweepRank, wMax), XLabel: "log10 √(b/ε)", YLabel: "log10 σ₁"}
	var lx, flow, field, exMap, exField []float64
	for _, eps := range c.SweepEps {
		rows := phaseRows(xs, last, c.sweepCell(eps))
		lx = append(lx, math.Log10(math.Sqrt(phaseB/eps)))
		flow = append(flow, math.Log10(mean(phaseValues(rows, func(p phaseRow) float64 { return p.s.FlowLip }))))
		field = append(field, math.Log10(mean(phaseValues(rows, func(p phaseRow) float64 { return p.s.Lip }))))
		exMap = append(exMap, math.Log10(math.Sqrt(phaseB/eps)))
		exField = append(exField, math.Log10(exactFieldPeak(c.DiagTimes, c.Train.Var, eps)))
	}
	right.Curves = []plot.Curve{{Label: "flow map σ₁", X: lx, Y: flow}, {Label: "field: max_t median σ₁", X: lx, Y: field},
		{Label: "exact map √(b/ε)", X: lx, Y: exMap, Dashed: true}, {Label: "exact field's peak", X: lx, Y: exField, Dashed: true}}
	return plot.LineGrid(e.figure("summary.png"), "", 2, []plot.LinePanel{left, right}, 520, 380)
}

// phaseCriteria are the phase experiment's rules, fixed before any result.
func phaseCriteria() map[string]criterion {
	return named("phase", map[string]criterion{
		"ode-keeps": {Metric: "dimension gain of the ODE output, (ID − ID_r)/(ID_D − ID_r) (TwoNN)", Cmp: "<", Lo: 0.25, Every: true,
			Why: "0 reads like a rank-r Gaussian, 1 like N(0, I_D); a quarter of the way is several times the estimates' sampling spread (a bootstrap SD of a few per cent of the dimension) and far from D"},
		"eps-reaches": {Metric: "dimension gain of the ε-fix output (widest network, most steps, mean over ranks)", Cmp: ">", Lo: 0.75,
			Why: "three quarters of the way from r to D: the output reads much nearer N(0, I_D) than the source's rank"},
		"sde-reaches": {Metric: "dimension gain of the SDE output (widest network, most steps, mean over ranks)", Cmp: ">", Lo: 0.75,
			Why: "as for the ε fix"},
		"eps-lip-grows": {Metric: "slope of log σ₁(flow map) against log √(b/ε) over the ε sweep", Cmp: ">", Lo: 0.5,
			Why: "0: the price does not grow as ε shrinks; 1: it grows as the exact map's √(b/ε); halfway between"},
		"eps-lip-price": {Metric: "σ₁(flow map) / √(b/ε) at the sweep's smallest ε", Cmp: "in", Lo: 0.8, Hi: 1.25,
			Why: "the exact map stretches the dead directions by √(b/ε); within a factor 1.25 either way the learned map pays that price"},
		"id-reference": {Metric: "TwoNN of a rank-k Gaussian sample of the output's size / k, k = each r and D", Cmp: "in", Lo: 0.85, Hi: 1.15, Every: true,
			Why: "the estimator must tell r from D: measured earlier within 5 % up to rank 10 and 13 % low at rank 20 (n = 5000); 15 % keeps every r ≤ D/2 apart from D = 16"},
	})
}

// phaseFindings judges the hypotheses: the ODE keeps r, the fixes reach D,
// the ε fix's price grows as √(b/ε); and checks the estimator.
func phaseFindings(c phaseConfig, xs []*phaseCell) ([]report.Finding, []report.Table) {
	cr := phaseCriteria()
	last, wMax := len(c.Steps)-1, slices.Max(c.Widths)
	bound := ksCrit(c.Train.FlowN, c.KSAlpha)
	gain := func(p phaseRow) float64 { return p.s.Gain }
	ks := func(p phaseRow) float64 { return p.s.KS / bound }
	dead := func(p phaseRow) float64 { return p.s.DeadVar }
	grid := func(m string, w int) func(x *phaseCell) bool {
		return func(x *phaseCell) bool { return x.Grid && x.Method == m && (w == 0 || x.Width == w) }
	}
	ode := phaseRows(xs, -1, grid(phaseODE, 0))
	reach := func(m, name string) test {
		rows := phaseRows(xs, last, grid(m, wMax))
		return test{kind: hypothesis, crit: cr[name], values: phasePerSeed(rows, c.Seeds, gain),
			claim: fmt.Sprintf("The %s reaches D = %d: its output's intrinsic dimension reads like N(0, I_%d), from every source rank (width %d, %d steps).", phaseLabel(m), c.Train.D, c.Train.D, wMax, c.Steps[last]),
			note: fmt.Sprintf("KS against Chi(%d) %s bounds; dead-direction variance %s (per seed, mean over ranks).",
				c.Train.D, tInterval(phasePerSeed(rows, c.Seeds, ks)), tInterval(phasePerSeed(rows, c.Seeds, dead)))}
	}
	slopes, price := phaseSweepValues(c, xs)
	fs := findings(
		test{kind: hypothesis, crit: cr["ode-keeps"], values: phaseValues(ode, gain),
			claim: fmt.Sprintf("An ODE flow's output keeps the source's dimension r, whatever the width (%v) and the training steps (%v).", c.Widths, c.Steps),
			note: fmt.Sprintf("TwoNN of the output from %.3g to %.3g over the cells; KS against Chi(%d) from %.3g to %.3g bounds; dead-direction variance from %.3g to %.3g.",
				slices.Min(phaseValues(ode, func(p phaseRow) float64 { return p.s.ID })), slices.Max(phaseValues(ode, func(p phaseRow) float64 { return p.s.ID })),
				c.Train.D, slices.Min(phaseValues(ode, ks)), slices.Max(phaseValues(ode, ks)), slices.Min(phaseValues(ode, dead)), slices.Max(phaseValues(ode, dead)))},
		reach(phaseEps, "eps-reaches"),
		reach(phaseSDE, "sde-reaches"),
		test{kind: hypothesis, crit: cr["eps-lip-grows"], values: slopes,
			claim: fmt.Sprintf("The ε fix's Lipschitz constant grows as ε shrinks, as √(b/ε) (b = %g, the target's variance; r = %d, width %d).", phaseB, c.SweepRank, wMax),
			note:  phaseSweepNote(c, xs)},
		test{kind: hypothesis, crit: cr["eps-lip-price"], values: price,
			claim: fmt.Sprintf("At the smallest ε (%g) the learned map pays the exact price √(b/ε) = %.3g.", slices.Min(c.SweepEps), math.Sqrt(phaseB/slices.Min(c.SweepEps)))},
		test{kind: codeCheck, crit: cr["id-reference"], values: phaseRefValues(c, xs),
			claim: fmt.Sprintf("TwoNN at n = %d tells the ranks %v from D = %d: on Gaussian samples of known rank it reads within 15 %% of the rank.", c.Train.FlowN, c.Ranks, c.Train.D)},
	)
	return fs, []report.Table{phaseGridTable(c, xs), phaseSweepTable(c, xs)}
}

// phaseLabel returns a method's label.
func phaseLabel(m string) string {
	for _, x := range phaseMethods {
		if x.id == m {
			return x.label
		}
	}
	return m
}

// phaseSweepValues returns, per seed, the slope of log σ₁(flow map)
// against log √(b/ε) over the sweep (least squares) and the ratio
// σ₁(flow map)/√(b/ε) at the smallest ε.
func phaseSweepValues(c phaseConfig, xs []*phaseCell) (slopes, price []float64) {
	last := len(c.Steps) - 1
	lo := slices.Min(c.SweepEps)
	for s := 1; s <= c.Seeds; s++ {
		var lx, ly []float64
		for _, eps := range c.SweepEps {
			for _, p := range phaseRows(xs, last, c.sweepCell(eps)) {
				if p.x.Seed != s {
					continue
				}
				lx, ly = append(lx, math.Log(math.Sqrt(phaseB/eps))), append(ly, math.Log(p.s.FlowLip))
				if eps == lo {
					price = append(price, p.s.FlowLip/math.Sqrt(phaseB/eps))
				}
			}
		}
		if len(lx) > 1 {
			slopes = append(slopes, phaseSlope(lx, ly))
		}
	}
	return slopes, price
}

// phaseSlope is the least-squares slope of y on x.
func phaseSlope(x, y []float64) float64 {
	mx, my := mean(x), mean(y)
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	return sxy / sxx
}

// phaseSweepNote lists the sweep's measured and exact constants.
func phaseSweepNote(c phaseConfig, xs []*phaseCell) string {
	last := len(c.Steps) - 1
	s := "Flow map σ₁ (median over points; mean over seeds) against √(b/ε), and the field's largest median σ₁ against the exact field's at the same times:"
	for i, eps := range c.SweepEps {
		rows := phaseRows(xs, last, c.sweepCell(eps))
		sep := ";"
		if i == len(c.SweepEps)-1 {
			sep = "."
		}
		s += fmt.Sprintf(" ε = %g: %.3g vs %.3g, %.3g vs %.3g%s", eps,
			mean(phaseValues(rows, func(p phaseRow) float64 { return p.s.FlowLip })), math.Sqrt(phaseB/eps),
			mean(phaseValues(rows, func(p phaseRow) float64 { return p.s.Lip })), exactFieldPeak(c.DiagTimes, c.Train.Var, eps), sep)
	}
	return s
}

// phaseRefValues returns TwoNN/k on the reference samples: each rank's
// per seed, and D's per seed.
func phaseRefValues(c phaseConfig, xs []*phaseCell) []float64 {
	var v []float64
	for _, x := range xs {
		if x.Grid && x.Method == phaseODE && x.Width == c.Widths[0] {
			v = append(v, x.RefRank/float64(x.Rank))
			if x.Rank == c.Ranks[0] {
				v = append(v, x.RefFull/float64(c.Train.D))
			}
		}
	}
	return v
}

// phaseGridTable lists each grid cell's means over seeds.
func phaseGridTable(c phaseConfig, xs []*phaseCell) report.Table {
	bound := ksCrit(c.Train.FlowN, c.KSAlpha)
	t := report.Table{
		Caption: fmt.Sprintf("Each cell of the grid (D = %d), mean over %d seeds: TwoNN of the output with the references ID_r and ID_D (the estimator on rank-r and full-rank Gaussian samples of the same size), the dimension gain, KS against Chi(%d) in bounds (%.4f), the dead-direction variance, the field's largest median σ₁ and the flow map's median σ₁.",
			c.Train.D, c.Seeds, c.Train.D, bound),
		Columns: []string{"method", "r", "w", "steps", "loss", "TwoNN", "ID_r", "ID_D", "gain", "KS / bound", "dead var", "σ₁(∂v/∂x)", "at t", "σ₁(flow map)"},
	}
	for _, m := range phaseMethods {
		for _, r := range c.Ranks {
			for _, w := range c.Widths {
				for i, steps := range c.Steps {
					rows := phaseRows(xs, i, gridCell(m.id, r, w))
					f := func(g func(p phaseRow) float64) float64 { return mean(phaseValues(rows, g)) }
					t.Rows = append(t.Rows, []any{m.label, r, w, steps, f(func(p phaseRow) float64 { return p.s.Loss }),
						f(func(p phaseRow) float64 { return p.s.ID }), f(func(p phaseRow) float64 { return p.x.RefRank }), f(func(p phaseRow) float64 { return p.x.RefFull }),
						f(func(p phaseRow) float64 { return p.s.Gain }), f(func(p phaseRow) float64 { return p.s.KS / bound }), f(func(p phaseRow) float64 { return p.s.DeadVar }),
						f(func(p phaseRow) float64 { return p.s.Lip }), f(func(p phaseRow) float64 { return p.s.LipT }), f(func(p phaseRow) float64 { return p.s.FlowLip })})
				}
			}
		}
	}
	return t
}

// phaseSweepTable is the ε fix's price: measured Lipschitz constants
// against √(b/ε) and the exact field's.
func phaseSweepTable(c phaseConfig, xs []*phaseCell) report.Table {
	last := len(c.Steps) - 1
	t := report.Table{
		Caption: fmt.Sprintf("The ε fix at r = %d, width %d, %d steps (b = %g): the flow map's median σ₁ against the exact map's √(b/ε); the field's largest median σ₁ over the measured times against the exact field's there (and its peak over all t ∈ [0, 1]); the dead-direction variance (target 1). Means with 95 %% t intervals over seeds.",
			c.SweepRank, slices.Max(c.Widths), c.Steps[last], phaseB),
		Columns: []string{"ε", "√(b/ε)", "σ₁(flow map)", "σ₁(flow map) / √(b/ε)", "exact field peak, measured times", "exact field peak, all t", "σ₁(∂v/∂x), max_t median", "at t", "dead var", "TwoNN"},
	}
	dense := grid(0, 1, 10000)
	for _, eps := range c.SweepEps {
		rows := phaseRows(xs, last, c.sweepCell(eps))
		iv := func(g func(p phaseRow) float64) string { return tInterval(phaseValues(rows, g)).String() }
		root := math.Sqrt(phaseB / eps)
		t.Rows = append(t.Rows, []any{eps, root, iv(func(p phaseRow) float64 { return p.s.FlowLip }), iv(func(p phaseRow) float64 { return p.s.FlowLip / root }),
			exactFieldPeak(c.DiagTimes, c.Train.Var, eps), exactFieldPeak(dense, c.Train.Var, eps), iv(func(p phaseRow) float64 { return p.s.Lip }),
			mean(phaseValues(rows, func(p phaseRow) float64 { return p.s.LipT })), iv(func(p phaseRow) float64 { return p.s.DeadVar }), iv(func(p phaseRow) float64 { return p.s.ID })})
	}
	return t
}

// phaseStats is the per-cell interval of each metric (each snapshot its own
// cell).
func phaseStats(xs []*phaseCell) []cellStat {
	return cellStats(phaseRows(xs, -1, func(*phaseCell) bool { return true }),
		func(p phaseRow) string {
			k := fmt.Sprintf("%s r %d w %d", p.x.Method, p.x.Rank, p.x.Width)
			if p.x.Method == phaseEps {
				k += fmt.Sprintf(" eps %g", p.x.Eps)
			}
			return k + fmt.Sprintf(" steps %d", p.s.Steps)
		},
		func(p phaseRow) []metric {
			return []metric{{"id_twonn", p.s.ID}, {"dim_gain", p.s.Gain}, {"ks_chi_full", p.s.KS}, {"dead_var", p.s.DeadVar},
				{"lipschitz", p.s.Lip}, {"flow_map_sigma1", p.s.FlowLip}}
		})
}
