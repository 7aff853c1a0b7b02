package experiment

import "testing"

// TestCondShareBudget: the unconditional run of the null label's share
// trains cond_drop × the steps (and warm-up) of the other MNIST runs, with
// everything else the same.
func TestCondShareBudget(t *testing.T) {
	for _, s := range []Scale{Smoke, Quick, Paper} {
		t.Run(string(s), func(t *testing.T) {
			c := condSetup(s)
			full := condTrain(c, &CondCell{Kind: "mnist-uncond", Seed: 1}, 1)
			share := condTrain(c, &CondCell{Kind: "mnist-uncond-share", Seed: 1}, 1)
			if want := int(c.Drop*float64(c.Steps) + 0.5); share.Steps != want || full.Steps != c.Steps {
				t.Errorf("steps %d and %d, want %d and %d", share.Steps, full.Steps, want, c.Steps)
			}
			if want := int(c.Drop*float64(c.Warmup) + 0.5); share.Warmup != want {
				t.Errorf("warm-up %d, want %d", share.Warmup, want)
			}
			if share.Cond != "" || share.LR != full.LR || share.Batch != full.Batch || len(share.Hidden) != len(full.Hidden) {
				t.Errorf("share run %+v differs from the unconditional run %+v beyond its steps", share, full)
			}
		})
	}
}
