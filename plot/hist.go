package plot

import (
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Histogram bins the finite values into bins equal bins over [lo, hi] (a value
// equal to hi falls in the last bin) and returns the bins+1 edges and each
// bin's density count/(n·width), where n counts every finite value, inside
// the range or not. The bars' total area is so the fraction of values inside
// [lo, hi], and a density curve drawn over them is on the same scale.
// It panics if bins < 1 or hi <= lo.
func Histogram(values []float64, lo, hi float64, bins int) (edges, density []float64) {
	if bins < 1 || !(hi > lo) {
		panic(fmt.Sprintf("plot: Histogram needs bins ≥ 1 and lo < hi, got bins=%d range [%g, %g]", bins, lo, hi))
	}
	width := (hi - lo) / float64(bins)
	edges = make([]float64, bins+1)
	for i := range edges {
		edges[i] = lo + float64(i)*width
	}
	edges[bins] = hi
	counts := make([]float64, bins)
	n := 0
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		n++
		if v < lo || v > hi {
			continue
		}
		i := int((v - lo) / width)
		if i >= bins {
			i = bins - 1
		}
		counts[i]++
	}
	density = counts
	if n > 0 {
		for i := range density {
			density[i] /= float64(n) * width
		}
	}
	return edges, density
}

// Curve is a line drawn over a panel: a density, a reference, a fit.
type Curve struct {
	Label  string    // legend entry; empty for none
	X, Y   []float64 // points, in order of X
	Dashed bool
}

// HistPanel is one panel of a histogram grid: the values to bin and the
// curves to draw over the bars.
type HistPanel struct {
	Title  string
	Values []float64
	Curves []Curve
}

// HistOptions sets what the panels of a histogram grid share.
type HistOptions struct {
	Bins   int     // number of bins; 0 means 40
	Lo, Hi float64 // x range of every panel; Lo == Hi means the range of all values and curves
	XLabel string
	// PanelW and PanelH are one panel's size in pixels; 0 means 260×200.
	PanelW, PanelH int
	// Legend draws the curves' legend in the first panel only.
	Legend bool
	// PanelRange gives each panel its own x range (its values' 0.5–99.5 %
	// range, widened, together with its curves' x), for panels on
	// different scales; Lo and Hi are then ignored.
	PanelRange bool
}

// HistGrid draws panels as histograms, cols to a row, with a shared x range,
// the curves over each, and title above, and writes the PNG to path.
func HistGrid(path, title string, cols int, panels []HistPanel, o HistOptions) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: no panels", path)
	}
	o.fillDefaults()
	lo, hi, err := histRange(panels, o)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	ps := make([]*gplot.Plot, len(panels))
	for k, pan := range panels {
		lo, hi := lo, hi
		if o.PanelRange {
			lo, hi = panelRange(pan, lo, hi)
		}
		p, err := histPanel(pan, lo, hi, o, k == 0)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		ps[k] = p
	}
	rows := toRows(ps, cols)
	wPx := o.PanelW * len(rows[0])
	hPx := o.PanelH*len(rows) + titleHeight(title)
	return savePNG(path, wPx, hPx, func(dc draw.Canvas) { drawGrid(dc, title, rows) })
}

// fillDefaults sets the bin count and panel size left at zero.
func (o *HistOptions) fillDefaults() {
	if o.Bins <= 0 {
		o.Bins = 40
	}
	if o.PanelW <= 0 {
		o.PanelW = 260
	}
	if o.PanelH <= 0 {
		o.PanelH = 200
	}
}

// histRange is the x range shared by every panel: o.Lo..o.Hi when set, else
// the finite range of all values and curves.
func histRange(panels []HistPanel, o HistOptions) (lo, hi float64, err error) {
	lo, hi = o.Lo, o.Hi
	if hi > lo {
		return lo, hi, nil
	}
	var all [][]float64
	for _, p := range panels {
		all = append(all, p.Values)
		for _, c := range p.Curves {
			all = append(all, c.X)
		}
	}
	var ok bool
	if lo, hi, ok = finiteRange(all...); !ok {
		return 0, 0, fmt.Errorf("no finite values to plot")
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	return lo, hi, nil
}

// panelRange is one panel's own x range: the robust range of its values
// joined with its curves' range; lo, hi when it has neither.
func panelRange(pan HistPanel, lo, hi float64) (float64, float64) {
	vlo, vhi, ok := RobustRange(pan.Values, 0.005)
	var xs [][]float64
	for _, c := range pan.Curves {
		xs = append(xs, c.X)
	}
	clo, chi, cok := finiteRange(xs...)
	switch {
	case ok && cok:
		return min(vlo, clo), max(vhi, chi)
	case ok:
		return vlo, vhi
	case cok:
		return clo, chi
	}
	return lo, hi
}

// histPanel draws one panel: the density histogram of pan.Values on
// [lo, hi] and its curves (in the legend when legend is set).
func histPanel(pan HistPanel, lo, hi float64, o HistOptions, legend bool) (*gplot.Plot, error) {
	p := newPlot(pan.Title)
	p.X.Label.Text = o.XLabel
	p.X.Min, p.X.Max = lo, hi
	edges, dens := Histogram(pan.Values, lo, hi, o.Bins)
	h := &plotter.Histogram{FillColor: color.RGBA{160, 174, 192, 255}, LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Width = px(0.5)
	h.LineStyle.Color = color.RGBA{90, 100, 120, 255}
	ymax := 0.0
	for i, d := range dens {
		h.Bins = append(h.Bins, plotter.HistogramBin{Min: edges[i], Max: edges[i+1], Weight: d})
		ymax = max(ymax, d)
	}
	h.Width = edges[1] - edges[0]
	p.Add(h)
	for ci, c := range pan.Curves {
		l, cmax, err := histCurve(c, lo, hi)
		if err != nil {
			return nil, err
		}
		if l == nil {
			continue
		}
		ymax = max(ymax, cmax)
		l.Color = Colour(ci)
		p.Add(l)
		if o.Legend && legend && c.Label != "" {
			p.Legend.Add(c.Label, l)
		}
	}
	p.Y.Min, p.Y.Max = 0, 1.08*ymax
	if ymax == 0 {
		p.Y.Max = 1
	}
	p.Legend.Top = true
	return p, nil
}

// histCurve is the line of curve c's points with x in [lo, hi] and their
// largest y; nil when fewer than two points remain.
func histCurve(c Curve, lo, hi float64) (*plotter.Line, float64, error) {
	if len(c.X) != len(c.Y) {
		panic(fmt.Sprintf("plot: curve %q has %d x and %d y values", c.Label, len(c.X), len(c.Y)))
	}
	pts := make(plotter.XYs, 0, len(c.X))
	ymax := 0.0
	for i := range c.X {
		if c.X[i] >= lo && c.X[i] <= hi && !math.IsNaN(c.Y[i]) {
			pts = append(pts, plotter.XY{X: c.X[i], Y: c.Y[i]})
			ymax = max(ymax, c.Y[i])
		}
	}
	if len(pts) < 2 {
		return nil, 0, nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, 0, err
	}
	l.Width = px(2)
	if c.Dashed {
		l.Dashes = []vg.Length{px(6), px(4)}
	}
	return l, ymax, nil
}

// titleHeight is the pixel height reserved for a figure title.
func titleHeight(title string) int {
	if title == "" {
		return 0
	}
	return 30
}
