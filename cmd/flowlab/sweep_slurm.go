package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/sweep"
)

// slurmOptions are the flags of flowlab sweep slurm.
type slurmOptions struct {
	partition, time, mem string
	cpus, maxParallel    int
	dryRun               bool
	flowlab              string // the flowlab binary the tasks run (absolute)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// slurmScripts returns the array job's and the collect job's sbatch scripts
// for the cells idx of the plan in dir (absolute). Paths (the folder, the
// logs) are not in #SBATCH lines, which Slurm does not unquote: sbatchArgs
// passes them on the command line.
func slurmScripts(dir string, idx []int, o slurmOptions) (array, collect string) {
	var common strings.Builder
	if o.partition != "" {
		fmt.Fprintf(&common, "#SBATCH --partition=%s\n", o.partition)
	}
	if o.time != "" {
		fmt.Fprintf(&common, "#SBATCH --time=%s\n", o.time)
	}
	if o.mem != "" {
		fmt.Fprintf(&common, "#SBATCH --mem=%s\n", o.mem)
	}
	list := sweep.ArrayList(idx)
	if o.maxParallel > 0 {
		list += fmt.Sprintf("%%%d", o.maxParallel)
	}
	array = fmt.Sprintf(`#!/bin/bash
#SBATCH --array=%s
#SBATCH --cpus-per-task=%d
%s# One task a cell: flowlab sweep run reads the cell's index from
# SLURM_ARRAY_TASK_ID, skips a finished cell and resumes an interrupted one.
set -eu
export GOMAXPROCS="${SLURM_CPUS_PER_TASK:-%d}"
exec %s sweep run %s
`, list, o.cpus, common.String(), o.cpus, shellQuote(o.flowlab), shellQuote(dir))
	collect = fmt.Sprintf(`#!/bin/bash
#SBATCH --cpus-per-task=1
%sset -eu
exec %s sweep collect %s
`, common.String(), shellQuote(o.flowlab), shellQuote(dir))
	return array, collect
}

// sbatchArgs are the options given to sbatch on its command line for the
// array job (collect false) or the collect job: the job name and the log
// file, both made from the plan folder's path.
func sbatchArgs(dir string, collect bool) []string {
	name, log := "flowlab-"+filepath.Base(dir), filepath.Join(dir, "slurm", "cell-%A_%a.out")
	if collect {
		name, log = name+"-collect", filepath.Join(dir, "slurm", "collect-%j.out")
	}
	return []string{"--job-name=" + name, "--output=" + log}
}

// errNoSbatch is wrapped when sbatch cannot be found.
var errNoSbatch = errors.New("sbatch not found on PATH")

// submitSlurm writes the scripts into dir/slurm and, unless dryRun, submits
// the array and a collect job that waits for it (afterok; Slurm cancels it
// when a task fails, so it never waits forever). It prints the
// scripts and commands (dry run) or the job ids.
func submitSlurm(ctx context.Context, w io.Writer, dir string, idx []int, o slurmOptions) error {
	array, collect := slurmScripts(dir, idx, o)
	sdir := filepath.Join(dir, "slurm")
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return err
	}
	arrayPath, collectPath := filepath.Join(sdir, "array.sbatch"), filepath.Join(sdir, "collect.sbatch")
	for path, text := range map[string]string{arrayPath: array, collectPath: collect} {
		if err := atomicfile.WriteBytes(path, []byte(text)); err != nil {
			return err
		}
	}
	arrayArgs, collectArgs := sbatchArgs(dir, false), sbatchArgs(dir, true)
	if o.dryRun {
		quote := func(args []string) string {
			q := make([]string, len(args))
			for i, a := range args {
				q[i] = shellQuote(a)
			}
			return strings.Join(q, " ")
		}
		fmt.Fprintf(w, "# %s\n%s\n# %s\n%s\n# commands:\nsbatch --parsable %s %s\nsbatch --parsable --dependency=afterok:JOBID --kill-on-invalid-dep=yes %s %s\n",
			arrayPath, array, collectPath, collect, quote(arrayArgs), shellQuote(arrayPath), quote(collectArgs), shellQuote(collectPath))
		return nil
	}
	sbatch, err := exec.LookPath("sbatch")
	if err != nil {
		return usagef("sweep slurm: %w: run it where Slurm's client commands are installed (a login node), or use flowlab sweep local %s", errNoSbatch, dir)
	}
	job, err := sbatchRun(ctx, sbatch, append(arrayArgs, arrayPath)...)
	if err != nil {
		return err
	}
	cjob, err := sbatchRun(ctx, sbatch, append(append([]string{"--dependency=afterok:" + job, "--kill-on-invalid-dep=yes"}, collectArgs...), collectPath)...)
	if err != nil {
		return fmt.Errorf("%w (the array job %s was submitted; collect by hand with flowlab sweep collect %s once it ends)", err, job, dir)
	}
	fmt.Fprintf(w, "submitted array job %s: %d cells (--array=%s), and collect job %s (afterok:%s)\n", job, len(idx), sweep.ArrayList(idx), cjob, job)
	return nil
}

// sbatchRun runs sbatch --parsable args and returns the job id.
func sbatchRun(ctx context.Context, sbatch string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, sbatch, append([]string{"--parsable"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sbatch %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	// --parsable prints "jobid" or "jobid;cluster".
	id, _, _ := strings.Cut(strings.TrimSpace(out.String()), ";")
	if id == "" {
		return "", fmt.Errorf("sbatch %s printed no job id", strings.Join(args, " "))
	}
	return id, nil
}
