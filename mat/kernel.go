package mat

import (
	"fmt"
	"os"
	"sync/atomic"
)

// Kernel names a family of compute kernels: the GEMM micro-kernel and the
// vectorised element-wise operations. The fastest one the CPU supports is
// chosen when the package loads; the environment variable FLOWLAB_KERNEL
// (generic, avx2 or avx512), read once at that time, forces a path, and
// SetKernel changes it at run time (tests use it to check every path).
type Kernel int32

// The kernel paths. Generic is pure Go and runs everywhere; AVX2 needs AVX2
// and FMA; AVX512 needs AVX-512 F, DQ, BW and VL.
const (
	Generic Kernel = iota
	AVX2
	AVX512
)

var kernelNames = [...]string{"generic", "avx2", "avx512"}

// String returns the kernel's name as FLOWLAB_KERNEL spells it.
func (k Kernel) String() string {
	if k < 0 || int(k) >= len(kernelNames) {
		return fmt.Sprintf("Kernel(%d)", int32(k))
	}
	return kernelNames[k]
}

// ParseKernel returns the kernel with the given name (generic, avx2, avx512).
func ParseKernel(name string) (Kernel, error) {
	for i, n := range kernelNames {
		if n == name {
			return Kernel(i), nil
		}
	}
	return 0, fmt.Errorf("unknown kernel %q (want generic, avx2 or avx512)", name)
}

// Supported reports whether this CPU can run kernel k.
func (k Kernel) Supported() bool {
	switch k {
	case Generic:
		return true
	case AVX2:
		return hasAVX2
	case AVX512:
		return hasAVX512
	}
	return false
}

// Best returns the fastest kernel this CPU supports.
func Best() Kernel {
	switch {
	case hasAVX512:
		return AVX512
	case hasAVX2:
		return AVX2
	}
	return Generic
}

// current is the kernel in use. It is the package's only mutable state: set
// once at load time (from FLOWLAB_KERNEL or the CPU), and by SetKernel.
var current atomic.Int32

// kernelEnvErr records a bad FLOWLAB_KERNEL value; KernelEnvError reports it.
var kernelEnvErr error

func init() {
	k := Best()
	if s, ok := os.LookupEnv("FLOWLAB_KERNEL"); ok && s != "" {
		switch want, err := ParseKernel(s); {
		case err != nil:
			kernelEnvErr = fmt.Errorf("FLOWLAB_KERNEL: %w; using %s", err, k)
		case !want.Supported():
			kernelEnvErr = fmt.Errorf("FLOWLAB_KERNEL=%s: this CPU does not support it; using %s", s, k)
		default:
			k = want
		}
	}
	current.Store(int32(k))
}

// KernelEnvError returns the problem with FLOWLAB_KERNEL, if its value was not
// a kernel this CPU can run (the best supported kernel is used instead), or nil.
func KernelEnvError() error { return kernelEnvErr }

// CurrentKernel returns the kernel in use.
func CurrentKernel() Kernel { return Kernel(current.Load()) }

// SetKernel makes k the kernel in use and returns a function that restores the
// previous one. It fails, changing nothing, if this CPU cannot run k. It is
// meant for tests and benchmarks; calls running concurrently with it may use
// either kernel.
func SetKernel(k Kernel) (restore func(), err error) {
	if !k.Supported() {
		return func() {}, fmt.Errorf("mat: kernel %s is not supported on this CPU", k)
	}
	prev := current.Swap(int32(k))
	return func() { current.Store(prev) }, nil
}

// SupportedKernels lists the kernels this CPU can run, slowest first.
func SupportedKernels() []Kernel {
	var ks []Kernel
	for k := Generic; k <= AVX512; k++ {
		if k.Supported() {
			ks = append(ks, k)
		}
	}
	return ks
}
