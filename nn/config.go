package nn

import (
	"fmt"

	"github.com/flowlab/flowlab/mat"
)

// Config describes a velocity-field network. Its JSON form is stored in the
// safetensors metadata and in run folders.
type Config struct {
	Dim     int    `json:"dim"`     // data dimension: x in, v out
	Hidden  []int  `json:"hidden"`  // hidden widths; any may be narrower than Dim
	Act     string `json:"act"`     // silu (default), relu, tanh, selu, gelu
	Fourier int    `json:"fourier"` // 0: t is one raw input column; F > 0: plus sin/cos(2πkt), k = 1..F
	Arch    string `json:"arch"`    // "mlp" (default: t concatenated to x) or "film" (see film.go)
	// TimeEmbed is the width of a film net's learned time embedding
	// (sinusoidal features of t, then a two-layer SiLU MLP of this width)
	// from which every layer's modulation is computed. 0 selects the legacy
	// FiLM whose modulation is linear in [t, sin 2πkt, cos 2πkt] (run folders
	// written before the learned embedding existed). Only film nets have one.
	TimeEmbed int `json:"time_embed,omitempty"`
	// Out is the output width when it differs from Dim (a classifier's
	// classes, an encoder's latent); 0 means Dim. Only mlp nets have one.
	Out int `json:"out,omitempty"`
	// NoTime drops the time input: the net maps x alone (a classifier, an
	// autoencoder's halves); Fourier must then be 0. Only mlp nets.
	NoTime bool `json:"no_time,omitempty"`
	// Classes is the number of class labels of a conditional net, v(x, t, y)
	// with y in 0..Classes−1 or Null (label.go); 0 for none. mlp nets and
	// film nets with a learned time embedding.
	Classes int `json:"classes,omitempty"`
}

// maxParams bounds the parameter count a Config may ask for (2^31 float32
// values, 8 GiB), so that a corrupt file cannot make New allocate without end.
const maxParams = 1 << 31

// normalize fills in defaults and checks cfg; it returns the activation.
func (c *Config) normalize() (mat.Activation, error) {
	if c.Act == "" {
		c.Act = "silu"
	}
	if c.Arch == "" {
		c.Arch = "mlp"
	}
	if c.Dim < 1 {
		return 0, fmt.Errorf("nn: config: dim %d, want ≥ 1", c.Dim)
	}
	for i, w := range c.Hidden {
		if w < 1 {
			return 0, fmt.Errorf("nn: config: hidden width %d (layer %d), want ≥ 1", w, i)
		}
	}
	if c.Fourier < 0 {
		return 0, fmt.Errorf("nn: config: fourier %d, want ≥ 0", c.Fourier)
	}
	if c.Arch != "mlp" && c.Arch != "film" {
		return 0, fmt.Errorf("nn: config: unknown arch %q (want mlp or film)", c.Arch)
	}
	if c.TimeEmbed < 0 || c.TimeEmbed > 0 && c.Arch != "film" {
		return 0, fmt.Errorf("nn: config: time_embed %d with arch %s (want 0, or > 0 with film)", c.TimeEmbed, c.Arch)
	}
	if err := c.checkShape(); err != nil {
		return 0, err
	}
	if err := c.checkClasses(); err != nil {
		return 0, err
	}
	act, err := mat.ParseActivation(c.Act)
	if err != nil || act == mat.Identity {
		return 0, fmt.Errorf("nn: config: unknown activation %q (want silu, relu, tanh, selu or gelu)", c.Act)
	}
	if _, ok := c.paramCount(); !ok {
		return 0, fmt.Errorf("nn: config: more than %d parameters", maxParams)
	}
	return act, nil
}

// InputDim is the width of the network's first layer input: Dim data columns,
// one raw t column and 2·Fourier time features (no time columns for NoTime),
// then a conditional MLP's Classes+1 one-hot label columns.
func (c *Config) InputDim() int {
	if c.NoTime {
		return c.Dim
	}
	return c.Dim + 1 + 2*c.Fourier + c.oneHotCols()
}

// EmbedDim is the width of the time embedding e(t) that the modulation
// heads read: TimeEmbed for the learned embedding, else 1 + 2·Fourier (the
// legacy FiLM's [t, sin 2πkt, cos 2πkt]).
func (c *Config) EmbedDim() int {
	if c.TimeEmbed > 0 {
		return c.TimeEmbed
	}
	return 1 + 2*c.Fourier
}

// learned reports whether the config is a film net with a learned time
// embedding.
func (c *Config) learned() bool { return c.Arch == "film" && c.TimeEmbed > 0 }

// headRows is the number of modulation outputs of a learned-embedding film
// net: a scale and a shift per hidden unit, and a scale per output.
func (c *Config) headRows() int {
	k := c.Dim
	for _, w := range c.Hidden {
		k += 2 * w
	}
	return k
}

// widths returns the layer widths: input, hidden..., output.
func (c *Config) widths() []int {
	w := make([]int, 0, len(c.Hidden)+2)
	w = append(w, c.InputDim())
	w = append(w, c.Hidden...)
	return append(w, c.OutDim())
}

// paramCount returns the number of parameters and false when it exceeds
// maxParams (or a width overflows), checked without overflow.
func (c *Config) paramCount() (int, bool) {
	if c.Dim > maxParams || c.Out > maxParams || c.Fourier > maxParams || c.TimeEmbed > maxParams || c.Classes > MaxClasses {
		return 0, false
	}
	w := c.widths()
	n := 0
	add := func(p int) bool { // p ≤ 2^31·2^31 fits in int64
		if p > maxParams || n+p > maxParams {
			return false
		}
		n += p
		return true
	}
	for i := 1; i < len(w); i++ {
		in, out := w[i-1], w[i]
		if in > maxParams || out > maxParams || !add((in+1)*out) {
			return 0, false
		}
		if c.Arch == "film" && c.TimeEmbed == 0 && i < len(w)-1 && !add((c.EmbedDim()+1)*2*out) {
			return 0, false
		}
	}
	if c.learned() {
		e, k := c.TimeEmbed, c.headRows()
		if k > maxParams || !add((2*timeFreqs+1)*e) || !add((e+1)*e) || !add((e+1)*k) || !add(c.labelParams()) {
			return 0, false
		}
	}
	return n, true
}

// ParamCount returns the number of parameters a valid config gives, or an
// error if cfg is invalid.
func (c Config) ParamCount() (int, error) {
	if _, err := c.normalize(); err != nil {
		return 0, err
	}
	n, _ := c.paramCount()
	return n, nil
}
