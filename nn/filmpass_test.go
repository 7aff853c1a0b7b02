package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// TestFilmPassesBits pins the bits of a learned-embedding film net's
// Forward and Backward to a reference that computes the same formulas
// plainly, one whole-batch operation after another: the modulation of
// every layer as one B×K product, then per layer u = W·h + b,
// pre = u⊙(1+s) + c and act(pre), and backward the same steps reversed.
// The net computes the modulation by groups of layers and row blocks, and
// runs its element-wise work in blocks of rows shared among goroutines
// (filmsc.go, filmpass.go); the batches here are cut into several blocks
// with a short last one, several chunks once GOMAXPROCS is 2, and the
// shapes take in a group with the output's scale (Dim 3), a hidden layer too
// narrow for a group of its own, and a reduction short enough for mat's
// small-k products (E = 4). The reference shares the net's input and time
// embedding e(t), whose code these passes do not touch.
func TestFilmPassesBits(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		b   int
	}{
		{Config{Dim: 3, Hidden: []int{96, 160}, Arch: "film", TimeEmbed: 8}, 700},
		{Config{Dim: 2, Hidden: []int{2, 40, 33}, Arch: "film", TimeEmbed: 4, Act: "gelu"}, 301},
	} {
		for _, procs := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v-procs%d", c.cfg.Hidden, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				n := mustNew(t, c.cfg, 3)
				rng := rand.New(rand.NewPCG(8, 9))
				x, tm := randBatch(rng, c.b, c.cfg.Dim)
				g, _ := randBatch(rng, c.b, c.cfg.Dim)
				out := n.Forward(x, tm)
				ref := n.Clone()
				ref.ZeroGrad()
				want := filmReference(n, ref, g)
				n.ZeroGrad()
				n.Backward(g, false)
				sameBits(t, "output", out.Data, want.Data)
				sameBits(t, "gradient", n.grads, ref.grads)
			})
		}
	}
}

// filmReference computes net n's output on its last Forward's input (n.in,
// with e(t) in n.te.e) and, from gOut, the gradient into ref's (a clone of
// n, its gradients zero), as plain whole-batch operations, in the order
// and with the rounding the film formulas define.
func filmReference(n, ref *Net, gOut *mat.Dense) *mat.Dense {
	te, rt := n.te, ref.te
	b, k := n.in.R, len(te.mb)
	mb1 := append([]float32(nil), te.mb...)
	for _, l := range n.layers {
		for j := l.col; j < l.col+l.out; j++ {
			mb1[j]++
		}
	}
	sc := mat.New(b, k)
	mat.GemmBiasAct(false, true, te.e, te.m, mb1, mat.Identity, sc, sc)
	last := len(n.layers) - 1
	us, pres, acts := make([]*mat.Dense, len(n.layers)), make([]*mat.Dense, last), make([]*mat.Dense, last)
	h := n.in
	var out *mat.Dense
	for i, l := range n.layers {
		w := l.out
		u := mat.New(b, w)
		mat.GemmBiasAct(false, true, h, l.w, l.b, mat.Identity, u, u)
		us[i] = u
		v := mat.New(b, w)
		for r := 0; r < b; r++ {
			for j := 0; j < w; j++ {
				s1 := sc.At(r, l.col+j)
				if i == last {
					v.Set(r, j, u.At(r, j)*s1)
				} else {
					v.Set(r, j, float32(u.At(r, j)*s1)+sc.At(r, l.col+w+j))
				}
			}
		}
		if i == last {
			out = v
			break
		}
		pres[i], acts[i] = v, mat.New(b, w)
		mat.BiasAct(n.act, pres[i], make([]float32, w), acts[i])
		h = acts[i]
	}
	dsc := mat.New(b, k)
	l := n.layers[last]
	g := mat.New(b, l.out)
	for r := 0; r < b; r++ {
		for j := 0; j < l.out; j++ {
			dsc.Set(r, l.col+j, gOut.At(r, j)*us[last].At(r, j))
			g.Set(r, j, gOut.At(r, j)*sc.At(r, l.col+j))
		}
	}
	for i := last; i >= 0; i-- {
		l, rl := n.layers[i], ref.layers[i]
		h := n.in
		if i > 0 {
			h = acts[i-1]
		}
		mat.Gemm(true, false, 1, g, h, 1, rl.gw)
		mat.ColSumAdd(g, rl.gb)
		if i == 0 {
			break
		}
		dh := mat.New(b, l.in)
		mat.Gemm(false, false, 1, g, l.w, 0, dh)
		mat.ActBackward(n.act, pres[i-1], dh)
		p := n.layers[i-1]
		for r := 0; r < b; r++ {
			for j := 0; j < p.out; j++ {
				d := dh.At(r, j)
				dsc.Set(r, p.col+p.out+j, d)
				dsc.Set(r, p.col+j, d*us[i-1].At(r, j))
				dh.Set(r, j, d*sc.At(r, p.col+j))
			}
		}
		g = dh
	}
	// The heads and the time MLP, as timeEmbed.backward.
	e := te.e.C
	mat.Gemm(true, false, 1, dsc, te.e, 1, rt.gm)
	mat.ColSumAdd(dsc, rt.gmb)
	de, da := mat.New(b, e), mat.New(b, e)
	mat.Gemm(false, false, 1, dsc, te.m, 0, de)
	mat.ActBackward(mat.SiLU, te.p2, de)
	mat.Gemm(true, false, 1, de, te.a1, 1, rt.gw2)
	mat.ColSumAdd(de, rt.gb2)
	mat.Gemm(false, false, 1, de, te.w2, 0, da)
	mat.ActBackward(mat.SiLU, te.p1, da)
	mat.Gemm(true, false, 1, da, te.phi, 1, rt.gw1)
	mat.ColSumAdd(da, rt.gb1)
	return out
}

// sameBits fails t unless got and want hold the same float32 bits.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v (bits differ)", what, i, got[i], want[i])
		}
	}
}

// TestFilmHeadsGradBits is TestFilmPassesBits for embeddings wide enough
// (E a multiple of 16) that the backward passes sum the heads' gradient
// themselves, block by block or, on two goroutines, after each pass
// (filmpass.go), instead of backward's product: the gradient must keep that
// product's bits. It runs on every kernel path this CPU has, with batches
// of one partial block, several blocks with a short last one, and more
// than one of mat's reduction blocks (1500 rows: two of 750), and layer
// widths that leave ragged tiles.
func TestFilmHeadsGradBits(t *testing.T) {
	for _, k := range mat.SupportedKernels() {
		for _, c := range []struct {
			cfg Config
			b   int
		}{
			{Config{Dim: 2, Hidden: []int{40, 33}, Arch: "film", TimeEmbed: 16}, 301},
			{Config{Dim: 3, Hidden: []int{64, 64, 64}, Arch: "film", TimeEmbed: 32}, 1500},
			{Config{Dim: 5, Hidden: []int{24}, Arch: "film", TimeEmbed: 48}, 7},
		} {
			for _, procs := range []int{1, 2} {
				t.Run(fmt.Sprintf("%v-%v-procs%d", k, c.cfg.Hidden, procs), func(t *testing.T) {
					restore, err := mat.SetKernel(k)
					if err != nil {
						t.Fatal(err)
					}
					defer restore()
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					n := mustNew(t, c.cfg, 4)
					rng := rand.New(rand.NewPCG(10, 11))
					for i := range n.te.m.Data { // heads away from their zero start
						n.te.m.Data[i] = float32(rng.NormFloat64() * 0.1)
					}
					x, tm := randBatch(rng, c.b, c.cfg.Dim)
					g, _ := randBatch(rng, c.b, c.cfg.Dim)
					out := n.Forward(x, tm)
					ref := n.Clone()
					ref.ZeroGrad()
					want := filmReference(n, ref, g)
					n.ZeroGrad()
					n.Backward(g, false)
					sameBits(t, "output", out.Data, want.Data)
					sameBits(t, "gradient", n.grads, ref.grads)
				})
			}
		}
	}
}
