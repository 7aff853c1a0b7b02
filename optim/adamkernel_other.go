//go:build !amd64

package optim

import "github.com/flowlab/flowlab/mat"

// adamVec does nothing: there is no vector Adam kernel on this architecture.
func adamVec(k mat.Kernel, h adamStep, p, g, m, v []float32) int { return 0 }
