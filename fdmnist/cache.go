package fdmnist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flowlab/flowlab/dist"
)

// CacheFile is the classifier's file name in the cache folder; the version
// changes whenever DefaultTrainOptions do.
const CacheFile = "fdmnist-v1.safetensors"

// CacheDir returns the folder Cached keeps the classifier in:
// $FLOWLAB_CACHE_DIR, else flowlab/ in the user's cache folder
// (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux).
func CacheDir() (string, error) {
	if d := os.Getenv("FLOWLAB_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("fdmnist: no cache folder (set FLOWLAB_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "flowlab"), nil
}

// Cached returns the classifier in CacheDir()/CacheFile, training it first
// with DefaultTrainOptions on the MNIST training split (mnistDir as for
// dist.FindMNIST, "" for the defaults) when the file is absent, and saving
// it there atomically. The trained weights depend on nothing but the
// options and the data, so every machine gets the same classifier. Progress
// lines of a first training go to progress (nil: none).
func Cached(ctx context.Context, mnistDir string, progress io.Writer) (*Classifier, string, error) {
	dir, err := CacheDir()
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, CacheFile)
	c, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return c, path, err
	}
	train, err := dist.LoadMNIST(dist.MNISTOptions{Dir: mnistDir, Split: "train"})
	if err != nil {
		return nil, "", fmt.Errorf("fdmnist: %w", err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "fdmnist: training the classifier once into %s\n", path)
	}
	o := DefaultTrainOptions()
	o.Progress = progress
	if c, err = Train(ctx, train.Data(), train.Labels(), o); err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("fdmnist: %w", err)
	}
	if err := c.Save(path); err != nil {
		return nil, "", fmt.Errorf("fdmnist: %w", err)
	}
	return c, path, nil
}
