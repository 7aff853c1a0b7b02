package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// LatentDir is the folder of a run folder that holds its latent map.
const latentDir = "latent"

// latentData returns source and target in the latent of spec for the run
// folder dir: on a first run the map is built (a PCA fitted to the target's
// rows, or the autoencoder of ae:DIR), saved into dir/latent and read back,
// so that training and every later use see the same bits; on --resume it is
// read from there. Every failure is the user's (exit 2).
func latentData(dir, spec string, resume bool, src, tgt dist.Sampler) (dist.Sampler, dist.Sampler, error) {
	s, err := latent.ParseSpec(spec)
	if err != nil {
		return nil, nil, usagef("--latent: %v", err)
	}
	mdir := filepath.Join(dir, latentDir)
	if !resume {
		if _, err := os.Stat(filepath.Join(dir, train.ConfigFile)); err == nil {
			return nil, nil, usagef("%s already holds a run (%s): resume it or choose another folder", dir, train.ConfigFile)
		}
		data := mat.New(0, tgt.Dim())
		if f, ok := tgt.(dist.Finite); ok {
			data = f.Data()
		} else if s.Kind == "pca" {
			return nil, nil, usagef("--latent %s: a PCA is fitted to the target's rows; the target must be a data set (mnist, file:)", spec)
		}
		m, err := latent.Build(s, data)
		if err != nil {
			return nil, nil, usagef("--latent: %v", err)
		}
		if err := latent.SaveMap(mdir, m); err != nil {
			return nil, nil, err
		}
	}
	m, err := latent.LoadMap(mdir)
	if err != nil {
		return nil, nil, usagef("--latent: %v", err)
	}
	if tgt.Dim() != m.Dim() {
		return nil, nil, usagef("--latent %s: the map encodes %d-D data, the target is %d-D", spec, m.Dim(), tgt.Dim())
	}
	if src, err = latent.Encoded(src, m); err != nil {
		return nil, nil, usagef("--source with --latent %s: %v", spec, err)
	}
	if tgt, err = latent.Encoded(tgt, m); err != nil {
		return nil, nil, usagef("--target with --latent %s: %v", spec, err)
	}
	return src, tgt, nil
}

// runLatent returns the latent map of a run trained with --latent, or nil
// for a run in data space.
func runLatent(dir string, run *train.Trained) (latent.Map, error) {
	if run.Config.Latent == "" {
		return nil, nil
	}
	m, err := latent.LoadMap(filepath.Join(dir, latentDir))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, latent.ErrMap) {
		return nil, usagef("--run %s: trained with --latent %s but its %s/ folder is unreadable: %v", dir, run.Config.Latent, latentDir, err)
	}
	return m, err
}

// toLatent returns start points in the flow's space: points of the data's
// dimension encoded, latents as they are.
func toLatent(m latent.Map, x *mat.Dense) (*mat.Dense, error) {
	switch x.C {
	case m.Dim():
		return m.Encode(x), nil
	case m.LatentDim():
		return x, nil
	}
	return nil, fmt.Errorf("%d-D points: the run's latent is %d-D, its data %d-D", x.C, m.LatentDim(), m.Dim())
}

// endInData reports whether a latent run's samples end in a law of the
// data's dimension (and are then decoded): going forward, the target
// always is; going backward, the source when its SPEC is the data's
// dimension (it was encoded for training), not when it was a latent law.
func endInData(run *train.Trained, m latent.Map, backward bool) bool {
	if !backward {
		return true
	}
	s, err := dist.Parse(run.Config.Source)
	return err == nil && s.Dim() == m.Dim()
}
