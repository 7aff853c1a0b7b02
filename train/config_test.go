package train

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func validConfig() Config {
	return Config{Source: "gaussian:dim=2", Target: "moons", Dim: 2, Hidden: []int{16, 16}, Steps: 10, Batch: 8, Seed: 3}.Defaults()
}

func TestConfigDefaultsValid(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if c.Version != ConfigVersion || c.Act != "silu" || c.Interp != "linear" || c.Gamma != "0" || c.Coupling != "independent" || c.Optimizer != "adam" {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if c.HasEta() {
		t.Fatal("deterministic linear interpolant should not train η")
	}
	c.Gamma = "0.5"
	if !c.HasEta() {
		t.Fatal("γ = 0.5 must train η")
	}
	c.Gamma, c.Interp = "0", "onesided"
	if !c.HasEta() {
		t.Fatal("one-sided interpolant must train η")
	}
}

// Each bad field gives its own error naming the field.
func TestConfigValidateErrors(t *testing.T) {
	cases := []struct {
		field string
		mod   func(*Config)
	}{
		{"steps", func(c *Config) { c.Steps = 0 }},
		{"steps", func(c *Config) { c.Steps = -5 }},
		{"batch", func(c *Config) { c.Batch = -1 }},
		{"lr", func(c *Config) { c.LR = -1e-3 }},
		{"lr", func(c *Config) { c.LR = math.NaN() }},
		{"hidden", func(c *Config) { c.Hidden = []int{16, 0} }},
		{"hidden", func(c *Config) { c.Hidden = []int{} }},
		{"network", func(c *Config) { c.Act = "swish" }},
		{"network", func(c *Config) { c.Arch = "transformer" }},
		{"interp", func(c *Config) { c.Interp = "cubic" }},
		{"gamma", func(c *Config) { c.Gamma = "-1" }},
		{"interp", func(c *Config) { c.Interp, c.Gamma = "onesided", "0.5" }},
		{"coupling", func(c *Config) { c.Coupling = "hungarian-ish" }},
		{"drift", func(c *Config) { c.Drift = "half" }},
		{"drift", func(c *Config) { c.Drift = DriftSplit }},                                     // γ ≡ 0: nothing to split
		{"drift", func(c *Config) { c.Drift, c.Interp, c.Gamma = DriftSplit, "onesided", "0" }}, // η denoises x0, not z
		{"t_sampler", func(c *Config) { c.TSampler = "beta" }},
		{"optimizer", func(c *Config) { c.Optimizer = "lbfgs" }},
		{"schedule", func(c *Config) { c.Schedule = "step" }},
		{"warmup", func(c *Config) { c.Warmup = 10 }},
		{"clip", func(c *Config) { c.Clip = -1 }},
		{"ema", func(c *Config) { c.EMA = 1 }},
		{"momentum", func(c *Config) { c.Momentum = 1.5 }},
		{"version", func(c *Config) { c.Version = 99 }},
		{"checkpoint_every", func(c *Config) { c.CheckpointEvery = -1 }},
	}
	for _, tc := range cases {
		c := validConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: bad config accepted: %+v", tc.field, c)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %q does not name the field", tc.field, err)
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
			t.Errorf("%s: one problem gave %d errors: %q", tc.field, n, err)
		}
	}
	// Several problems: one line each.
	c := validConfig()
	c.Steps, c.Batch, c.Optimizer = 0, 0, "x"
	if err := c.Validate(); err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("three problems should give three lines, got %q", err)
	}
}

func TestConfigHash(t *testing.T) {
	a := validConfig()
	b := validConfig()
	if a.Hash() != b.Hash() {
		t.Fatal("equal configs hash differently")
	}
	b.CheckpointEvery = 100
	if a.Hash() != b.Hash() {
		t.Fatal("CheckpointEvery must not change the hash")
	}
	b.LR *= 2
	if a.Hash() == b.Hash() {
		t.Fatal("a different lr has the same hash")
	}
	if d := ConfigDiff(a, b); !strings.Contains(d, "lr") || strings.Contains(d, "steps") {
		t.Fatalf("ConfigDiff = %q, want only lr", d)
	}
}

func TestParseConfig(t *testing.T) {
	c := validConfig()
	c.EMA = 0.999
	got, err := ParseConfig(c.MarshalIndent())
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != c.Hash() {
		t.Fatalf("round trip changed the config:\n%s\n%s", c.MarshalIndent(), got.MarshalIndent())
	}
	for _, bad := range []string{
		``,
		`{}`,
		`{"version": 1, "steps": -1}`,
		`{"version": 2}`,
		`{"version": 1, "bogus": 3}`,
		`{"version": 1} {}`,
		`{"version": 1, "lr": "fast"}`,
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%q) accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("ParseConfig(%q): error %q does not say config", bad, err)
		}
	}
}

// FuzzParseConfig: no input panics; what parses is valid and round-trips.
func FuzzParseConfig(f *testing.F) {
	f.Add(validConfig().MarshalIndent())
	f.Add([]byte(`{"version":1,"hidden":[4],"steps":3,"gamma":"sinesquared:a=0.5","interp":"encdec"}`))
	f.Add([]byte(`{"version":1,"coupling":"sinkhorn:eps=0.1","schedule":"cosine","warmup":3,"steps":10}`))
	f.Add([]byte(`{"version":1,"hidden":[1e9,1e9]}`))
	f.Add([]byte(`{"version":1,"lr":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig returned an invalid config: %v", err)
		}
		c2, err := ParseConfig(c.MarshalIndent())
		if err != nil {
			t.Fatalf("re-parse of a parsed config failed: %v", err)
		}
		if c2.Hash() != c.Hash() {
			t.Fatal("config does not round-trip")
		}
	})
}

func TestPrepareDims(t *testing.T) {
	src, tgt := gauss(t, 3, 1), gauss(t, 4, 1)
	_, err := Prepare(src, tgt, Config{Steps: 1})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "dimension 3, target 4") {
		t.Fatalf("dims 3 vs 4: %v", err)
	}
	_, err = Prepare(src, src, Config{Dim: 5, Steps: 1})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "dim") {
		t.Fatalf("dim 5 vs samplers 3: %v", err)
	}
	c, err := Prepare(src, src, Config{Steps: 1})
	if err != nil || c.Dim != 3 {
		t.Fatalf("Prepare = %+v, %v", c, err)
	}
}
