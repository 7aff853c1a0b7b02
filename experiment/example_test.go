package experiment_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowlab/flowlab/experiment"
)

// Run writes a run folder: the configuration, the measurements with their
// verdicts, the wall times and the figures.
func ExampleRun() {
	out, _ := os.MkdirTemp("", "runs")
	defer os.RemoveAll(out)
	if err := experiment.Run(context.Background(), "width", experiment.Smoke, out, 1); err != nil {
		fmt.Println(err)
		return
	}
	files, _ := filepath.Glob(filepath.Join(out, "width", "*"))
	figs, _ := filepath.Glob(filepath.Join(out, "width", "figures", "*.png"))
	for _, f := range append(files, figs...) {
		rel, _ := filepath.Rel(out, f)
		fmt.Println(rel)
	}
	// Output:
	// width/config.json
	// width/figures
	// width/metrics.json
	// width/times.json
	// width/figures/excess_loss.png
	// width/figures/norm_vs_steps.png
	// width/figures/norms_k8_film-learned-t.png
	// width/figures/norms_k8_mlp-fourier-8.png
	// width/figures/norms_k8_mlp-raw-t.png
	// width/figures/slopes.png
}
