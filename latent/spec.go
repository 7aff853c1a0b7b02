package latent

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

// Spec is a parsed latent SPEC: "pca:K" (a PCA keeping K components,
// fitted to the data) or "ae:DIR" (the autoencoder saved in DIR).
type Spec struct {
	Kind string // pca or ae
	K    int    // pca
	Dir  string // ae
}

// ParseSpec reads "pca:K" or "ae:DIR".
func ParseSpec(s string) (Spec, error) {
	kind, arg, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == "pca":
		k, err := strconv.Atoi(arg)
		if err != nil || k < 1 {
			return Spec{}, fmt.Errorf("latent %q: want pca:K with K a positive number of components", s)
		}
		return Spec{Kind: kind, K: k}, nil
	case ok && kind == "ae" && arg != "":
		return Spec{Kind: kind, Dir: arg}, nil
	}
	return Spec{}, fmt.Errorf("latent %q: want pca:K or ae:DIR", s)
}

// Build returns the map spec names for data of data.C columns: a PCA fitted
// to the rows of data, or the autoencoder in spec.Dir. A K above the data's
// dimension, or an autoencoder of data of another dimension, is an error
// (one line each).
func Build(spec Spec, data *mat.Dense) (Map, error) {
	switch spec.Kind {
	case "pca":
		if spec.K > data.C {
			return nil, fmt.Errorf("latent pca:%d: K is above the data's dimension %d", spec.K, data.C)
		}
		return Fit(data, Options{Dim: spec.K})
	case "ae":
		m, err := LoadMap(spec.Dir)
		if err != nil {
			return nil, err
		}
		if _, ok := m.(*AE); !ok {
			return nil, fmt.Errorf("latent ae:%s: %w: the folder holds a PCA, not an autoencoder", spec.Dir, ErrMap)
		}
		if m.Dim() != data.C {
			return nil, fmt.Errorf("latent ae:%s: the autoencoder encodes %d-D data, the data is %d-D", spec.Dir, m.Dim(), data.C)
		}
		return m, nil
	}
	panic(fmt.Sprintf("latent: Build of spec kind %q", spec.Kind))
}

// ErrDim is wrapped by Encoded's error for a sampler of neither the data's
// nor the latent's dimension.
var ErrDim = errors.New("dimension fits neither the data nor the latent")

// Encoded returns s in latent coordinates: for a sampler of the data's
// dimension, Encode of its draws (a finite data set is encoded once, into a
// data set of its codes drawn as it is); for one of the latent's dimension,
// s itself (its draws already are latents, e.g. a N(0, I_K) source).
func Encoded(s dist.Sampler, m Map) (dist.Sampler, error) {
	switch s.Dim() {
	case m.Dim():
		if f, ok := s.(dist.Finite); ok {
			d := dist.NewDataset("encoded", m.Encode(f.Data()))
			if l, ok := s.(interface {
				Labels() []int
				Classes() int
			}); ok && l.Labels() != nil {
				// The codes keep their rows' labels (conditional flows).
				if err := d.SetLabels(l.Labels(), l.Classes()); err != nil {
					return nil, err
				}
			}
			return d, nil
		}
		return encoded{s, m}, nil
	case m.LatentDim():
		return s, nil
	}
	return nil, fmt.Errorf("%w: %d-D draws, data %d-D, latent %d-D", ErrDim, s.Dim(), m.Dim(), m.LatentDim())
}

// encoded draws from s and encodes the draws.
type encoded struct {
	s dist.Sampler
	m Map
}

func (e encoded) Dim() int { return e.m.LatentDim() }

func (e encoded) Sample(rng *rand.Rand, dst *mat.Dense) {
	if dst.C != e.Dim() {
		panic(fmt.Sprintf("latent: encoded sampler of dim %d, dst %s", e.Dim(), dst.Shape()))
	}
	x := mat.New(dst.R, e.s.Dim())
	e.s.Sample(rng, x)
	copy(dst.Data, e.m.Encode(x).Data)
}
