package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSlurmScripts(t *testing.T) {
	o := slurmOptions{partition: "cpu", time: "02:00:00", mem: "4G", cpus: 2, maxParallel: 3, flowlab: "/opt/flow lab/flowlab"}
	array, collect := slurmScripts("/scratch/it's", []int{0, 1, 2, 5}, o)
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

// TestSubmitSlurm runs submitSlurm against a fake sbatch that records its
// arguments and answers job ids as Slurm's --parsable does.
func TestSubmitSlurm(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	fake := "#!/bin/sh\necho \"$@\" >> " + log + "\nn=$(wc -l < " + log + ")\necho \"$((41 + n));cluster\"\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	var out bytes.Buffer
	if err := submitSlurm(context.Background(), &out, dir, []int{0, 1, 2, 3}, slurmOptions{cpus: 1, maxParallel: 2, flowlab: "/bin/flowlab"}); err != nil {
		t.Fatal(err)
	}
	calls, _ := os.ReadFile(log)
	name := "flowlab-" + filepath.Base(dir)
	want := "--parsable --job-name=" + name + " --output=" + filepath.Join(dir, "slurm", "cell-%A_%a.out") + " " + filepath.Join(dir, "slurm", "array.sbatch") + "\n" +
		"--parsable --dependency=afterok:42 --kill-on-invalid-dep=yes --job-name=" + name + "-collect --output=" + filepath.Join(dir, "slurm", "collect-%j.out") + " " + filepath.Join(dir, "slurm", "collect.sbatch") + "\n"
	if string(calls) != want {
		t.Errorf("sbatch calls:\n%s\nwant:\n%s", calls, want)
	}
	if !strings.Contains(out.String(), "array job 42") || !strings.Contains(out.String(), "collect job 43") {
		t.Errorf("printed %q", out.String())
	}
}

func TestSubmitSlurmNoSbatch(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := submitSlurm(context.Background(), new(bytes.Buffer), t.TempDir(), []int{0}, slurmOptions{cpus: 1, flowlab: "/bin/flowlab"})
	var ue usageError
	if !errors.Is(err, errNoSbatch) || !errors.As(err, &ue) {
		t.Fatalf("got %v, want a usage error naming sbatch", err)
	}
}

func TestSubmitSlurmDryRun(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no sbatch needed
	var out bytes.Buffer
	dir := t.TempDir()
	if err := submitSlurm(context.Background(), &out, dir, []int{0, 1}, slurmOptions{cpus: 1, dryRun: true, flowlab: "/bin/flowlab"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "#SBATCH --array=0-1\n") || !strings.Contains(out.String(), "--dependency=afterok:JOBID") {
		t.Errorf("dry run printed:\n%s", out.String())
	}
}
