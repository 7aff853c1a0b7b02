//go:build !amd64

package mat

func expVec(k Kernel, dst, src []float32) bool                                   { return false }
func biasActVec(k Kernel, act Activation, z, bias, out []float32, cols int) bool { return false }
func actBackwardVec(k Kernel, act Activation, pre, g []float32) bool             { return false }
func colSumVec(k Kernel, g *Dense, dst []float32) int                            { return 0 }

func mulAddVec(k Kernel, d, u, s, c []float32) int       { return 0 }
func mulVec(k Kernel, d, u, s []float32) int             { return 0 }
func mulGradVec(k Kernel, g, u, s, ds, dc []float32) int { return 0 }

func lanes(k Kernel) int { return 0 }

func colSumRows(k Kernel, src []float32, lds, rows int, dst []float32) int { return 0 }
