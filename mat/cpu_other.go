//go:build !amd64

package mat

const (
	hasAVX2   = false
	hasAVX512 = false
)
