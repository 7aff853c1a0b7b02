package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// viridis holds nine evenly spaced stops of matplotlib's viridis colour map.
var viridis = [...]color.RGBA{
	{0x44, 0x01, 0x54, 255}, {0x47, 0x2c, 0x7a, 255}, {0x3b, 0x51, 0x8b, 255},
	{0x2c, 0x71, 0x8e, 255}, {0x21, 0x90, 0x8d, 255}, {0x27, 0xad, 0x81, 255},
	{0x5c, 0xc8, 0x63, 255}, {0xaa, 0xdc, 0x32, 255}, {0xfd, 0xe7, 0x25, 255},
}

// Viridis maps v ∈ [0, 1] to a colour of the viridis map by linear
// interpolation between its nine stops; v is clamped to [0, 1] and NaN maps to
// mid grey.
func Viridis(v float64) color.RGBA {
	if math.IsNaN(v) {
		return color.RGBA{128, 128, 128, 255}
	}
	v = min(max(v, 0), 1)
	f := v * float64(len(viridis)-1)
	i := int(f)
	if i >= len(viridis)-1 {
		return viridis[len(viridis)-1]
	}
	t := f - float64(i)
	a, b := viridis[i], viridis[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// Normalize maps v linearly from [lo, hi] to [0, 1], or, when log is set,
// log10(v) from [log10 lo, log10 hi]; values at or below zero map to 0 on a
// log scale. A degenerate range maps everything to 0.5.
func Normalize(v, lo, hi float64, log bool) float64 {
	if log {
		if v <= 0 {
			return 0
		}
		v, lo, hi = math.Log10(v), math.Log10(lo), math.Log10(hi)
	}
	if !(hi > lo) {
		return 0.5
	}
	return (v - lo) / (hi - lo)
}

// Heatmap is a grid of values shown as coloured cells with each value
// written in its cell, and a colour bar beside it.
type Heatmap struct {
	Title          string
	XLabel, YLabel string
	XTicks, YTicks []string    // names of the columns and of the rows (row 0 at the bottom)
	Values         [][]float64 // rows × columns; NaN for a missing cell (drawn grey, no text)
	Format         string      // number format in the cells; "" means %.3g
	Log            bool        // colour by log10 of the value (positive values only)
	BarLabel       string      // colour bar label
}

// Save draws the heatmap at wPx×hPx pixels and writes the PNG to path.
func (h Heatmap) Save(path string, wPx, hPx int) error {
	rows := len(h.Values)
	if rows == 0 || len(h.Values[0]) == 0 {
		return fmt.Errorf("plot %s: heatmap has no cells", path)
	}
	cols := len(h.Values[0])
	for i, r := range h.Values {
		if len(r) != cols {
			panic(fmt.Sprintf("plot: heatmap row %d has %d cells, row 0 has %d", i, len(r), cols))
		}
	}
	if len(h.XTicks) != cols || len(h.YTicks) != rows {
		panic(fmt.Sprintf("plot: heatmap %d×%d cells with %d column names and %d row names", rows, cols, len(h.XTicks), len(h.YTicks)))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range h.Values {
		for _, v := range r {
			if finite(v) && (!h.Log || v > 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if h.Format == "" {
		h.Format = "%.3g"
	}
	p := newPlot("")
	p.X.Label.Text, p.Y.Label.Text = h.XLabel, h.YLabel
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(cols)-0.5, -0.5, float64(rows)-0.5
	p.X.Tick.Marker = names(h.XTicks)
	p.Y.Tick.Marker = names(h.YTicks)
	p.Add(cells{h: h, lo: lo, hi: hi})

	bar := newPlot("")
	bar.HideX()
	bar.X.Min, bar.X.Max = 0, 1
	bar.Y.Min, bar.Y.Max = lo, hi
	if h.Log {
		bar.Y.Scale = gplot.LogScale{}
		bar.Y.Tick.Marker = logTicks{}
	}
	bar.Y.Label.Text = h.BarLabel
	bar.Add(colourBar{lo: lo, hi: hi, log: h.Log})

	return savePNG(path, wPx, hPx, func(dc draw.Canvas) {
		dc = drawTitle(dc, h.Title)
		barW := px(90)
		main := dc
		main.Max.X -= barW
		p.Draw(main)
		side := dc
		side.Min.X = dc.Max.X - barW
		side.Min.X += px(10)
		side.Max.X -= px(8)
		// align the bar's data area with the heatmap's vertically
		d := p.DataCanvas(main)
		side.Min.Y, side.Max.Y = d.Min.Y, d.Max.Y
		bar.Draw(side)
	})
}

// names is a Ticker that labels integer positions 0, 1, … with names.
type names []string

// Ticks implements gplot.Ticker.
func (n names) Ticks(lo, hi float64) []gplot.Tick {
	var t []gplot.Tick
	for i, s := range n {
		if float64(i) >= lo && float64(i) <= hi {
			t = append(t, gplot.Tick{Value: float64(i), Label: s})
		}
	}
	return t
}

// cells draws the heatmap's cells and their values.
type cells struct {
	h      Heatmap
	lo, hi float64
}

// Plot implements gplot.Plotter.
func (c cells) Plot(dc draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&dc)
	small := textStyle(9, draw.XCenter, draw.YCenter)
	for r, row := range c.h.Values {
		for k, v := range row {
			x0, x1 := tx(float64(k)-0.5), tx(float64(k)+0.5)
			y0, y1 := ty(float64(r)-0.5), ty(float64(r)+0.5)
			col := Viridis(math.NaN())
			if finite(v) {
				col = Viridis(Normalize(v, c.lo, c.hi, c.h.Log))
			}
			dc.FillPolygon(col, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			if !finite(v) {
				continue
			}
			sty := small
			sty.Color = TextOn(col)
			dc.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, fmt.Sprintf(c.h.Format, v))
		}
	}
}

// TextOn returns black or white, whichever reads better on background bg
// (by its relative luminance, threshold 0.4).
func TextOn(bg color.RGBA) color.Color {
	lum := (0.2126*float64(bg.R) + 0.7152*float64(bg.G) + 0.0722*float64(bg.B)) / 255
	if lum > 0.4 {
		return color.Black
	}
	return color.White
}

// colourBar draws the colour scale as thin horizontal stripes.
type colourBar struct {
	lo, hi float64
	log    bool
}

// Plot implements gplot.Plotter.
func (b colourBar) Plot(dc draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&dc)
	const n = 128
	for i := range n {
		f0, f1 := float64(i)/n, float64(i+1)/n
		v0, v1 := b.at(f0), b.at(f1)
		col := Viridis((f0 + f1) / 2)
		dc.FillPolygon(col, []vg.Point{{X: tx(0), Y: ty(v0)}, {X: tx(1), Y: ty(v0)}, {X: tx(1), Y: ty(v1)}, {X: tx(0), Y: ty(v1)}})
	}
}

// at returns the value at fraction f of the bar.
func (b colourBar) at(f float64) float64 {
	if b.log {
		return math.Pow(10, math.Log10(b.lo)+f*(math.Log10(b.hi)-math.Log10(b.lo)))
	}
	return b.lo + f*(b.hi-b.lo)
}

// logTicks marks the powers of ten on a log axis, labelling them 1e-05,
// 0.001, 1, … (every second or third power when there are many).
type logTicks struct{}

// Ticks implements gplot.Ticker.
func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	e0, e1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	step := 1 + (e1-e0)/10
	var t []gplot.Tick
	for e := e0; e <= e1; e++ {
		v := math.Pow10(e)
		if v < lo || v > hi {
			continue
		}
		label := ""
		if e%step == 0 {
			label = strconv.FormatFloat(v, 'g', 1, 64) // one digit: Pow10 may be off in the last bit
		}
		t = append(t, gplot.Tick{Value: v, Label: label})
	}
	return t
}

// intTicks marks round integers on a linear axis without decimals.
type intTicks struct{}

// Ticks implements gplot.Ticker.
func (intTicks) Ticks(lo, hi float64) []gplot.Tick {
	var t []gplot.Tick
	for _, tk := range (gplot.DefaultTicks{}).Ticks(lo, hi) {
		if tk.Label != "" {
			tk.Label = strconv.FormatFloat(tk.Value, 'f', -1, 64)
		}
		t = append(t, tk)
	}
	return t
}
