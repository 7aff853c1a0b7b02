package mat

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestKernelEnv runs this test binary again with FLOWLAB_KERNEL set and checks
// the kernel the package chose at load time (and the error for a bad value).
func TestKernelEnv(t *testing.T) {
	if os.Getenv("FLOWLAB_KERNEL_CHILD") == "1" {
		fmt.Printf("kernel=%s err=%v\n", CurrentKernel(), KernelEnvError())
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	cases := []struct{ env, kernel, err string }{
		{"generic", "generic", "<nil>"},
		{"", Best().String(), "<nil>"},
		{"avx3", Best().String(), "unknown kernel"},
	}
	for _, k := range SupportedKernels() {
		cases = append(cases, struct{ env, kernel, err string }{k.String(), k.String(), "<nil>"})
	}
	if !AVX512.Supported() {
		cases = append(cases, struct{ env, kernel, err string }{"avx512", Best().String(), "does not support"})
	}
	for _, c := range cases {
		t.Run("env_"+c.env, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKernelEnv$", "-test.count=1")
			cmd.Env = append(os.Environ(), "FLOWLAB_KERNEL_CHILD=1", "FLOWLAB_KERNEL="+c.env)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("FLOWLAB_KERNEL=%q: %v\n%s", c.env, err, out)
			}
			s := string(out)
			if !strings.Contains(s, "kernel="+c.kernel+" ") || !strings.Contains(s, c.err) {
				t.Errorf("FLOWLAB_KERNEL=%q: got %q, want kernel %s and error containing %q", c.env, s, c.kernel, c.err)
			}
		})
	}
}
