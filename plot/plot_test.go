package plot

import (
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// decodePNG opens path and returns its pixel size, failing the test if it is
// not a valid PNG.
func decodePNG(t *testing.T, path string) (w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	// A figure that drew nothing is all white: require some dark pixels.
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r+g+bb < 3*0x8000 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Errorf("%s: no dark pixel, nothing was drawn", path)
	}
	return b.Dx(), b.Dy()
}

func TestHistogramHandValues(t *testing.T) {
	// 5 finite values, one outside [0, 2]; two bins of width 1.
	// Bin [0,1): 0, 0.5 → 2/(5·1) = 0.4; bin [1,2]: 1, 2 → 0.4 (2 is in the last bin);
	// 3 is outside; NaN is ignored entirely.
	edges, d := Histogram([]float64{0, 0.5, 1, 2, 3, math.NaN()}, 0, 2, 2)
	wantE := []float64{0, 1, 2}
	wantD := []float64{0.4, 0.4}
	for i := range wantE {
		if edges[i] != wantE[i] {
			t.Errorf("edges[%d] = %g, want %g", i, edges[i], wantE[i])
		}
	}
	for i := range wantD {
		if !(math.Abs(d[i]-wantD[i]) <= 1e-15) {
			t.Errorf("density[%d] = %g, want %g", i, d[i], wantD[i])
		}
	}
}

func TestHistogramIntegratesToOne(t *testing.T) {
	// All values inside the range: the bars' area is exactly 1 (up to rounding, 1e-12).
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]float64, 1000)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	edges, d := Histogram(v, -10, 10, 37)
	area := 0.0
	for i := range d {
		area += d[i] * (edges[i+1] - edges[i])
	}
	if !(math.Abs(area-1) <= 1e-12) {
		t.Errorf("area = %.15f, want 1", area)
	}
}

func TestViridisStops(t *testing.T) {
	// Hand values: matplotlib's viridis endpoints #440154 and #fde725, the
	// middle stop #21908d, and the midpoint between stops 0 and 1
	// (#440154, #472c7a) → round((0x44+0x47)/2, (0x01+0x2c)/2, (0x54+0x7a)/2)
	// = (70, 23, 103) (half-way values round away from zero).
	cases := []struct {
		v    float64
		want color.RGBA
	}{
		{0, color.RGBA{0x44, 0x01, 0x54, 255}},
		{-3, color.RGBA{0x44, 0x01, 0x54, 255}},
		{1, color.RGBA{0xfd, 0xe7, 0x25, 255}},
		{7, color.RGBA{0xfd, 0xe7, 0x25, 255}},
		{0.5, color.RGBA{0x21, 0x90, 0x8d, 255}},
		{1.0 / 16, color.RGBA{70, 23, 103, 255}},
		{math.NaN(), color.RGBA{128, 128, 128, 255}},
	}
	for _, c := range cases {
		if got := Viridis(c.v); got != c.want {
			t.Errorf("Viridis(%g) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		v, lo, hi float64
		log       bool
		want      float64
	}{
		{5, 0, 10, false, 0.5},
		{10, 1, 100, true, 0.5},
		{-1, 1, 100, true, 0},
		{3, 3, 3, false, 0.5},
	}
	for _, c := range cases {
		if got := Normalize(c.v, c.lo, c.hi, c.log); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("Normalize(%g, %g, %g, %v) = %g, want %g", c.v, c.lo, c.hi, c.log, got, c.want)
		}
	}
}

func TestTextOn(t *testing.T) {
	if TextOn(Viridis(0)) != color.White {
		t.Error("dark purple should take white text")
	}
	if TextOn(Viridis(1)) != color.Black {
		t.Error("yellow should take black text")
	}
}

func TestRobustRange(t *testing.T) {
	// 0..100 with q = 0.01: quantiles at index round(0.01·100) = 1 and 99,
	// widened by 10 % of 98 = 9.8.
	v := make([]float64, 101)
	for i := range v {
		v[i] = float64(i)
	}
	v = append(v, math.Inf(1))
	lo, hi, ok := RobustRange(v, 0.01)
	if !ok || math.Abs(lo-(1-9.8)) > 1e-12 || math.Abs(hi-(99+9.8)) > 1e-12 {
		t.Errorf("RobustRange = %g, %g, %v; want -8.8, 108.8, true", lo, hi, ok)
	}
}

func TestTile(t *testing.T) {
	// Two 2×2 images, 2 columns: width 2·3+1 = 7, height 1·3+1 = 4. Pixel value 1 is
	// black, 0 white, and the gaps are white.
	img := Tile([][]float32{{1, 0, 0, 1}, {0.5, 0.5, 0.5, 2}}, 2, 2)
	if b := img.Bounds(); b.Dx() != 7 || b.Dy() != 4 {
		t.Fatalf("size %v, want 7×4", b)
	}
	checks := []struct {
		x, y int
		want uint8
	}{
		{0, 0, 255}, {1, 1, 0}, {2, 1, 255}, {1, 2, 255}, {2, 2, 0}, {3, 1, 255},
		{4, 1, 128}, {5, 2, 0}, // 2 clamps to 1 → black
	}
	for _, c := range checks {
		if got := img.GrayAt(c.x, c.y).Y; got != c.want {
			t.Errorf("pixel (%d,%d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
}

func TestFiguresDecode(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("FLOWLAB_KEEP_FIGURES"); d != "" {
		dir = d // keep the figures to look at them
	}
	rng := rand.New(rand.NewPCG(3, 4))
	normals := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * rng.NormFloat64()
		}
		return v
	}
	xs := make([]float64, 101)
	ys := make([]float64, 101)
	for i := range xs {
		xs[i] = -4 + 8*float64(i)/100
		ys[i] = math.Exp(-xs[i]*xs[i]/2) / math.Sqrt(2*math.Pi)
	}
	var hp []HistPanel
	for i := range 6 {
		hp = append(hp, HistPanel{Title: "panel", Values: normals(500, 1+0.1*float64(i)),
			Curves: []Curve{{Label: "N(0,1)", X: xs, Y: ys}, {Label: "half", X: xs, Y: ys[:], Dashed: true}}})
	}
	cases := []struct {
		name string
		w, h int
		draw func(path string) error
	}{
		{"hist.png", 3 * 200, 2*150 + 30, func(p string) error {
			return HistGrid(p, "histograms", 3, hp, HistOptions{PanelW: 200, PanelH: 150, Legend: true, XLabel: "x"})
		}},
		{"hist_panels.png", 2 * 200, 150, func(p string) error {
			return HistGrid(p, "", 2, hp[:2], HistOptions{PanelW: 200, PanelH: 150, PanelRange: true})
		}},
		{"lines.png", 2 * 300, 200 + 30, func(p string) error {
			return LineGrid(p, "lines", 2, []LinePanel{{Title: "a", XLabel: "x", YLabel: "y", Curves: []Curve{{Label: "pdf", X: xs, Y: ys}, {Label: "dashed", X: xs, Y: ys, Dashed: true}}}, {Title: "b"}}, 300, 200)
		}},
		{"scatter.png", 4 * 180, 2*180 + 30, func(p string) error {
			var sp []ScatterPanel
			for i := range 8 {
				sp = append(sp, ScatterPanel{Title: "s", X: normals(300, 1), Y: normals(300, 2), Color: i})
			}
			return ScatterGrid(p, "scatter", 4, sp, ScatterOptions{Panel: 180})
		}},
		{"heat.png", 500, 300, func(p string) error {
			return Heatmap{Title: "heat", XTicks: []string{"a", "b", "c"}, YTicks: []string{"r0", "r1"},
				Values: [][]float64{{0.01, 0.1, 1}, {10, math.NaN(), 100}}, Log: true, BarLabel: "excess"}.Save(p, 500, 300)
		}},
		{"spectrum.png", 640, 400, func(p string) error {
			v := make([]float64, 100)
			for i := range v {
				v[i] = math.Pow(0.8, float64(i))
			}
			v[99] = 0 // skipped on the log axis
			return Spectrum{Title: "spectrum", Values: v, Cuts: []Cut{{10, "ten"}, {50, "fifty"}},
				Levels: []Level{{0.012, "0.012"}}}.Save(p, 640, 400)
		}},
		{"images.png", 2*(5*29+1)*2 + 2*24 + 10, 3*29*2 + 2 + 40 + 30, func(p string) error {
			var ims [][]float32
			for i := range 15 {
				im := make([]float32, 28*28)
				for j := range im {
					im[j] = float32((i+j)%28) / 27
				}
				ims = append(ims, im)
			}
			return ImageGrids(p, "digits", []ImagePanel{{"a", ims}, {"b", ims}}, 28, 5, 2)
		}},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if err := c.draw(path); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		w, h := decodePNG(t, path)
		if w != c.w || h != c.h {
			t.Errorf("%s: %d×%d px, want %d×%d", c.name, w, h, c.w, c.h)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if err := HistGrid(filepath.Join(dir, "a.png"), "", 2, nil, HistOptions{}); err == nil {
		t.Error("HistGrid with no panels: want error")
	}
	if err := (Spectrum{Values: []float64{0, -1}}).Save(filepath.Join(dir, "b.png"), 100, 100); err == nil {
		t.Error("Spectrum with no positive value: want error")
	}
	if err := HistGrid(filepath.Join(dir, "missing", "c.png"), "", 1, []HistPanel{{Values: []float64{1, 2}}}, HistOptions{}); err == nil {
		t.Error("write into a missing directory: want error")
	}
}

// LegendBottom and LegendRight move the legend: with a long label and one
// short curve in the panel's lower left, the default draws more dark pixels
// in the upper left quarter, the moved legend more in the lower right.
func TestLegendPlacement(t *testing.T) {
	dark := func(moved bool) (ul, lr int) {
		path := filepath.Join(t.TempDir(), "l.png")
		pan := LinePanel{Curves: []Curve{{Label: "a long legend label, long enough to count", X: []float64{0, 1}, Y: []float64{0, 0.01}}},
			LegendBottom: moved, LegendRight: moved}
		if err := LineGrid(path, "", 1, []LinePanel{pan}, 400, 300); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if r, g, bb, _ := img.At(x, y).RGBA(); r+g+bb < 3*0x8000 {
					switch {
					case x < b.Dx()/2 && y < b.Dy()/2:
						ul++
					case x >= b.Dx()/2 && y >= b.Dy()/2:
						lr++
					}
				}
			}
		}
		return ul, lr
	}
	ul0, lr0 := dark(false)
	ul1, lr1 := dark(true)
	if !(ul0 > ul1 && lr1 > lr0) {
		t.Errorf("dark pixels upper left / lower right: default %d / %d, moved %d / %d", ul0, lr0, ul1, lr1)
	}
}
