// Command gen rewrites the README's generated sections (go generate
// ./report): the study section from the quick scale's results file, and the
// paper-scale section from the results of the paper sweeps, which it first
// merges into one file. Every number in both sections comes from those
// files.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flowlab/flowlab/experiment"
	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/internal/buildinfo"
	"github.com/flowlab/flowlab/report"
	"github.com/flowlab/flowlab/sweep"
)

func main() {
	results := flag.String("results", "docs/results/quick.json", "the quick scale's results file")
	paperDir := flag.String("paper-dir", "", "a folder of paper-scale sweeps, one plan folder per experiment, each collected into its runs/")
	paper := flag.String("paper", "", "the merged paper-scale results file: written from -paper-dir, then rendered")
	fold := flag.String("fold", "", "a results.json of experiments run again at the results file's scale: replaces theirs in -results first")
	readme := flag.String("readme", "README.md", "the README to rewrite")
	flag.Parse()
	if err := run(*results, *fold, *paperDir, *paper, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(results, fold, paperDir, paper, readme string) error {
	q, err := report.ReadResults(results)
	if err != nil {
		return err
	}
	if fold != "" {
		u, err := report.ReadResults(fold)
		if err != nil {
			return err
		}
		if q, err = report.FoldResults(q, u); err != nil {
			return err
		}
		if err := report.WriteResults(results, q); err != nil {
			return err
		}
	}
	sec, err := report.ReadmeSection(q)
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
	if paper != "" {
		if out, err = paperSection(q, paperDir, paper, out); err != nil {
			return err
		}
	}
	return atomicfile.WriteBytes(readme, []byte(out))
}

// paperSection merges the collected sweeps under dir (when given) into the
// results file paper and renders it into the README text doc.
func paperSection(q report.Results, dir, paper, doc string) (string, error) {
	if dir != "" {
		rs, err := paperRuns(dir)
		if err != nil {
			return "", err
		}
		if len(rs) > 0 {
			m, err := report.MergeResults(rs, experiment.Names())
			if err != nil {
				return "", err
			}
			if err := report.WriteResults(paper, m); err != nil {
				return "", err
			}
		}
	}
	p, err := report.ReadResults(paper)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil // no paper-scale results yet
	}
	if err != nil {
		return "", err
	}
	sec, err := report.PaperSection(q, p)
	if err != nil {
		return "", err
	}
	return report.ReplaceBetween(doc, report.PaperBegin, report.PaperEnd, sec)
}

// paperRuns reads the results of every collected sweep under dir (a plan
// folder DIR/NAME holding plan.json and, once collected, runs/): the
// numbers from its run folders, the build from its plan (the build that
// ran its cells), not from this program.
func paperRuns(dir string) ([]report.Results, error) {
	plans, err := filepath.Glob(filepath.Join(dir, "*", sweep.PlanFile))
	if err != nil {
		return nil, err
	}
	var rs []report.Results
	for _, pf := range plans {
		runs := filepath.Join(filepath.Dir(pf), "runs")
		if m, _ := filepath.Glob(filepath.Join(runs, "*", "metrics.json")); len(m) == 0 {
			continue // not collected yet
		}
		b, err := os.ReadFile(pf)
		if err != nil {
			return nil, err
		}
		var p sweep.Plan
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", pf, err)
		}
		r, err := report.LoadResults(runs, experiment.Names())
		if err != nil {
			return nil, err
		}
		r.Build = buildinfo.Revision(p.Build)
		rs = append(rs, r)
	}
	return rs, nil
}
