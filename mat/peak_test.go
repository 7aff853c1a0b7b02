package mat

import (
	"context"
	"testing"
	"time"
)

// TestPeakGFLOPS checks that the peak loop runs and reports a plausible
// figure: more than 1 GFLOPS (any FMA unit does far better) and less than 64
// flops per cycle per thread at 10 GHz (6400 GFLOPS), beyond any CPU made.
func TestPeakGFLOPS(t *testing.T) {
	if _, err := PeakGFLOPS(context.Background(), Generic, 1, time.Millisecond); err == nil {
		t.Error("PeakGFLOPS(generic) did not fail")
	}
	for _, k := range SupportedKernels() {
		if k == Generic {
			continue
		}
		g, err := PeakGFLOPS(context.Background(), k, 1, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.1f GFLOPS on one thread", k, g)
		if !(g > 1 && g < 6400) {
			t.Errorf("%s: implausible peak %.3g GFLOPS", k, g)
		}
	}
}
