package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/flowlab/flowlab/coupling"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/nn"
)

// ConfigVersion is the format version written into config.json and into every
// checkpoint. A run folder or checkpoint of another version is refused.
const ConfigVersion = 1

// Config is everything needed to rerun a training run. It is written to a run
// folder as config.json; its Hash ties a checkpoint to the configuration that
// produced it.
//
// The zero value of most fields means "the default" (see Defaults): a Config
// filled by Defaults and accepted by Validate trains a linear-interpolant,
// independent-coupling flow with Adam.
type Config struct {
	// Version is ConfigVersion; Defaults sets it.
	Version int `json:"version"`

	// Source and Target are the distribution SPECs (dist.Parse) of x0 and x1.
	// They may be empty when Fit is given samplers that are not SPECs;
	// Run needs them only to record what it trained on.
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
	// SourceData and TargetData identify the data behind a file: SPEC
	// (dist.Dataset.Digest): Run records them, so that resuming after the
	// file has changed is refused instead of training on two data sets.
	// Empty for every other SPEC. They are not part of Hash.
	SourceData string `json:"source_data,omitempty"`
	TargetData string `json:"target_data,omitempty"`
	// Dim is the data dimension. Fit fills it from the samplers and refuses a
	// non-zero Dim that disagrees with them.
	Dim int `json:"dim"`

	// Network (nn.Config without Dim).
	Hidden  []int  `json:"hidden"`  // hidden widths, default 256,256,256
	Act     string `json:"act"`     // silu (default), relu, tanh, selu, gelu
	Fourier int    `json:"fourier"` // Fourier features of t; 0 = raw t only
	Arch    string `json:"arch"`    // mlp (default) or film
	// TimeEmbed is the width of a film net's learned time embedding
	// (nn.Config.TimeEmbed); 0 with film is the legacy FiLM, linear in
	// [t, sin 2πkt, cos 2πkt]. Omitted from JSON when 0, so that the
	// configs and hashes of earlier runs are unchanged.
	TimeEmbed int `json:"time_embed,omitempty"`
	// Latent is the latent space the flow was trained in ("pca:K" or
	// "ae:DIR", see latent.ParseSpec), its map saved in the run folder's
	// latent/; empty for a flow in data space. Source and Target stay the
	// data's SPECs, Dim is the latent's. Omitted from JSON when empty.
	Latent string `json:"latent,omitempty"`
	// Cond is what the field is conditioned on: "" for nothing, or "label"
	// for the target's class labels (a dist.Labeled target; cond.go).
	// CondDrop is the rate at which a row's label is replaced by the null
	// label in training (classifier-free guidance; 0: never), and Classes
	// the number of labels, filled by Prepare from the target. All three
	// are omitted from JSON when unset, so earlier configs and hashes stay.
	Cond     string  `json:"cond,omitempty"`
	CondDrop float64 `json:"cond_drop,omitempty"`
	Classes  int     `json:"classes,omitempty"`

	// Interpolant x_t = α(t)x0 + β(t)x1 + γ(t)z (interp.New(Interp, Gamma)).
	Interp   string `json:"interp"`   // linear (default), trig, vp, onesided, onesided-trig, encdec
	Gamma    string `json:"gamma"`    // interp.ParseGamma: "0" (default), a scale a (√(a t(1−t))), or SHAPE:a=A
	Coupling string `json:"coupling"` // coupling.Parse: independent (default), ot, sinkhorn[:eps=E]
	// Drift is what the drift network learns when γ ≠ 0: DriftFull ("", b
	// itself, regressed on ẋ_t = α̇x0 + β̇x1 + γ̇z) or DriftSplit ("split": v,
	// regressed on α̇x0 + β̇x1, with b = v + γ̇·η from the denoiser; see
	// split.go). Omitted from JSON when empty, so earlier configs and
	// hashes stay.
	Drift    string `json:"drift,omitempty"`
	TSampler string `json:"t_sampler"` // uniform (default) or logitnormal

	// Optimisation.
	Steps       int     `json:"steps"`        // optimizer steps, > 0
	Batch       int     `json:"batch"`        // batch size, > 0
	LR          float64 `json:"lr"`           // peak learning rate, > 0
	Optimizer   string  `json:"optimizer"`    // adam (default), adamw, sgd
	WeightDecay float64 `json:"weight_decay"` // AdamW's decoupled decay (or SGD's L2)
	Momentum    float64 `json:"momentum"`     // SGD momentum
	Schedule    string  `json:"schedule"`     // constant (default) or cosine
	Warmup      int     `json:"warmup"`       // linear warm-up steps
	Clip        float64 `json:"clip"`         // global gradient-norm clip; 0 = off
	EMA         float64 `json:"ema"`          // EMA decay of the weights in [0,1), warmed up as min(EMA, (1+s)/(10+s)); 0 = off

	// Seed drives network initialisation and every random draw of the loop.
	Seed uint64 `json:"seed"`
	// CheckpointEvery is the checkpoint interval of Run in steps (0: only at
	// the end). It does not change the trained weights and is not part of Hash.
	CheckpointEvery int `json:"checkpoint_every"`
}

// Names accepted by Validate.
var (
	tSamplerNames  = []string{"uniform", "logitnormal"}
	optimizerNames = []string{"adam", "adamw", "sgd"}
	scheduleNames  = []string{"constant", "cosine"}
)

// Defaults returns c with every unset field given its default value. It does
// not validate.
func (c Config) Defaults() Config {
	if c.Version == 0 {
		c.Version = ConfigVersion
	}
	if c.Hidden == nil {
		c.Hidden = []int{256, 256, 256}
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	setStr := func(p *string, d string) {
		if *p == "" {
			*p = d
		}
	}
	setStr(&c.Act, "silu")
	setStr(&c.Arch, "mlp")
	setStr(&c.Interp, "linear")
	setStr(&c.Gamma, "0")
	setStr(&c.Coupling, "independent")
	setStr(&c.TSampler, "uniform")
	setStr(&c.Optimizer, "adam")
	setStr(&c.Schedule, "constant")
	if c.Steps == 0 {
		c.Steps = 10000
	}
	if c.Batch == 0 {
		c.Batch = 256
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	return c
}

// Interpolant returns the configured interpolant.
func (c Config) Interpolant() (interp.Interpolant, error) {
	ip, err := interp.New(c.Interp, c.Gamma)
	if err != nil {
		return interp.Interpolant{}, fmt.Errorf("interp/gamma: %w", err)
	}
	return ip, nil
}

// HasEta reports whether the configuration trains a denoiser η next to the
// drift b: every stochastic interpolant does (γ ≠ 0, or a one-sided path),
// since sampling its SDE needs the score s = −η/γ. Only a valid Config gives
// a meaningful answer.
func (c Config) HasEta() bool {
	ip, err := c.Interpolant()
	return err == nil && ip.Stochastic()
}

// NetConfig returns the network configuration of the drift (and of η).
func (c Config) NetConfig() nn.Config {
	return nn.Config{Dim: c.Dim, Hidden: append([]int(nil), c.Hidden...), Act: c.Act, Fourier: c.Fourier, Arch: c.Arch, TimeEmbed: c.TimeEmbed, Classes: c.Classes}
}

func oneOf(field, v string, names []string) error {
	for _, n := range names {
		if v == n {
			return nil
		}
	}
	return fmt.Errorf("%s: unknown value %q (want %s)", field, v, strings.Join(names, ", "))
}

// Validate checks c (after Defaults) and returns every problem it finds, one
// clear message each, joined with errors.Join. It does not know the samplers;
// Fit checks their dimensions.
func (c Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	finite := func(field string, v float64) bool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			add(fmt.Errorf("%s: %v is not a finite number", field, v))
			return false
		}
		return true
	}
	if c.Version != ConfigVersion {
		add(fmt.Errorf("version: config format version %d, this flowlab reads version %d", c.Version, ConfigVersion))
	}
	if c.Dim < 0 {
		add(fmt.Errorf("dim: %d is negative", c.Dim))
	}
	hiddenOK := len(c.Hidden) > 0
	if !hiddenOK {
		add(errors.New("hidden: need at least one hidden layer"))
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			add(fmt.Errorf("hidden: width %d of layer %d must be positive", h, i+1))
			hiddenOK = false
		}
	}
	if hiddenOK && c.Dim >= 0 {
		// nn checks the activation, architecture, Fourier count and size.
		nc := c.NetConfig()
		nc.Dim = max(nc.Dim, 1)
		if _, err := nc.ParamCount(); err != nil {
			add(fmt.Errorf("network: %w", err))
		}
	}
	if _, err := c.Interpolant(); err != nil {
		add(err)
	}
	add(c.validateDrift())
	if _, err := coupling.Parse(c.Coupling); err != nil {
		add(err) // coupling.Parse names itself
	}
	for _, err := range c.validateCond() {
		add(err)
	}
	add(oneOf("t_sampler", c.TSampler, tSamplerNames))
	if c.Steps <= 0 {
		add(fmt.Errorf("steps: %d must be positive", c.Steps))
	}
	if c.Batch <= 0 {
		add(fmt.Errorf("batch: %d must be positive", c.Batch))
	}
	if finite("lr", c.LR) && c.LR <= 0 {
		add(fmt.Errorf("lr: %v must be positive", c.LR))
	}
	add(oneOf("optimizer", c.Optimizer, optimizerNames))
	if finite("weight_decay", c.WeightDecay) && c.WeightDecay < 0 {
		add(fmt.Errorf("weight_decay: %v is negative", c.WeightDecay))
	}
	if finite("momentum", c.Momentum) && (c.Momentum < 0 || c.Momentum >= 1) {
		add(fmt.Errorf("momentum: %v is outside [0, 1)", c.Momentum))
	}
	add(oneOf("schedule", c.Schedule, scheduleNames))
	if c.Warmup < 0 {
		add(fmt.Errorf("warmup: %d is negative", c.Warmup))
	} else if c.Steps > 0 && c.Warmup >= c.Steps {
		add(fmt.Errorf("warmup: %d steps, not fewer than the %d training steps", c.Warmup, c.Steps))
	}
	if finite("clip", c.Clip) && c.Clip < 0 {
		add(fmt.Errorf("clip: %v is negative", c.Clip))
	}
	if finite("ema", c.EMA) && (c.EMA < 0 || c.EMA >= 1) {
		add(fmt.Errorf("ema: decay %v is outside [0, 1)", c.EMA))
	}
	if c.CheckpointEvery < 0 {
		add(fmt.Errorf("checkpoint_every: %d is negative", c.CheckpointEvery))
	}
	return errors.Join(errs...)
}

// Hash returns a hex SHA-256 of everything in c that changes the trained
// weights, but for the data digests (all fields but CheckpointEvery,
// SourceData and TargetData). A checkpoint records it so that a resume under
// another configuration is refused. The digests are checked on their own by
// Run (a run recorded before they existed has none, and its hash, which
// omits them, still matches).
func (c Config) Hash() string {
	c.CheckpointEvery, c.SourceData, c.TargetData = 0, "", ""
	b, err := json.Marshal(c)
	if err != nil { // a Config of plain fields always marshals
		panic(fmt.Sprintf("train: marshal config: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// MarshalIndent returns c as indented JSON with a final newline, as written to
// config.json.
func (c Config) MarshalIndent() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("train: marshal config: %v", err))
	}
	return append(b, '\n')
}

// ParseConfig reads a Config from JSON (a config.json). Unknown fields,
// trailing data, a missing or foreign version and invalid values are errors.
// Defaults are applied to unset fields before validation.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("config: trailing data after the JSON object")
	}
	if c.Version == 0 {
		return Config{}, errors.New("config: missing version field")
	}
	c = c.Defaults()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}
