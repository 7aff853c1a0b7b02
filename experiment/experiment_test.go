package experiment

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlab/flowlab/dist"
)

// runSmoke runs one experiment at smoke scale into a temporary folder and
// returns the folder.
func runSmoke(t *testing.T, name string, seed uint64) string {
	t.Helper()
	out := t.TempDir()
	var log bytes.Buffer
	err := RunWith(context.Background(), name, Smoke, out, seed, Options{Progress: &log})
	if errors.Is(err, dist.ErrNoMNIST) {
		t.Skip("MNIST files not found:", err)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, log.String())
	}
	t.Log(log.String())
	return filepath.Join(out, name)
}

func TestWidthSmoke(t *testing.T) {
	dir := runSmoke(t, "width", 1)
	b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(string(b[:min(len(b), 3000)]))
}

func TestRankSmoke(t *testing.T)     { runSmoke(t, "rank", 1) }
func TestVarianceSmoke(t *testing.T) { runSmoke(t, "variance", 1) }

func TestMNISTSmoke(t *testing.T) { runSmoke(t, "mnist", 1) }

func TestStochasticSmoke(t *testing.T) { runSmoke(t, "stochastic", 1) }

func TestLatentSmoke(t *testing.T) { runSmoke(t, "latent", 1) }
