package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedAssembly regenerates each assembly file into a temporary
// directory, through the same command line as go generate, and checks that
// it is byte for byte the committed file (in mat, or optim for Adam), so
// that the two cannot drift apart.
func TestCommittedAssembly(t *testing.T) {
	for _, c := range []struct{ which, file string }{ // file: from the mat directory
		{"gemm", "gemm_amd64.s"},
		{"elementwise", "elementwise_amd64.s"},
		{"adam", "../optim/adamkernel_amd64.s"},
	} {
		t.Run(c.which, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), filepath.Base(c.file))
			if err := run([]string{"-out", out, c.which}, io.Discard); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			committed := filepath.Join("..", "..", c.file)
			want, err := os.ReadFile(committed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("generated %s differs from the committed %s (%d vs %d bytes); %s\nrun go generate ./mat ./optim if the generator change is intended",
					c.which, committed, len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: generated %q, committed %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d vs %d lines)", len(g), len(w))
}

// TestRunErrors checks that bad command lines fail without writing.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.s")
	for _, args := range [][]string{
		{},
		{"gemm"},
		{"-out", out},
		{"-out", out, "gemm", "elementwise"},
		{"-out", out, "fft"},
		{"-nosuchflag", "gemm"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			if err := run(args, io.Discard); err == nil {
				t.Errorf("run(%q) = nil, want an error", args)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s (stat: %v)", out, err)
	}
}

// TestExpandUnknownKey checks that a placeholder without a value panics
// rather than leaving braces in the assembly.
func TestExpandUnknownKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("expand with a missing key did not panic")
		}
	}()
	expand("\tVMOVUPS {R0}, {R1}\n", vars{"R0": "Z0"})
}

// Example prints the start of the first GEMM micro-kernel.
func Example() {
	s, err := generate("gemm")
	if err != nil {
		fmt.Println(err)
		return
	}
	lines := strings.Split(s, "\n")
	for _, l := range lines[4:9] {
		fmt.Println(l)
	}
	// Output:
	// // func kern512x12x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
	// // C[i, j] = alpha·Σ_p a[i·rsa + p·csa]·b[p·ldb + j] + beta·C[i, j] for i < 12, j < 32,
	// // where C[i, j] is c[i·ldc + j]; C is not read when beta is +0. Strides are in elements.
	// TEXT ·kern512x12x32(SB), NOSPLIT, $0-72
	// 	MOVQ k+0(FP), CX
}
