package plot

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	gplot "gonum.org/v1/plot"
)

// ImagePanel is one titled grid of square grey images (for example 28×28
// MNIST digits), each a row-major slice of side² intensities in [0, 1].
type ImagePanel struct {
	Title  string
	Images [][]float32
}

// Tile lays images out cols to a row as one grey image, with a one-pixel
// white gap between tiles; intensities are clamped to [0, 1] and drawn dark
// on light (0 white, 1 black), as digits are printed.
func Tile(images [][]float32, side, cols int) *image.Gray {
	if side <= 0 || cols <= 0 {
		panic(fmt.Sprintf("plot: Tile needs side > 0 and cols > 0, got side=%d cols=%d", side, cols))
	}
	rows := (len(images) + cols - 1) / cols
	w, h := cols*(side+1)+1, rows*(side+1)+1
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for k, im := range images {
		if len(im) != side*side {
			panic(fmt.Sprintf("plot: image %d has %d pixels, want %d×%d", k, len(im), side, side))
		}
		ox, oy := 1+(k%cols)*(side+1), 1+(k/cols)*(side+1)
		for y := range side {
			for x := range side {
				v := float64(im[y*side+x])
				if math.IsNaN(v) {
					v = 0
				}
				v = min(max(v, 0), 1)
				img.SetGray(ox+x, oy+y, color.Gray{Y: uint8(math.Round(255 * (1 - v)))})
			}
		}
	}
	return img
}

// ImageGrids draws panels side by side, each a grid of its images cols to a
// row under its title, every image pixel scale×scale screen pixels, and
// writes the PNG to path.
func ImageGrids(path, title string, panels []ImagePanel, side, cols, scale int) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: no panels", path)
	}
	if scale <= 0 {
		scale = 2
	}
	ps := make([]*gplot.Plot, len(panels))
	maxW, maxH := 0, 0
	for k, pan := range panels {
		img := Tile(pan.Images, side, cols)
		b := img.Bounds()
		maxW, maxH = max(maxW, b.Dx()), max(maxH, b.Dy())
		p := newPlot(pan.Title)
		p.HideAxes()
		p.Add(plotter.NewImage(img, 0, 0, float64(b.Dx()), float64(b.Dy())))
		ps[k] = p
	}
	wPx := len(panels)*(maxW*scale+24) + 10
	hPx := maxH*scale + 40 + titleHeight(title)
	return savePNG(path, wPx, hPx, func(dc draw.Canvas) { drawGrid(dc, title, [][]*gplot.Plot{ps}) })
}
