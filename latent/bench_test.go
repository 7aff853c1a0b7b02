package latent_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// benchImages returns n rows of d uniform values (the step's cost does not
// depend on them).
func benchImages(n, d int) *mat.Dense {
	rng := rand.New(rand.NewPCG(1, 1))
	x := mat.New(n, d)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	return x
}

// BenchmarkAEStep is one training step of the MNIST autoencoder
// 784 → 512 → 256 → 16 and back, batch 256 (flowlab ae train's defaults).
func BenchmarkAEStep(b *testing.B) {
	x := benchImages(1024, 784)
	b.ResetTimer()
	if _, err := latent.TrainAE(context.Background(), x, latent.AEConfig{Latent: 16, Hidden: []int{512, 256}},
		latent.AEOptions{Steps: b.N, Batch: 256, LR: 1e-3, Seed: 1}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFlowStep is one training step of flowlab train's default field
// (hidden 256,256,256, batch 256) in pixel space (784) and in latents of
// 16 and 154 dimensions (an AE's, PCA's 95 %), from N(0, I).
func BenchmarkFlowStep(b *testing.B) {
	for _, d := range []int{784, 154, 16} {
		b.Run(map[int]string{784: "pixels", 154: "latent154", 16: "latent16"}[d], func(b *testing.B) {
			src, err := dist.NewGaussian(d, 1, 0)
			if err != nil {
				b.Fatal(err)
			}
			tgt := dist.NewDataset("codes", benchImages(1024, d))
			cfg := train.Config{Hidden: []int{256, 256, 256}, Steps: b.N, Batch: 256, LR: 1e-3, Seed: 1}
			b.ResetTimer()
			if _, err := train.Fit(context.Background(), src, tgt, cfg, train.Options{}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
