package plot

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// ScatterPanel is one panel of a scatter grid.
type ScatterPanel struct {
	Title string
	X, Y  []float64
	Color int // index of the colour (Colour)
}

// ScatterOptions sets what the panels of a scatter grid share.
type ScatterOptions struct {
	// Lo and Hi bound both axes of every panel; Lo == Hi means a robust range
	// of all points: the 0.5 % and 99.5 % quantiles of each coordinate,
	// widened by 10 %, so that a few points thrown far away do not squeeze
	// the rest into a dot. Points outside are not drawn.
	Lo, Hi float64
	Panel  int // one square panel's side in pixels; 0 means 240
}

// ScatterGrid draws panels as scatter plots, cols to a row, all with the same
// square axes, and writes the PNG to path. The seed's four-panel layout is
// one row: source, f(source), f⁻¹(target), target.
func ScatterGrid(path, title string, cols int, panels []ScatterPanel, o ScatterOptions) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: no panels", path)
	}
	if o.Panel <= 0 {
		o.Panel = 240
	}
	lo, hi := o.Lo, o.Hi
	if !(hi > lo) {
		var all []float64
		for _, p := range panels {
			if len(p.X) != len(p.Y) {
				panic(fmt.Sprintf("plot: scatter panel %q has %d x and %d y values", p.Title, len(p.X), len(p.Y)))
			}
			all = append(all, p.X...)
			all = append(all, p.Y...)
		}
		var ok bool
		if lo, hi, ok = RobustRange(all, 0.005); !ok {
			return fmt.Errorf("plot %s: no finite points", path)
		}
	}
	ps := make([]*gplot.Plot, len(panels))
	for k, pan := range panels {
		if len(pan.X) != len(pan.Y) {
			panic(fmt.Sprintf("plot: scatter panel %q has %d x and %d y values", pan.Title, len(pan.X), len(pan.Y)))
		}
		p := newPlot(pan.Title)
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
		pts := make(plotter.XYs, 0, len(pan.X))
		for i := range pan.X {
			if finite(pan.X[i]) && finite(pan.Y[i]) {
				pts = append(pts, plotter.XY{X: pan.X[i], Y: pan.Y[i]})
			}
		}
		if len(pts) > 0 {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			pc := Colour(pan.Color)
			c := color.NRGBA{R: pc.R, G: pc.G, B: pc.B, A: 120} // translucent, so density shows
			s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: px(1.3), Shape: draw.CircleGlyph{}}
			p.Add(s)
		}
		p.Add(plotter.NewGrid())
		ps[k] = p
	}
	rows := toRows(ps, cols)
	return savePNG(path, o.Panel*len(rows[0]), o.Panel*len(rows)+titleHeight(title),
		func(dc draw.Canvas) { drawGrid(dc, title, rows) })
}

// RobustRange returns a range holding the central 1−2q of the finite values
// (from the q and 1−q quantiles) widened by 10 % on each side, and
// ok = false when there is no finite value.
func RobustRange(values []float64, q float64) (lo, hi float64, ok bool) {
	v := make([]float64, 0, len(values))
	for _, x := range values {
		if finite(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0, 0, false
	}
	sort.Float64s(v)
	at := func(p float64) float64 { return v[int(math.Round(p*float64(len(v)-1)))] }
	lo, hi = at(q), at(1-q)
	pad := 0.1 * (hi - lo)
	if pad == 0 {
		pad = 1
	}
	return lo - pad, hi + pad, true
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
