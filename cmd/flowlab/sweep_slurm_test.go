package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/sweep"
)

func TestSlurmScripts(t *testing.T) {
	o := slurmOptions{partition: "cpu", time: "02:00:00", mem: "4G", cpus: 2, maxParallel: 3, flowlab: "/opt/flow lab/flowlab"}
	array, collect := arrayScript("/scratch/it's", []int{0, 1, 2, 5}, o), collectScript("/scratch/it's", o)
	for _, want := range []string{
		"#SBATCH --array=0-2,5%3\n",
		"#SBATCH --cpus-per-task=2\n",
		"#SBATCH --partition=cpu\n#SBATCH --time=02:00:00\n#SBATCH --mem=4G\n",
		`exec '/opt/flow lab/flowlab' sweep run '/scratch/it'\''s'` + "\n",
	} {
		if !strings.Contains(array, want) {
			t.Errorf("array script lacks %q:\n%s", want, array)
		}
	}
	if !strings.Contains(collect, `exec '/opt/flow lab/flowlab' sweep collect '/scratch/it'\''s'`) || strings.Contains(collect, "--array") {
		t.Errorf("collect script:\n%s", collect)
	}
}

// plainPlan is a plan of n cells, none reading another's result.
func plainPlan(n int) *sweep.Plan {
	p := &sweep.Plan{}
	for i := range n {
		p.Cells = append(p.Cells, sweep.Cell{Index: i, ID: fmt.Sprintf("x/%d", i)})
	}
	return p
}

// TestSubmitSlurm runs submitSlurm against a fake sbatch that records its
// arguments and answers job ids as Slurm's --parsable does: one array and
// a collect job; with cells that read others' results, a second array
// waiting for the tasks it reads.
func TestSubmitSlurm(t *testing.T) {
	needing := plainPlan(5)
	needing.Cells[3].Needs = []int{1, 0}
	needing.Cells[4].Needs = []int{1}
	for _, tc := range []struct {
		name   string
		p      *sweep.Plan
		idx    []int
		calls  []string // {dependency, script} per call
		output []string
	}{
		{"plain", plainPlan(4), []int{0, 1, 2, 3}, []string{"", "array", "--dependency=afterok:42 --kill-on-invalid-dep=yes ", "collect"},
			[]string{"submitted array job 42: 4 cells (--array=0-3)\n", "submitted collect job 43 (afterok:42)\n"}},
		{"needs", needing, []int{0, 1, 2, 3, 4}, []string{"", "array", "--dependency=afterok:42_0:42_1 --kill-on-invalid-dep=yes ", "array-after",
			"--dependency=afterok:42:43 --kill-on-invalid-dep=yes ", "collect"},
			[]string{"submitted array job 42: 3 cells (--array=0-2)\n", "submitted array job 43: 2 cells that read others' results (--array=3-4) (afterok:42_0:42_1)\n",
				"submitted collect job 44 (afterok:42:43)\n"}},
		{"inputs done", needing, []int{2, 3}, []string{"", "array", "", "array-after", "--dependency=afterok:42:43 --kill-on-invalid-dep=yes ", "collect"}, nil},
		{"only readers", needing, []int{4}, []string{"", "array-after", "--dependency=afterok:42 --kill-on-invalid-dep=yes ", "collect"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			log := filepath.Join(bin, "calls")
			fake := "#!/bin/sh\necho \"$@\" >> " + log + "\nn=$(wc -l < " + log + ")\necho \"$((41 + n));cluster\"\n"
			if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			dir := t.TempDir()
			var out bytes.Buffer
			if err := submitSlurm(context.Background(), &out, dir, tc.p, tc.idx, slurmOptions{cpus: 1, maxParallel: 2, flowlab: "/bin/flowlab"}); err != nil {
				t.Fatal(err)
			}
			calls, _ := os.ReadFile(log)
			name := "flowlab-" + filepath.Base(dir)
			var want strings.Builder
			for k := 0; k < len(tc.calls); k += 2 {
				if tc.calls[k+1] == "collect" {
					fmt.Fprintf(&want, "--parsable %s--job-name=%s-collect --output=%s %s\n", tc.calls[k], name, filepath.Join(dir, "slurm", "collect-%j.out"), filepath.Join(dir, "slurm", "collect.sbatch"))
					continue
				}
				fmt.Fprintf(&want, "--parsable %s--job-name=%s --output=%s %s\n", tc.calls[k], name, filepath.Join(dir, "slurm", "cell-%A_%a.out"), filepath.Join(dir, "slurm", tc.calls[k+1]+".sbatch"))
			}
			if string(calls) != want.String() {
				t.Errorf("sbatch calls:\n%s\nwant:\n%s", calls, want.String())
			}
			if tc.output != nil && out.String() != strings.Join(tc.output, "") {
				t.Errorf("printed:\n%s\nwant:\n%s", out.String(), strings.Join(tc.output, ""))
			}
		})
	}
}

func TestSubmitSlurmNoSbatch(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := submitSlurm(context.Background(), new(bytes.Buffer), t.TempDir(), plainPlan(1), []int{0}, slurmOptions{cpus: 1, flowlab: "/bin/flowlab"})
	var ue usageError
	if !errors.Is(err, errNoSbatch) || !errors.As(err, &ue) {
		t.Fatalf("got %v, want a usage error naming sbatch", err)
	}
}

func TestSubmitSlurmDryRun(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no sbatch needed
	var out bytes.Buffer
	dir := t.TempDir()
	if err := submitSlurm(context.Background(), &out, dir, plainPlan(2), []int{0, 1}, slurmOptions{cpus: 1, dryRun: true, flowlab: "/bin/flowlab"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "#SBATCH --array=0-1\n") || !strings.Contains(out.String(), `"--dependency=afterok:${j0}"`) {
		t.Errorf("dry run printed:\n%s", out.String())
	}
}
