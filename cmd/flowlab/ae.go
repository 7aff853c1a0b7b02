package main

import (
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
)

func newAECmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ae",
		Short: "train an autoencoder whose latent a flow can be trained in (--latent ae:DIR)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newAETrainCmd(), newAEEvalCmd())
	return cmd
}

type aeFlags struct {
	data, test, out, hidden string
	cfg                     latent.AEConfig
	o                       latent.AEOptions
	fd                      fdFlags
}

func newAETrainCmd() *cobra.Command {
	f := &aeFlags{}
	cmd := &cobra.Command{
		Use:   "train --data SPEC --out DIR --latent-dim D [flags]",
		Short: "train an MLP autoencoder on a data set into a map folder",
		Long: `Train an autoencoder: an MLP encoder from the data to --latent-dim
coordinates and the mirrored MLP decoder back, both with flowlab's engine,
with binary cross-entropy on logits and a sigmoid at decode (--loss bce, for
data in [0, 1] such as MNIST) or squared error (--loss mse). The folder
(latent.json, encoder.safetensors, decoder.safetensors) is what
flowlab train --latent ae:DIR reads. With --test, the reconstruction error
of that data set is printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "training data: a data-set SPEC (mnist, file:x.npy)")
	fl.StringVar(&f.test, "test", "", "data set whose reconstruction error is reported (e.g. mnist:split=test)")
	fl.StringVar(&f.out, "out", "", "map folder to write")
	fl.IntVar(&f.cfg.Latent, "latent-dim", 16, "latent dimension d")
	fl.StringVar(&f.hidden, "hidden", "512,256", "encoder hidden widths (the decoder mirrors them)")
	fl.StringVar(&f.cfg.Act, "act", "silu", "activation")
	fl.StringVar(&f.cfg.Loss, "loss", "bce", "bce (sigmoid output, data in [0, 1]) or mse")
	fl.IntVar(&f.o.Steps, "steps", 5000, "Adam steps")
	fl.IntVar(&f.o.Batch, "batch", 256, "batch size")
	fl.Float64Var(&f.o.LR, "lr", 1e-3, "peak learning rate (cosine schedule)")
	fl.Uint64Var(&f.o.Seed, "seed", 1, "seed")
	f.fd.add(fl) // with --test: FD-MNIST of the reconstructions against the originals
	return cmd
}

// finiteData parses spec and returns its rows; it must be a data set.
func finiteData(flag, spec string) (*mat.Dense, error) {
	s, err := dist.Parse(spec)
	if err != nil {
		return nil, usagef("--%s: %v", flag, err)
	}
	f, ok := s.(dist.Finite)
	if !ok {
		return nil, usagef("--%s %s: want a data set (mnist, file:PATH), not a distribution", flag, spec)
	}
	return f.Data(), nil
}

func (f *aeFlags) run(cmd *cobra.Command) error {
	if f.data == "" || f.out == "" {
		return usagef("ae train needs --data SPEC and --out DIR")
	}
	h, err := parseInts("hidden", f.hidden)
	if err != nil {
		return usagef("%v", err)
	}
	f.cfg.Hidden, f.o.Progress = h, cmd.ErrOrStderr()
	x, err := finiteData("data", f.data)
	if err != nil {
		return err
	}
	var test *mat.Dense
	if f.test != "" {
		if test, err = finiteData("test", f.test); err != nil {
			return err
		}
		if test.C != x.C {
			return usagef("--test is %d-D, --data %d-D", test.C, x.C)
		}
	}
	if f.fd.on && test == nil {
		return usagef("--fd-mnist scores the reconstructions of --test: give --test")
	}
	if f.cfg.Latent < 1 || f.cfg.Latent > x.C {
		return usagef("--latent-dim %d is not in 1..%d (the data's dimension)", f.cfg.Latent, x.C)
	}
	a, err := latent.TrainAE(cmd.Context(), x, f.cfg, f.o)
	if err != nil {
		return usageError{err}
	}
	if err := latent.SaveMap(f.out, a); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d-D → %d-D autoencoder\n", f.out, x.C, f.cfg.Latent)
	if test == nil {
		return nil
	}
	return reportRecon(cmd, a, f.test, test, &f.fd)
}

// reportRecon prints the reconstruction error of the rows of test through
// m and, with --fd-mnist, FD-MNIST of the reconstructions against them.
func reportRecon(cmd *cobra.Command, m latent.Map, name string, test *mat.Dense, fd *fdFlags) error {
	y := m.Decode(m.Encode(test))
	fmt.Fprintf(cmd.OutOrStdout(), "%s: reconstruction mean squared error per coordinate %.5g\n", name, meanSquared(y, test))
	if !fd.on {
		return nil
	}
	s, err := fd.score(cmd, y, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: FD-MNIST of the reconstructions against the originals %.4g (class entropy %.4f nats)\n", name, s.FD, s.Coverage.Entropy)
	return nil
}

func newAEEvalCmd() *cobra.Command {
	var dir, test string
	var fd fdFlags
	cmd := &cobra.Command{
		Use:   "eval --map DIR --test SPEC [--fd-mnist]",
		Short: "reconstruction error of a map folder (an autoencoder, or a run's latent/)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || test == "" {
				return usagef("ae eval needs --map DIR and --test SPEC")
			}
			m, err := latent.LoadMap(dir)
			if err != nil {
				return usagef("--map: %v", err)
			}
			x, err := finiteData("test", test)
			if err != nil {
				return err
			}
			if x.C != m.Dim() {
				return usagef("--test is %d-D, the map encodes %d-D data", x.C, m.Dim())
			}
			return reportRecon(cmd, m, test, x, &fd)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "map", "", "map folder (flowlab ae train's --out, or RUN/latent)")
	fl.StringVar(&test, "test", "", "data set to reconstruct")
	fd.add(fl)
	return cmd
}

// meanSquared returns the mean squared difference of two equal-shaped
// matrices, per coordinate.
func meanSquared(y, x *mat.Dense) float64 {
	var s float64
	for i, v := range x.Data {
		s += math.Pow(float64(y.Data[i])-float64(v), 2)
	}
	return s / float64(len(x.Data))
}
