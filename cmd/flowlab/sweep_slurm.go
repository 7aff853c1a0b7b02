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
	"slices"
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

// arrayScript is the sbatch script of an array job over the cells idx of
// the plan in dir (absolute), and collectScript the collect job's. Paths
// (the folder, the logs) are not in #SBATCH lines, which Slurm does not
// unquote: sbatchArgs passes them on the command line.
func arrayScript(dir string, idx []int, o slurmOptions) string {
	list := sweep.ArrayList(idx)
	if o.maxParallel > 0 {
		list += fmt.Sprintf("%%%d", o.maxParallel)
	}
	return fmt.Sprintf(`#!/bin/bash
#SBATCH --array=%s
#SBATCH --cpus-per-task=%d
%s# One task a cell: flowlab sweep run reads the cell's index from
# SLURM_ARRAY_TASK_ID, skips a finished cell and resumes an interrupted one.
set -eu
export GOMAXPROCS="${SLURM_CPUS_PER_TASK:-%d}"
exec %s sweep run %s
`, list, o.cpus, slurmCommon(o), o.cpus, shellQuote(o.flowlab), shellQuote(dir))
}

// collectScript is the collect job's sbatch script (see arrayScript).
func collectScript(dir string, o slurmOptions) string {
	return fmt.Sprintf(`#!/bin/bash
#SBATCH --cpus-per-task=1
%sset -eu
exec %s sweep collect %s
`, slurmCommon(o), shellQuote(o.flowlab), shellQuote(dir))
}

// slurmCommon is the #SBATCH lines every job of a sweep shares.
func slurmCommon(o slurmOptions) string {
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
	return common.String()
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

// slurmJob is one sbatch submission of a sweep: its script file and text,
// its command-line options, and the jobs it waits for (afterok), named by
// their place in the submission order and an array task (-1: the whole
// job).
type slurmJob struct {
	path, script, what string
	args               []string
	cells              []int
	after              []slurmDep
}

type slurmDep struct{ job, task int }

// slurmJobs is the submission for the cells idx of plan p in dir: an array
// of the cells that read no other cell's result; an array of those that do
// (Cell.Needs), each waiting for the tasks of the first array that it
// reads; and the collect job, waiting for both.
func slurmJobs(dir string, p *sweep.Plan, idx []int, o slurmOptions) []slurmJob {
	var first, later []int
	for _, i := range idx {
		if len(p.Cells[i].Needs) > 0 {
			later = append(later, i)
		} else {
			first = append(first, i)
		}
	}
	sdir := filepath.Join(dir, "slurm")
	var jobs []slurmJob
	var all []slurmDep
	if len(first) > 0 {
		jobs = append(jobs, slurmJob{path: filepath.Join(sdir, "array.sbatch"), script: arrayScript(dir, first, o), what: "cells", args: sbatchArgs(dir, false), cells: first})
		all = append(all, slurmDep{0, -1})
	}
	if len(later) > 0 {
		j := slurmJob{path: filepath.Join(sdir, "array-after.sbatch"), script: arrayScript(dir, later, o), what: "cells that read others' results", args: sbatchArgs(dir, false), cells: later}
		seen := map[int]bool{}
		for _, i := range later {
			for _, n := range p.Cells[i].Needs {
				if !seen[n] && slices.Contains(first, n) {
					seen[n] = true
					j.after = append(j.after, slurmDep{0, n})
				}
			}
		}
		slices.SortFunc(j.after, func(a, b slurmDep) int { return a.task - b.task })
		all = append(all, slurmDep{len(jobs), -1})
		jobs = append(jobs, j)
	}
	return append(jobs, slurmJob{path: filepath.Join(sdir, "collect.sbatch"), script: collectScript(dir, o), what: "collect", args: sbatchArgs(dir, true), after: all})
}

// dependency is sbatch's --dependency option for deps, the jobs named by
// ids (in submission order); "" for none.
func dependency(deps []slurmDep, ids []string) string {
	if len(deps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("--dependency=afterok")
	for _, d := range deps {
		b.WriteString(":" + ids[d.job])
		if d.task >= 0 {
			fmt.Fprintf(&b, "_%d", d.task)
		}
	}
	return b.String()
}

// submitSlurm writes the scripts into dir/slurm and, unless dryRun, submits
// the arrays and a collect job that waits for them (afterok; Slurm cancels
// a job whose dependency fails, so none waits forever). It prints the
// scripts and commands (dry run) or the job ids.
func submitSlurm(ctx context.Context, w io.Writer, dir string, p *sweep.Plan, idx []int, o slurmOptions) error {
	jobs := slurmJobs(dir, p, idx, o)
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		return err
	}
	for _, j := range jobs {
		if err := atomicfile.WriteBytes(j.path, []byte(j.script)); err != nil {
			return err
		}
	}
	command := func(j slurmJob, ids []string) []string {
		var args []string
		if d := dependency(j.after, ids); d != "" {
			args = append(args, d, "--kill-on-invalid-dep=yes")
		}
		return append(append(args, j.args...), j.path)
	}
	if o.dryRun {
		// commands a shell can run: job k's id in $jk, cut from --parsable's
		// "id;cluster"
		var cmds strings.Builder
		ids := make([]string, len(jobs))
		for k, j := range jobs {
			ids[k] = fmt.Sprintf("${j%d}", k)
			fmt.Fprintf(w, "# %s\n%s\n", j.path, j.script)
			q := []string{"sbatch", "--parsable"}
			for _, a := range command(j, ids) {
				if strings.Contains(a, "${j") {
					q = append(q, `"`+a+`"`) // digits, '_', ':' and the ids: nothing else to quote
				} else {
					q = append(q, shellQuote(a))
				}
			}
			fmt.Fprintf(&cmds, "j%d=$(%s | cut -d';' -f1)\n", k, strings.Join(q, " "))
		}
		fmt.Fprintf(w, "# commands:\n%s", cmds.String())
		return nil
	}
	sbatch, err := exec.LookPath("sbatch")
	if err != nil {
		return usagef("sweep slurm: %w: run it where Slurm's client commands are installed (a login node), or use flowlab sweep local %s", errNoSbatch, dir)
	}
	var ids []string
	for _, j := range jobs {
		id, err := sbatchRun(ctx, sbatch, command(j, ids)...)
		if err != nil {
			if len(ids) > 0 {
				err = fmt.Errorf("%w (jobs %s were submitted: cancel them with scancel, or let them run and collect by hand with flowlab sweep collect %s)", err, strings.Join(ids, ", "), dir)
			}
			return err
		}
		ids = append(ids, id)
		after := ""
		if d := dependency(j.after, ids); d != "" {
			after = " (" + strings.TrimPrefix(d, "--dependency=") + ")"
		}
		if j.cells == nil {
			fmt.Fprintf(w, "submitted collect job %s%s\n", id, after)
		} else {
			fmt.Fprintf(w, "submitted array job %s: %d %s (--array=%s)%s\n", id, len(j.cells), j.what, sweep.ArrayList(j.cells), after)
		}
	}
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
