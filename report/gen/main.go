// Command gen rewrites the README's study section from a results file
// (go generate ./report): every number in the section comes from it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/report"
)

func main() {
	results := flag.String("results", "docs/results/quick.json", "the results file")
	readme := flag.String("readme", "README.md", "the README to rewrite")
	flag.Parse()
	if err := run(*results, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(results, readme string) error {
	r, err := report.ReadResults(results)
	if err != nil {
		return err
	}
	sec, err := report.ReadmeSection(r)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	out, err := report.ReplaceSection(string(b), sec)
	if err != nil {
		return fmt.Errorf("%s: %w", readme, err)
	}
	return atomicfile.WriteBytes(readme, []byte(out))
}
