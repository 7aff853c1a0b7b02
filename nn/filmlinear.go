package nn

import "github.com/flowlab/flowlab/mat"

// The legacy "film" architecture (Config.TimeEmbed 0) is the MLP plus
// feature-wise linear modulation by time: every hidden pre-activation
// u = W·h + b becomes u⊙(1 + s(t)) + c(t) before the activation, with
// [s; c] = M·e(t) + m linear in e(t) = [t, sin(2πkt), cos(2πkt)]
// (k = 1..Fourier). M and m start at zero, so a fresh net computes what the
// MLP of the same seed does. It is kept so that run folders written with it
// load and give the same bits; the learned embedding (film.go) replaces it.

// filmForward computes FiLM layer l from its input h: u = W·h + b,
// [s; c] = M·e + m, pre = u⊙(1+s) + c and act = act(pre).
func (n *Net) filmForward(l *layer, h *mat.Dense) {
	l.u.Reshape(h.R, l.out)
	n.th.GemmBiasAct(false, true, h, l.w, l.b, mat.Identity, l.u, l.u)
	// sc holds [1+s; c]: the bias m plus 1 on the s half.
	w := l.out
	fb1 := n.fb1[:2*w]
	for j, v := range l.fb {
		fb1[j] = v
		if j < w {
			fb1[j] = v + 1
		}
	}
	l.sc.Reshape(h.R, 2*w)
	n.th.GemmBiasAct(false, true, n.emb, l.fm, fb1, mat.Identity, l.sc, l.sc)
	for r := 0; r < h.R; r++ {
		pre := l.pre.Data[r*w : (r+1)*w]
		u := l.u.Data[r*w : (r+1)*w]
		s1 := l.sc.Data[r*2*w : r*2*w+w]
		c := l.sc.Data[r*2*w+w : (r+1)*2*w]
		u, s1, c = u[:len(pre)], s1[:len(pre)], c[:len(pre)]
		for j := range pre {
			pre[j] = u[j]*s1[j] + c[j]
		}
	}
	l.act.Reshape(h.R, l.out)
	n.th.BiasAct(n.act, l.pre, n.zero[:w], l.act)
}

// filmTangent turns l.dpre, the JVP tangent of u, into that of pre: s and c
// do not depend on x, so d(pre) = d(u)⊙(1+s).
func (n *Net) filmTangent(l *layer) {
	w := l.out
	for r := 0; r < l.dpre.R; r++ {
		dp := l.dpre.Data[r*w : (r+1)*w]
		s1 := l.sc.Data[r*2*w : r*2*w+w]
		s1 = s1[:len(dp)]
		for j := range dp {
			dp[j] *= s1[j]
		}
	}
}

// filmBackward takes g = dL/d(pre) of FiLM layer l (pre = u⊙(1+s) + c),
// adds the gradients of M and m, and turns g into dL/du = g⊙(1+s) in place.
func (n *Net) filmBackward(l *layer, g *mat.Dense) {
	w := l.out
	n.dsc.Reshape(g.R, 2*w)
	for r := 0; r < g.R; r++ {
		gr := g.Data[r*w : (r+1)*w]
		u := l.u.Data[r*w : (r+1)*w]
		s1 := l.sc.Data[r*2*w : r*2*w+w]
		ds := n.dsc.Data[r*2*w : r*2*w+w]
		u, s1, ds = u[:len(gr)], s1[:len(gr)], ds[:len(gr)]
		copy(n.dsc.Data[r*2*w+w:(r+1)*2*w], gr) // dc = g
		for j, gj := range gr {
			ds[j] = gj * u[j]
			gr[j] = gj * s1[j]
		}
	}
	// dM = dscᵀ·e is 2w×E with E small: computed transposed (E×2w, a shape
	// the GEMM handles far better) and added in.
	e := n.emb.C
	n.gfmT.Reshape(e, 2*w)
	n.th.Gemm(true, false, 1, n.emb, n.dsc, 0, n.gfmT)
	for k := 0; k < e; k++ {
		row := n.gfmT.Data[k*2*w : (k+1)*2*w]
		for j, v := range row {
			l.gfm.Data[j*e+k] += v
		}
	}
	mat.ColSumAdd(n.dsc, l.gfb)
}
