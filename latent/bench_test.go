package latent_test

import (
	"context"
	"fmt"
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

// BenchmarkAEStep is one training step of an MNIST autoencoder 784 →
// hidden → 16 and back: flowlab ae train's defaults and the latent
// experiment's paper scale (512,256, batch 256), and its quick scale (256,
// batch 128).
func BenchmarkAEStep(b *testing.B) {
	for _, c := range []struct {
		name   string
		hidden []int
		batch  int
	}{{"512-256-b256", []int{512, 256}, 256}, {"256-b128", []int{256}, 128}} {
		b.Run(c.name, func(b *testing.B) {
			x := benchImages(1024, 784)
			b.ResetTimer()
			if _, err := latent.TrainAE(context.Background(), x, latent.AEConfig{Latent: 16, Hidden: c.hidden},
				latent.AEOptions{Steps: b.N, Batch: c.batch, LR: 1e-3, Seed: 1}); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkFlowStep is one training step of flowlab train's default field
// (hidden 256,256,256, batch 256: the latent experiment's quick scale) in
// pixel space (784) and in the latents of the experiment's rows: PCA's
// 99 % (331) and 95 % (154), autoencoders' 64 and 16; from N(0, I).
func BenchmarkFlowStep(b *testing.B) {
	for _, d := range []int{784, 331, 154, 64, 16} {
		b.Run(fmt.Sprintf("d%d", d), func(b *testing.B) {
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
