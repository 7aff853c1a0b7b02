package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Cut is a labelled vertical line at a component count of a spectrum plot.
type Cut struct {
	Index int    // number of components left of the line
	Label string // legend entry, e.g. "rank 712 (tol σ_max·n·eps)"
}

// Level is a labelled horizontal line at an eigenvalue.
type Level struct {
	Value float64
	Label string
}

// Spectrum is an eigenvalue spectrum in decreasing order drawn against the
// component index on a log y axis, with cut-offs marked.
type Spectrum struct {
	Title  string
	Values []float64 // eigenvalues, largest first; values ≤ 0 cannot be shown on a log axis and are skipped
	Cuts   []Cut
	Levels []Level
}

// Save draws the spectrum at wPx×hPx pixels and writes the PNG to path.
func (s Spectrum) Save(path string, wPx, hPx int) error {
	pts := make(plotter.XYs, 0, len(s.Values))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range s.Values {
		if v > 0 && finite(v) {
			pts = append(pts, plotter.XY{X: float64(i + 1), Y: v})
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if len(pts) == 0 {
		return fmt.Errorf("plot %s: spectrum has no positive eigenvalue", path)
	}
	p := newPlot(s.Title)
	p.X.Label.Text = "component (largest eigenvalue first)"
	p.Y.Label.Text = "eigenvalue"
	p.Y.Scale = gplot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.X.Min, p.X.Max = 0, float64(len(s.Values)+1)
	p.Y.Min, p.Y.Max = lo/2, hi*2
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	l.Color = Colour(0)
	l.Width = px(2)
	p.Add(plotter.NewGrid(), l)
	p.Legend.Add("eigenvalues", l)
	for i, c := range s.Cuts {
		v, err := plotter.NewLine(plotter.XYs{{X: float64(c.Index), Y: p.Y.Min}, {X: float64(c.Index), Y: p.Y.Max}})
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		v.Color = Colour(i + 1)
		v.Width = px(1.5)
		v.Dashes = []vg.Length{px(5), px(3)}
		p.Add(v)
		p.Legend.Add(c.Label, v)
	}
	for i, lv := range s.Levels {
		h, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: lv.Value}, {X: p.X.Max, Y: lv.Value}})
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		h.Color = Colour(len(s.Cuts) + i + 1)
		h.Width = px(1)
		h.Dashes = []vg.Length{px(2), px(2)}
		p.Add(h)
		p.Legend.Add(lv.Label, h)
	}
	p.X.Tick.Marker = intTicks{}
	p.Legend.Left = true // the curve falls from top left: its bottom left is empty
	return savePNG(path, wPx, hPx, func(dc draw.Canvas) { p.Draw(dc) })
}
