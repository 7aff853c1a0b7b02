package dist

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
)

// Toy2D is one of the 2-D toy sets. Kind picks the set; the other fields are
// its parameters (NewToy2D fills the defaults, which reproduce the reference
// implementations named below). Every set draws each point independently.
//
//	8gaussians    torchcfm's: centre Scale·(cos kπ/4, sin kπ/4), k uniform in 0..7,
//	              plus N(0, Var·I) with Var = √0.1 (std 0.1^¼ ≈ 0.562), Scale = 5.
//	              Style "ffjord": Scale = 4/1.414, Var = (0.5/1.414)² (FFJORD's).
//	moons         sklearn's two half circles with θ ~ U(0, π) drawn iid, a moon
//	              chosen with probability ½, plus N(0, Noise²·I), then ·Scale + Shift.
//	              Default (FFJORD's): Noise 0.1, Scale 2, Shift (−1, −0.2).
//	              Style "torchcfm": Noise 0.2, Scale 3, Shift (−1, −1). (sklearn, and so
//	              torchcfm, space θ evenly within a batch; here every point is iid.)
//	line          FFJORD's: x ~ U(−Scale, Scale), y = x (Scale 2.5), plus N(0, Noise²·I)
//	              (Noise 0).
//	circles       FFJORD's: radius 1 or Factor (0.5) with probability ½, angle
//	              ~ U(0, 2π), plus N(0, Noise²·I) (Noise 0.08), then ·Scale (3).
//	checkerboard  FFJORD's: x1 ~ U(−2, 2), x2 uniform on the squares of the
//	              4×4 board of the same colour as x1's column, then ·Scale (2),
//	              plus N(0, Noise²·I) (Noise 0).
//	spirals       FFJORD's 2spirals: r = 3π√u, arm (−r cos r + U(0,½), r sin r + U(0,½)),
//	              negated with probability ½, divided by 3, plus N(0, Noise²·I)
//	              (Noise 0.1); Scale multiplies the result (1).
//	swissroll     FFJORD's: t ~ U(1.5π, 4.5π), (t cos t, t sin t) plus N(0, Noise²·I)
//	              (Noise 1), then ·Scale (1/5).
type Toy2D struct {
	Kind   string     // one of ToyKinds()
	Style  string     // "" or a reference's name ("torchcfm", "ffjord") where the kind has one
	Scale  float64    // overall size (see the table)
	Noise  float64    // std of the isotropic Gaussian noise
	Var    float64    // 8gaussians: per-coordinate variance around each centre
	Factor float64    // circles: inner radius / outer radius
	Shift  [2]float64 // moons: added after scaling
}

// ToyKinds returns the names of the 2-D toy sets, in the order Specs
// documents them (a fresh slice each call).
func ToyKinds() []string {
	return []string{"8gaussians", "moons", "line", "circles", "checkerboard", "spirals", "swissroll"}
}

// NewToy2D returns the toy set kind with its default parameters for style
// ("" for the default style).
func NewToy2D(kind, style string) (*Toy2D, error) {
	t := &Toy2D{Kind: kind, Style: style}
	bad := func() error {
		return fmt.Errorf("%s: unknown style %q", kind, style)
	}
	switch kind {
	case "8gaussians":
		switch style {
		case "", "torchcfm":
			t.Scale, t.Var = 5, math.Sqrt(0.1)
		case "ffjord":
			t.Scale, t.Var = 4/1.414, (0.5/1.414)*(0.5/1.414)
		default:
			return nil, bad()
		}
	case "moons":
		switch style {
		case "", "ffjord":
			t.Noise, t.Scale, t.Shift = 0.1, 2, [2]float64{-1, -0.2}
		case "torchcfm":
			t.Noise, t.Scale, t.Shift = 0.2, 3, [2]float64{-1, -1}
		default:
			return nil, bad()
		}
	case "line":
		t.Scale = 2.5
	case "circles":
		t.Noise, t.Factor, t.Scale = 0.08, 0.5, 3
	case "checkerboard":
		t.Scale = 2
	case "spirals":
		t.Noise, t.Scale = 0.1, 1
	case "swissroll":
		t.Noise, t.Scale = 1, 0.2
	default:
		return nil, fmt.Errorf("unknown toy set %q", kind)
	}
	if style != "" && kind != "8gaussians" && kind != "moons" {
		return nil, bad()
	}
	return t, nil
}

// Dim returns 2.
func (t *Toy2D) Dim() int { return 2 }

// Centres returns the 8gaussians mode centres (nil for other kinds).
func (t *Toy2D) Centres() [][]float64 {
	if t.Kind != "8gaussians" {
		return nil
	}
	c := make([][]float64, 8)
	for k := range c {
		a := float64(k) * math.Pi / 4
		c[k] = []float64{t.Scale * math.Cos(a), t.Scale * math.Sin(a)}
	}
	return c
}

// Sample fills dst with independent draws.
func (t *Toy2D) Sample(rng *rand.Rand, dst *mat.Dense) { t.sample(rng, dst, nil) }

// Classes is the number of labels the kind's draws carry: the component of
// 8gaussians (8, counter-clockwise from angle 0), the half of moons (2: the
// upper moon 0), the ring of circles (2: the outer 0), the arm of spirals
// (2), the cell of checkerboard (8, row-major from the lower left); 0 for
// line and swissroll, which have none.
func (t *Toy2D) Classes() int {
	switch t.Kind {
	case "8gaussians", "checkerboard":
		return 8
	case "moons", "circles", "spirals":
		return 2
	}
	return 0
}

// SampleLabeled fills dst with the draws Sample makes from the same rng state
// and labels with their classes. It panics for a kind without labels.
func (t *Toy2D) SampleLabeled(rng *rand.Rand, dst *mat.Dense, labels []int) {
	if t.Classes() == 0 {
		panic(fmt.Sprintf("dist: %s has no labels", t.Kind))
	}
	checkLabels(dst, labels)
	t.sample(rng, dst, labels)
}

func (t *Toy2D) sample(rng *rand.Rand, dst *mat.Dense, labels []int) {
	checkDst(t.Kind, 2, dst)
	for i := 0; i < dst.R; i++ {
		x, y, l := t.draw(rng)
		dst.Data[2*i] = float32(x)
		dst.Data[2*i+1] = float32(y)
		if labels != nil {
			labels[i] = l
		}
	}
}

// draw returns one point and its label (0 for kinds without labels).
func (t *Toy2D) draw(rng *rand.Rand) (x, y float64, label int) {
	switch t.Kind {
	case "8gaussians":
		k := rng.IntN(8)
		a := float64(k) * math.Pi / 4
		s := math.Sqrt(t.Var)
		return t.Scale*math.Cos(a) + s*rng.NormFloat64(), t.Scale*math.Sin(a) + s*rng.NormFloat64(), k
	case "moons":
		th := math.Pi * rng.Float64()
		label = rng.IntN(2)
		if label == 0 {
			x, y = math.Cos(th), math.Sin(th)
		} else {
			x, y = 1-math.Cos(th), 0.5-math.Sin(th)
		}
		x += t.Noise * rng.NormFloat64()
		y += t.Noise * rng.NormFloat64()
		return x*t.Scale + t.Shift[0], y*t.Scale + t.Shift[1], label
	case "line":
		x = t.Scale * (2*rng.Float64() - 1)
		return x + t.Noise*rng.NormFloat64(), x + t.Noise*rng.NormFloat64(), 0
	case "circles":
		r := 1.0
		if label = rng.IntN(2); label == 1 {
			r = t.Factor
		}
		a := 2 * math.Pi * rng.Float64()
		x = r*math.Cos(a) + t.Noise*rng.NormFloat64()
		y = r*math.Sin(a) + t.Noise*rng.NormFloat64()
		return x * t.Scale, y * t.Scale, label
	case "checkerboard":
		x1 := 4*rng.Float64() - 2
		x2 := rng.Float64() - float64(2*rng.IntN(2))
		// FFJORD adds np.floor(x1) % 2 (Python's modulo, so always 0 or 1).
		x2 += float64(((int(math.Floor(x1)) % 2) + 2) % 2)
		// The cell: column floor(x1)+2 in 0..3, row floor(x2)+2 in 0..3,
		// two filled cells a row.
		label = 2*int(math.Floor(x2)+2) + int(math.Floor(x1)+2)/2
		return x1*t.Scale + t.Noise*rng.NormFloat64(), x2*t.Scale + t.Noise*rng.NormFloat64(), label
	case "spirals":
		r := math.Sqrt(rng.Float64()) * 540 * 2 * math.Pi / 360
		x = -math.Cos(r)*r + 0.5*rng.Float64()
		y = math.Sin(r)*r + 0.5*rng.Float64()
		if label = rng.IntN(2); label == 1 {
			x, y = -x, -y
		}
		x = x/3 + t.Noise*rng.NormFloat64()
		y = y/3 + t.Noise*rng.NormFloat64()
		return x * t.Scale, y * t.Scale, label
	case "swissroll":
		s := 1.5 * math.Pi * (1 + 2*rng.Float64())
		x = s*math.Cos(s) + t.Noise*rng.NormFloat64()
		y = s*math.Sin(s) + t.Noise*rng.NormFloat64()
		return x * t.Scale, y * t.Scale, 0
	}
	panic(fmt.Sprintf("dist: unknown toy kind %q", t.Kind))
}
