package nn

// Row kernels of the learned-embedding film net's modulation, unrolled by
// four with the slices cut to one length so that the loops carry no bounds
// checks: per element they are the operations the modulation defines,
// rounded the same way (the conversions in mulAddRow forbid fusing the
// product and the sum into an FMA, as the compiler may with GOAMD64=v3).

// mulAddRow sets d = u⊙s + c.
func mulAddRow(d, u, s, c []float32) {
	n := len(d)
	u, s, c = u[:n], s[:n], c[:n]
	j := 0
	for ; j+4 <= n; j += 4 {
		d0, u0, s0, c0 := d[j:j+4:j+4], u[j:j+4:j+4], s[j:j+4:j+4], c[j:j+4:j+4]
		d0[0] = float32(u0[0]*s0[0]) + c0[0]
		d0[1] = float32(u0[1]*s0[1]) + c0[1]
		d0[2] = float32(u0[2]*s0[2]) + c0[2]
		d0[3] = float32(u0[3]*s0[3]) + c0[3]
	}
	for ; j < n; j++ {
		d[j] = float32(u[j]*s[j]) + c[j]
	}
}

// mulRow sets d = u⊙s.
func mulRow(d, u, s []float32) {
	n := len(d)
	u, s = u[:n], s[:n]
	j := 0
	for ; j+4 <= n; j += 4 {
		d0, u0, s0 := d[j:j+4:j+4], u[j:j+4:j+4], s[j:j+4:j+4]
		d0[0] = u0[0] * s0[0]
		d0[1] = u0[1] * s0[1]
		d0[2] = u0[2] * s0[2]
		d0[3] = u0[3] * s0[3]
	}
	for ; j < n; j++ {
		d[j] = u[j] * s[j]
	}
}

// backRow sets ds = g⊙u, then g = g⊙s (in place).
func backRow(g, u, s, ds []float32) {
	n := len(g)
	u, s, ds = u[:n], s[:n], ds[:n]
	j := 0
	for ; j+4 <= n; j += 4 {
		g0, u0, s0, d0 := g[j:j+4:j+4], u[j:j+4:j+4], s[j:j+4:j+4], ds[j:j+4:j+4]
		d0[0], g0[0] = g0[0]*u0[0], g0[0]*s0[0]
		d0[1], g0[1] = g0[1]*u0[1], g0[1]*s0[1]
		d0[2], g0[2] = g0[2]*u0[2], g0[2]*s0[2]
		d0[3], g0[3] = g0[3]*u0[3], g0[3]*s0[3]
	}
	for ; j < n; j++ {
		ds[j], g[j] = g[j]*u[j], g[j]*s[j]
	}
}
