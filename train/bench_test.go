package train

import (
	"context"
	"testing"
)

// BenchmarkFitStep measures one training step (sampling, interpolant
// targets, forward, backward, Adam, EMA, NaN guard) of the issue-3 problem:
// N(0,½I_8) → N(0,I_8), hidden 64,64,64, batch 256.
func BenchmarkFitStep(b *testing.B) {
	src, tgt := gauss(b, 8, 0.5), gauss(b, 8, 1)
	cfg := Config{Hidden: []int{64, 64, 64}, Steps: b.N, Batch: 256, LR: 1e-3, EMA: 0.999, Seed: 1}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := Fit(context.Background(), src, tgt, cfg, Options{}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFitStepEta is BenchmarkFitStep with γ ≠ 0: two networks.
func BenchmarkFitStepEta(b *testing.B) {
	src, tgt := gauss(b, 8, 0.5), gauss(b, 8, 1)
	cfg := Config{Hidden: []int{64, 64, 64}, Steps: b.N, Batch: 256, LR: 1e-3, Gamma: "0.5", Seed: 1}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := Fit(context.Background(), src, tgt, cfg, Options{}); err != nil {
		b.Fatal(err)
	}
}
