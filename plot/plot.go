// Package plot draws flowlab's figures as PNG files with gonum/plot: grids of
// norm histograms with density curves over them, scatter panels with shared
// axes, heatmaps with a colour bar and the value in each cell, eigenvalue
// spectra on a log scale with labelled cut-offs, and grids of images.
//
// Every function takes plain float64 slices, so the package depends on no
// other flowlab package except internal/atomicfile, through which every PNG
// is written (temporary file, then rename).
package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"github.com/flowlab/flowlab/internal/atomicfile"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution figures are rendered at; sizes in this package are
// given in pixels at this resolution.
const DPI = 96

// px converts a pixel count at DPI to a vg.Length.
func px(n float64) vg.Length { return vg.Length(n) * vg.Inch / DPI }

// palette is the colour cycle used for lines and points (Okabe–Ito, readable
// by colour-blind readers). It is read only; Colour hands out its entries.
var palette = [...]color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // green
	{204, 121, 167, 255}, // purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
}

// savePNG renders a wPx×hPx white canvas with paint and writes it to path
// atomically.
func savePNG(path string, wPx, hPx int, paint func(dc draw.Canvas)) error {
	if wPx <= 0 || hPx <= 0 {
		return fmt.Errorf("plot %s: size %d×%d px is not positive", path, wPx, hPx)
	}
	c := vgimg.NewWith(vgimg.UseWH(px(float64(wPx)), px(float64(hPx))), vgimg.UseDPI(DPI),
		vgimg.UseBackgroundColor(color.White))
	paint(draw.New(c))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
}

// textStyle returns a plain text style of the default font at size points.
func textStyle(size float64, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(gplot.DefaultFont, vg.Length(size)),
		XAlign:  xa,
		YAlign:  ya,
		Handler: gplot.DefaultTextHandler,
	}
}

// drawTitle writes title centred at the top of dc and returns the canvas
// below it. An empty title leaves dc as it is.
func drawTitle(dc draw.Canvas, title string) draw.Canvas {
	if title == "" {
		return dc
	}
	sty := textStyle(13, draw.XCenter, draw.YTop)
	pad := px(6)
	dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - pad}, title)
	dc.Max.Y -= sty.Height(title) + 2*pad
	return dc
}

// drawGrid lays plots out in len(plots) rows of equal column count with
// aligned data areas, below title. Nil entries stay blank.
func drawGrid(dc draw.Canvas, title string, plots [][]*gplot.Plot) {
	dc = drawTitle(dc, title)
	if len(plots) == 0 {
		return
	}
	tiles := draw.Tiles{
		Rows: len(plots), Cols: len(plots[0]),
		PadX: px(10), PadY: px(10), PadTop: px(4), PadBottom: px(4), PadLeft: px(4), PadRight: px(10),
	}
	cs := gplot.Align(plots, tiles, dc)
	for j, row := range plots {
		for i, p := range row {
			if p != nil {
				p.Draw(cs[j][i])
			}
		}
	}
}

// toRows splits panels into rows of cols entries, padding the last row
// with nil.
func toRows(ps []*gplot.Plot, cols int) [][]*gplot.Plot {
	if cols <= 0 {
		cols = 1
	}
	var rows [][]*gplot.Plot
	for i := 0; i < len(ps); i += cols {
		row := make([]*gplot.Plot, cols)
		copy(row, ps[i:min(i+cols, len(ps))])
		rows = append(rows, row)
	}
	return rows
}

// newPlot returns a plot with flowlab's smaller default fonts.
func newPlot(title string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 10
	p.Title.Padding = px(3)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = 9
		a.Tick.Label.Font.Size = 8
	}
	p.Legend.TextStyle.Font.Size = 8
	return p
}

// finiteRange returns the smallest and largest finite values over all
// slices, and ok = false when there is none.
func finiteRange(vs ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo, hi, lo <= hi
}

// Colour returns colour i of the figure palette (Okabe–Ito, readable by
// colour-blind readers), cycling when i is past its end.
func Colour(i int) color.RGBA {
	n := len(palette)
	return palette[((i%n)+n)%n]
}
