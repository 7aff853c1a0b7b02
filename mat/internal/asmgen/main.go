// Command asmgen generates flowlab's Go assembly: the GEMM micro-kernels and
// packing routines (mat/gemm_amd64.s), the vectorised element-wise loops
// (mat/elementwise_amd64.s) and the Adam step (optim/adamkernel_amd64.s).
// The assembly is committed; this program is its source of truth and how to
// change it.
//
// Usage, as go generate runs it, from the mat directory:
//
//	go run ./internal/asmgen -out gemm_amd64.s gemm
//	go run ./internal/asmgen -out elementwise_amd64.s elementwise
//
// and from the optim directory:
//
//	go run ../mat/internal/asmgen -out adamkernel_amd64.s adam
//
// The output depends on nothing but the program: the same source gives the
// same bytes, which TestCommittedAssembly checks against the committed files.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flowlab/flowlab/internal/atomicfile"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "asmgen:", err)
		os.Exit(2)
	}
}

// run parses the command line args (without the program name), generates the
// named file and writes it; usage errors go to stderr as well as the result.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("asmgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: asmgen -out FILE gemm|elementwise|adam")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want -out FILE and one of gemm, elementwise, adam; got %q", args)
	}
	text, err := generate(fs.Arg(0))
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(*out, []byte(text))
}

// generate returns the assembly file named by which: "gemm", "elementwise"
// or "adam".
func generate(which string) (string, error) {
	switch which {
	case "gemm":
		return genGEMM(), nil
	case "elementwise":
		return genElementwise(), nil
	case "adam":
		return genAdam(), nil
	}
	return "", fmt.Errorf("unknown kernel set %q (want gemm, elementwise or adam)", which)
}

// asm accumulates generated assembly text.
type asm struct{ b strings.Builder }

// raw appends s unchanged.
func (a *asm) raw(s string) { a.b.WriteString(s) }

// f appends fmt.Sprintf(format, args...).
func (a *asm) f(format string, args ...any) { fmt.Fprintf(&a.b, format, args...) }

// tmpl appends expand(t, v).
func (a *asm) tmpl(t string, v vars) { a.b.WriteString(expand(t, v)) }

// String returns the text so far.
func (a *asm) String() string { return a.b.String() }

// vars maps template placeholders (without braces) to their values.
type vars map[string]any

// expand replaces each {key} of t by fmt.Sprint(v[key]), in one pass (values
// are not expanded again). Go assembly has no braces, so a brace left over is
// a misspelt or missing key: a bug in this program, and it panics.
func expand(t string, v vars) string {
	pairs := make([]string, 0, 2*len(v))
	for k, x := range v {
		pairs = append(pairs, "{"+k+"}", fmt.Sprint(x))
	}
	s := strings.NewReplacer(pairs...).Replace(t)
	if i := strings.IndexAny(s, "{}"); i >= 0 {
		j := min(i+40, len(s))
		panic(fmt.Sprintf("asmgen: placeholder not expanded at %q", s[i:j]))
	}
	return s
}
