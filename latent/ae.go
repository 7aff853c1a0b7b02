package latent

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/optim"
)

// AEConfig describes an autoencoder: an MLP encoder Dim → Hidden... →
// Latent and an MLP decoder Latent → reversed Hidden... → Dim, neither with
// a time input.
type AEConfig struct {
	Dim    int    `json:"dim"`
	Latent int    `json:"latent"`
	Hidden []int  `json:"hidden"` // the encoder's widths; the decoder's are reversed
	Act    string `json:"act"`    // nn activation, silu by default
	// Loss is "bce" (default: binary cross-entropy on logits, the decoder
	// ending in a sigmoid; data in [0, 1]) or "mse" (squared error, a
	// linear decoder output; any data).
	Loss string `json:"loss"`
}

// AEOptions choose how an autoencoder is trained.
type AEOptions struct {
	Steps, Batch int
	LR           float64 // Adam's peak rate, cosine schedule to 1 % of it
	Seed         uint64
	Progress     io.Writer // a line every 500 steps; nil for none
}

// AE is a trained autoencoder. Encode standardises the encoder's output
// with the per-coordinate mean and standard deviation of the training
// data's codes, so that latents are centred with unit variance (the scale
// of a N(0, I) source); Decode undoes it.
type AE struct {
	Config    AEConfig
	Enc, Dec  *nn.Net
	Mean, Std []float64 // of the training codes, length Latent
}

// normalize fills defaults and checks c.
func (c *AEConfig) normalize() error {
	if c.Act == "" {
		c.Act = "silu"
	}
	if c.Loss == "" {
		c.Loss = "bce"
	}
	if c.Loss != "bce" && c.Loss != "mse" {
		return fmt.Errorf("ae: loss %q, want bce or mse", c.Loss)
	}
	if c.Latent < 1 || c.Latent > c.Dim {
		return fmt.Errorf("ae: latent dimension %d is not in 1..%d (the data's dimension)", c.Latent, c.Dim)
	}
	return nil
}

// nets returns the encoder's and decoder's nn configs.
func (c AEConfig) nets() (enc, dec nn.Config) {
	rev := make([]int, len(c.Hidden))
	for i, w := range c.Hidden {
		rev[len(rev)-1-i] = w
	}
	enc = nn.Config{Dim: c.Dim, Hidden: append([]int(nil), c.Hidden...), Act: c.Act, Out: c.Latent, NoTime: true}
	dec = nn.Config{Dim: c.Latent, Hidden: rev, Act: c.Act, Out: c.Dim, NoTime: true}
	return enc, dec
}

// aeStream separates the autoencoder's batches from other streams.
const aeStream = 0x6165 // "ae"

// TrainAE trains an autoencoder on the rows of x with Adam on minibatches
// drawn with replacement. The result depends on the data, cfg and o alone.
// It returns an error for a bad config or options, data outside [0, 1] with
// the bce loss, and ctx's error when cancelled.
func TrainAE(ctx context.Context, x *mat.Dense, cfg AEConfig, o AEOptions) (*AE, error) {
	cfg.Dim = x.C
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if o.Steps < 1 || o.Batch < 1 || o.LR <= 0 || x.R < 2 {
		return nil, fmt.Errorf("ae: %d rows, steps %d, batch %d, lr %g: want ≥ 2 rows and positive options", x.R, o.Steps, o.Batch, o.LR)
	}
	if cfg.Loss == "bce" {
		for _, v := range x.Data {
			if !(v >= 0 && v <= 1) {
				return nil, fmt.Errorf("ae: the bce loss needs data in [0, 1] (found %g); use the mse loss", v)
			}
		}
	}
	ec, dc := cfg.nets()
	a := &AE{Config: cfg}
	var err error
	if a.Enc, err = nn.New(ec, o.Seed); err != nil {
		return nil, fmt.Errorf("ae: encoder: %w", err)
	}
	if a.Dec, err = nn.New(dc, o.Seed+1); err != nil {
		return nil, fmt.Errorf("ae: decoder: %w", err)
	}
	if err := a.fit(ctx, x, o); err != nil {
		return nil, err
	}
	a.standardize(x)
	return a, nil
}

// fit runs the training loop: forward through encoder and decoder, the
// loss, the decoder's backward pass with its input gradient, the encoder's,
// then an Adam step of each.
func (a *AE) fit(ctx context.Context, x *mat.Dense, o AEOptions) error {
	rng := rand.New(rand.NewPCG(o.Seed, aeStream))
	eo, do := optim.NewAdam(len(a.Enc.Params())), optim.NewAdam(len(a.Dec.Params()))
	sched := optim.Cosine(o.Steps, 0.01)
	xb, tb := mat.New(o.Batch, x.C), make([]float32, o.Batch)
	g := mat.New(o.Batch, x.C)
	loss := BCEWithLogits(xb)
	if a.Config.Loss == "mse" {
		loss = MSE(xb)
	}
	for s := 0; s < o.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := 0; i < o.Batch; i++ {
			copy(xb.Row(i), x.Row(rng.IntN(x.R)))
		}
		l := a.grad(xb, tb, g, loss) / float64(o.Batch)
		lr := float32(o.LR * sched(s))
		eo.Step(a.Enc.Params(), a.Enc.Grads(), lr)
		do.Step(a.Dec.Params(), a.Dec.Grads(), lr)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("ae: loss %g at step %d (lower --lr?)", l, s+1)
		}
		if o.Progress != nil && (s+1)%500 == 0 {
			fmt.Fprintf(o.Progress, "ae: step %d/%d, loss %.5g\n", s+1, o.Steps, l)
		}
	}
	return nil
}

// grad sets both nets' gradients to those of loss on the batch xb (t the
// unused times, g the output gradient's buffer) and returns the loss: the
// decoder's backward pass gives dL/dz, which the encoder's takes.
func (a *AE) grad(xb *mat.Dense, t []float32, g *mat.Dense, loss nn.LossFunc) float64 {
	a.Enc.ZeroGrad()
	a.Dec.ZeroGrad()
	z := a.Enc.Forward(xb, t)
	y := a.Dec.Forward(z, t)
	l := loss(0, y, g)
	a.Enc.Backward(a.Dec.Backward(g, true), false)
	return l
}

// standardize sets Mean and Std from the codes of x (a zero spread counts
// as 1, so that Encode never divides by 0).
func (a *AE) standardize(x *mat.Dense) {
	z := mat.New(x.R, a.Config.Latent)
	a.Enc.Apply(x, z)
	k := a.Config.Latent
	a.Mean, a.Std = make([]float64, k), make([]float64, k)
	for i := 0; i < z.R; i++ {
		for j, v := range z.Row(i) {
			a.Mean[j] += float64(v)
		}
	}
	for j := range a.Mean {
		a.Mean[j] /= float64(z.R)
	}
	for i := 0; i < z.R; i++ {
		for j, v := range z.Row(i) {
			d := float64(v) - a.Mean[j]
			a.Std[j] += d * d
		}
	}
	for j := range a.Std {
		a.Std[j] = math.Sqrt(a.Std[j] / float64(z.R-1))
		if a.Std[j] == 0 {
			a.Std[j] = 1
		}
	}
}

// Dim is the data dimension.
func (a *AE) Dim() int { return a.Config.Dim }

// LatentDim is the latent dimension.
func (a *AE) LatentDim() int { return a.Config.Latent }

// Encode returns the standardised codes of the rows of x (x.R×Latent). It
// panics when x.C is not Dim.
func (a *AE) Encode(x *mat.Dense) *mat.Dense {
	z := mat.New(x.R, a.Config.Latent)
	a.Enc.Apply(x, z)
	for i := 0; i < z.R; i++ {
		row := z.Row(i)
		for j, v := range row {
			row[j] = float32((float64(v) - a.Mean[j]) / a.Std[j])
		}
	}
	return z
}

// Decode returns the images of the latents z (z.R×Dim): the decoder's
// output, through a sigmoid for the bce loss. It panics when z.C is not
// Latent.
func (a *AE) Decode(z *mat.Dense) *mat.Dense {
	u := mat.New(z.R, z.C)
	for i := 0; i < z.R; i++ {
		src, dst := z.Row(i), u.Row(i)
		for j, v := range src {
			dst[j] = float32(float64(v)*a.Std[j] + a.Mean[j])
		}
	}
	x := mat.New(z.R, a.Config.Dim)
	a.Dec.Apply(u, x)
	if a.Config.Loss == "bce" {
		for i, v := range x.Data {
			x.Data[i] = float32(sigmoid(float64(v)))
		}
	}
	return x
}
