package plot

import (
	"fmt"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LinePanel is one panel of a line-plot grid.
type LinePanel struct {
	Title          string
	XLabel, YLabel string
	Curves         []Curve // drawn in Colour order; dashed curves keep their colour
	// LegendBottom and LegendRight move the legend from the top left
	// corner, where it would hide curves.
	LegendBottom, LegendRight bool
}

// LineGrid draws panels of curves, cols to a row, each with its own axes and
// legend, every panel wPx×hPx pixels, and writes the PNG to path.
func LineGrid(path, title string, cols int, panels []LinePanel, wPx, hPx int) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: no panels", path)
	}
	plots := make([]*gplot.Plot, len(panels))
	for k, pan := range panels {
		p := newPlot(pan.Title)
		p.X.Label.Text, p.Y.Label.Text = pan.XLabel, pan.YLabel
		p.Add(plotter.NewGrid())
		for ci, c := range pan.Curves {
			if len(c.X) != len(c.Y) {
				panic(fmt.Sprintf("plot: curve %q has %d x and %d y values", c.Label, len(c.X), len(c.Y)))
			}
			pts := make(plotter.XYs, 0, len(c.X))
			for i := range c.X {
				if finite(c.X[i]) && finite(c.Y[i]) {
					pts = append(pts, plotter.XY{X: c.X[i], Y: c.Y[i]})
				}
			}
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			l.Color = Colour(ci)
			l.Width = px(1.8)
			if c.Dashed {
				l.Dashes = []vg.Length{px(6), px(4)}
			}
			p.Add(l)
			if c.Label != "" {
				p.Legend.Add(c.Label, l)
			}
		}
		p.Legend.Top = !pan.LegendBottom
		p.Legend.Left = !pan.LegendRight
		plots[k] = p
	}
	rows := toRows(plots, cols)
	return savePNG(path, wPx*len(rows[0]), hPx*len(rows)+titleHeight(title),
		func(dc draw.Canvas) { drawGrid(dc, title, rows) })
}
