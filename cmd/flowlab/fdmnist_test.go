package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/nn"
)

// TestFDMNISTRefusesOtherNets: a velocity field of 784-D data and a
// classifier of 2-D data are refused as --classifier, one line, exit 2.
func TestFDMNISTRefusesOtherNets(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]nn.Config{
		"field":   {Dim: 784, Hidden: []int{4}},
		"2d-clf":  {Dim: 2, Hidden: []int{4}, Out: 10, NoTime: true},
		"missing": {},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".safetensors")
			if name != "missing" {
				n, err := nn.New(cfg, 1)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Save(path); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errs := runCLI(context.Background(), "fdmnist", "validate", "--classifier", path)
			if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "--classifier") {
				t.Errorf("exit %d, stderr %q; want 2 and one line naming --classifier", code, errs)
			}
		})
	}
}
