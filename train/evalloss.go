package train

import (
	"context"
	"math/rand/v2"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// EvalLoss estimates the training objectives of trained networks on n fresh
// draws: the drift loss E‖b(x_t, t) − ẋ_t‖² (for a DriftSplit cfg, the
// network's own loss E‖v(x_t, t) − α̇x0 − β̇x1‖²) and, when eta is not nil, the
// denoiser loss E‖η(x_t, t) − z‖², with x_t built exactly as in training
// (cfg's interpolant, coupling within batches of cfg.Batch, t-sampler). The
// sums are accumulated in float64. cfg must be a prepared configuration (as
// in Result.Config or a run's config.json).
func EvalLoss(ctx context.Context, net, eta *nn.Net, cfg Config, src, tgt dist.Sampler, n int, rng *rand.Rand) (loss, etaLoss float64, err error) {
	if n <= 0 {
		return 0, 0, cfgErrorf("eval loss: n = %d, want > 0", n)
	}
	cfg, err = Prepare(src, tgt, cfg)
	if err != nil {
		return 0, 0, err
	}
	ip, err := cfg.Interpolant()
	if err != nil {
		return 0, 0, cfgErrorf("%w", err)
	}
	cp, err := coupling.Parse(cfg.Coupling)
	if err != nil {
		return 0, 0, cfgErrorf("%w", err)
	}
	d := cfg.Dim
	var x0, x1, z, xt, bT, etaT mat.Dense
	t := make([]float32, 0, cfg.Batch)
	var sum, etaSum float64
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		b := min(cfg.Batch, n-done)
		for _, m := range []*mat.Dense{&x0, &x1, &xt, &bT} {
			m.Reshape(b, d)
		}
		t = t[:b]
		src.Sample(rng, &x0)
		tgt.Sample(rng, &x1)
		if err := cp.Couple(ctx, rng, &x0, &x1); err != nil {
			return 0, 0, err
		}
		sampleT(rng, cfg.TSampler, ip, t)
		var zp, ep *mat.Dense
		if !ip.Gamma.Zero() {
			z.Reshape(b, d)
			interp.FillNormal(rng, &z)
			zp = &z
		}
		if eta != nil {
			etaT.Reshape(b, d)
			ep = &etaT
		}
		batchFor(cfg, ip)(&x0, &x1, zp, t, &xt, &bT, ep)
		sum += sqDist(net.Forward(&xt, t), &bT)
		if eta != nil {
			etaSum += sqDist(eta.Forward(&xt, t), &etaT)
		}
		done += b
	}
	return sum / float64(n), etaSum / float64(n), nil
}

// sqDist returns Σ (a−b)² over every entry, in float64.
func sqDist(a, b *mat.Dense) float64 {
	var s float64
	for i, v := range a.Data {
		d := float64(v) - float64(b.Data[i])
		s += d * d
	}
	return s
}
