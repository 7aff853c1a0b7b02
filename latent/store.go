package latent

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// Map is an encoder from data (Dim columns) to a latent space (LatentDim
// columns) and a decoder back: a PCA or an autoencoder.
type Map interface {
	Dim() int
	LatentDim() int
	Encode(x *mat.Dense) *mat.Dense
	Decode(z *mat.Dense) *mat.Dense
}

// LatentDim is the number of components kept (K).
func (p *PCA) LatentDim() int { return p.K }

// The files of a map folder (SaveMap): MapFile always; a PCA's kept
// components as PCAFile (float64, little-endian, D×K row-major); an
// autoencoder's halves as EncoderFile and DecoderFile (safetensors).
const (
	MapFile     = "latent.json"
	PCAFile     = "pca_components.f64"
	EncoderFile = "encoder.safetensors"
	DecoderFile = "decoder.safetensors"
)

// ErrMap is wrapped by LoadMap's errors for a folder that is not a map
// folder or whose files disagree.
var ErrMap = errors.New("not a latent map folder")

// mapJSON is latent.json.
type mapJSON struct {
	Kind      string    `json:"kind"` // pca or ae
	Dim       int       `json:"dim"`
	LatentDim int       `json:"latent_dim"`
	Mean      []float64 `json:"mean"`                // PCA: data mean; AE: code mean
	Variances []float64 `json:"variances,omitempty"` // PCA
	Std       []float64 `json:"std,omitempty"`       // AE: code spread
	AE        *AEConfig `json:"ae,omitempty"`
}

// SaveMap writes m (a *PCA or an *AE) into the folder dir, creating it;
// every file atomically. LoadMap reads it back with the same bits.
func SaveMap(dir string, m Map) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("latent: %w", err)
	}
	j := mapJSON{Dim: m.Dim(), LatentDim: m.LatentDim()}
	switch m := m.(type) {
	case *PCA:
		j.Kind, j.Mean, j.Variances = "pca", m.Mean, m.Variances
		d, k := m.Dim(), m.K
		buf := make([]byte, 0, 8*d*k)
		for i := 0; i < d; i++ {
			for c := 0; c < k; c++ {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(m.Components.At(i, c)))
			}
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, PCAFile), buf); err != nil {
			return fmt.Errorf("latent: %w", err)
		}
	case *AE:
		j.Kind, j.Mean, j.Std, j.AE = "ae", m.Mean, m.Std, &m.Config
		if err := m.Enc.Save(filepath.Join(dir, EncoderFile)); err != nil {
			return fmt.Errorf("latent: %w", err)
		}
		if err := m.Dec.Save(filepath.Join(dir, DecoderFile)); err != nil {
			return fmt.Errorf("latent: %w", err)
		}
	default:
		panic(fmt.Sprintf("latent: SaveMap of a %T", m))
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("latent: %w", err)
	}
	return atomicfile.WriteBytes(filepath.Join(dir, MapFile), append(b, '\n'))
}

// LoadMap reads a map folder written by SaveMap. Errors for a folder that
// is not one, or whose files disagree, wrap ErrMap.
func LoadMap(dir string) (Map, error) {
	b, err := os.ReadFile(filepath.Join(dir, MapFile))
	if err != nil {
		return nil, fmt.Errorf("latent: %w: %w", ErrMap, err)
	}
	var j mapJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("latent: %s: %w: %w", MapFile, ErrMap, err)
	}
	means := j.LatentDim // an autoencoder's codes
	if j.Kind == "pca" {
		means = j.Dim // the data's
	}
	if j.Dim < 1 || j.LatentDim < 1 || j.LatentDim > j.Dim || len(j.Mean) != means {
		return nil, fmt.Errorf("latent: %s: %w: dim %d, latent_dim %d, %d means", dir, ErrMap, j.Dim, j.LatentDim, len(j.Mean))
	}
	switch j.Kind {
	case "pca":
		return loadPCA(dir, j)
	case "ae":
		return loadAE(dir, j)
	}
	return nil, fmt.Errorf("latent: %s: %w: kind %q (want pca or ae)", dir, ErrMap, j.Kind)
}

// loadPCA reads a PCA's components.
func loadPCA(dir string, j mapJSON) (*PCA, error) {
	b, err := os.ReadFile(filepath.Join(dir, PCAFile))
	if err != nil {
		return nil, fmt.Errorf("latent: %w: %w", ErrMap, err)
	}
	d, k := j.Dim, j.LatentDim
	if len(b) != 8*d*k || len(j.Variances) != d {
		return nil, fmt.Errorf("latent: %s: %w: %d bytes of components and %d variances, want %d and %d", dir, ErrMap, len(b), len(j.Variances), 8*d*k, d)
	}
	v := make([]float64, d*k)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return &PCA{Mean: j.Mean, Components: gmat.NewDense(d, k, v), Variances: j.Variances, K: k}, nil
}

// loadAE reads an autoencoder's halves and checks them against its config.
func loadAE(dir string, j mapJSON) (*AE, error) {
	if j.AE == nil || len(j.Std) != j.LatentDim || j.AE.Dim != j.Dim || j.AE.Latent != j.LatentDim {
		return nil, fmt.Errorf("latent: %s: %w: autoencoder config and sizes disagree", dir, ErrMap)
	}
	a := &AE{Config: *j.AE, Mean: j.Mean, Std: j.Std}
	if err := a.Config.normalize(); err != nil {
		return nil, fmt.Errorf("latent: %s: %w: %w", dir, ErrMap, err)
	}
	ec, dc := a.Config.nets()
	var err error
	for _, h := range []struct {
		file string
		want nn.Config
		dst  **nn.Net
	}{{EncoderFile, ec, &a.Enc}, {DecoderFile, dc, &a.Dec}} {
		if *h.dst, err = nn.Load(filepath.Join(dir, h.file)); err != nil {
			return nil, fmt.Errorf("latent: %w: %w", ErrMap, err)
		}
		got, _ := json.Marshal((*h.dst).Config())
		wn, _ := nn.New(h.want, 0)
		want, _ := json.Marshal(wn.Config())
		if string(got) != string(want) {
			return nil, fmt.Errorf("latent: %s: %w: %s holds %s, latent.json describes %s", dir, ErrMap, h.file, got, want)
		}
	}
	return a, nil
}
