package diagnose

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowlab/flowlab/plot"
)

// heatmapRows is the most singular values the spectrum heatmap shows.
const heatmapRows = 24

// Panel names a panel of the figure of the Jacobian along the flow.
type Panel int

// The panels of lognorm_lipschitz.png.
const (
	LogNormPanel Panel = iota
	LipschitzPanel
	DivergencePanel
)

// Overlay is a reference curve (an exact answer, say) drawn dashed over a
// panel of the figure of the Jacobian along the flow.
type Overlay struct {
	Panel Panel
	Curve plot.Curve
}

// Figures draws the report's figures into dir (created if needed) and
// returns their paths: the spectrum of ∂v/∂x against t (median over points
// of each of the largest singular values, a heatmap), the log-norm, the
// Lipschitz constant and the divergence against t with the overlays, and,
// when the flow map's Jacobian was formed, its singular values.
func (r *Report) Figures(dir string, overlays ...Overlay) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	p := filepath.Join(dir, "jacobian_spectrum.png")
	if err := r.spectrumHeatmap().Save(p, 900, 620); err != nil {
		return nil, err
	}
	paths = append(paths, p)
	p = filepath.Join(dir, "lognorm_lipschitz.png")
	panels := r.linePanels()
	for _, o := range overlays {
		c := o.Curve
		c.Dashed = true
		panels[o.Panel].Curves = append(panels[o.Panel].Curves, c)
	}
	if err := plot.LineGrid(p, "the field's Jacobian along the flow", 3, panels, 420, 340); err != nil {
		return nil, err
	}
	paths = append(paths, p)
	if r.FlowMap != nil {
		p = filepath.Join(dir, "flow_map_sigma.png")
		if err := plot.LineGrid(p, "", 1, []plot.LinePanel{r.flowMapPanel()}, 620, 420); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func (r *Report) spectrumHeatmap() plot.Heatmap {
	k := len(r.Times[0].Sigma)
	rows := min(k, heatmapRows)
	h := plot.Heatmap{Title: "singular values of ∂v/∂x along the flow (median over points)",
		XLabel: "t", YLabel: "index", BarLabel: "σ", Log: true, Format: "%.2g"}
	for _, ts := range r.Times {
		h.XTicks = append(h.XTicks, fmt.Sprintf("%.2g", ts.T))
	}
	for i := rows - 1; i >= 0; i-- { // σ₁ on top
		h.YTicks = append(h.YTicks, fmt.Sprintf("σ%d", i+1))
		row := make([]float64, len(r.Times))
		for c, ts := range r.Times {
			row[c] = ts.Sigma[i].Median
			if !(row[c] > 0) {
				h.Log = false
			}
		}
		h.Values = append(h.Values, row)
	}
	return h
}

func (r *Report) linePanels() []plot.LinePanel {
	n := len(r.Times)
	ts := make([]float64, n)
	series := func(get func(TimeStats) float64) []float64 {
		y := make([]float64, n)
		for i, s := range r.Times {
			y[i] = get(s)
		}
		return y
	}
	for i, s := range r.Times {
		ts[i] = s.T
	}
	band := func(name string, q func(TimeStats) Quantiles) plot.LinePanel {
		return plot.LinePanel{Title: name, XLabel: "t", YLabel: name, Curves: []plot.Curve{
			{Label: "median", X: ts, Y: series(func(s TimeStats) float64 { return q(s).Median })},
			{Label: "5 %", X: ts, Y: series(func(s TimeStats) float64 { return q(s).Q05 }), Dashed: true},
			{Label: "95 %", X: ts, Y: series(func(s TimeStats) float64 { return q(s).Q95 }), Dashed: true},
			{Label: "max", X: ts, Y: series(func(s TimeStats) float64 { return q(s).Max })},
		}}
	}
	return []plot.LinePanel{
		band("log-norm λmax((J+Jᵀ)/2)", func(s TimeStats) Quantiles { return s.LogNorm }),
		band("Lipschitz σ₁(J)", func(s TimeStats) Quantiles { return s.Lipschitz }),
		band("divergence tr J", func(s TimeStats) Quantiles { return s.Divergence }),
	}
}

func (r *Report) flowMapPanel() plot.LinePanel {
	k := len(r.FlowMap.Sigma)
	idx, med, lo, hi := make([]float64, k), make([]float64, k), make([]float64, k), make([]float64, k)
	for i, q := range r.FlowMap.Sigma {
		idx[i], med[i], lo[i], hi[i] = float64(i+1), q.Median, q.Q05, q.Q95
	}
	return plot.LinePanel{Title: fmt.Sprintf("singular values of the flow map's Jacobian (t = %g → %g)", r.Start, r.End),
		XLabel: "index", YLabel: "σ(∂X_end/∂X_start)", Curves: []plot.Curve{
			{Label: "median", X: idx, Y: med}, {Label: "5 %", X: idx, Y: lo, Dashed: true}, {Label: "95 %", X: idx, Y: hi, Dashed: true}}}
}
